//! Where init files go, which init system a machine runs, and everything else
//! `service` needs to know about the target system. Every path is looked up
//! under a root prefix (`--root`), so tests and packagers can install into a
//! scratch tree.

use super::template::{InitSystem, Scope};
use std::path::{Path, PathBuf};

/// What one `zeroclaw service ...` invocation acts on.
#[derive(Debug, Clone)]
pub struct Plan {
    pub init: InitSystem,
    pub scope: Scope,
    /// The binary the service runs (absolute, on the target system).
    pub binary: PathBuf,
    /// The config the service reads (absolute, on the target system).
    pub config: PathBuf,
    /// Prefix of every path read or written; `/` normally.
    pub root: PathBuf,
    /// `$XDG_CONFIG_HOME` (or `~/.config`) of the invoking user, for `--user`.
    pub config_home: PathBuf,
    /// Login name of the invoking user, for the linger check of `--user`.
    pub user: Option<String>,
}

impl Plan {
    /// The file's path on the target system (what the follow-up commands name).
    pub fn path(&self) -> PathBuf {
        match (self.init, self.scope) {
            (InitSystem::Systemd, Scope::System) => {
                PathBuf::from("/etc/systemd/system/zeroclaw.service")
            }
            (InitSystem::Systemd, Scope::User) => {
                self.config_home.join("systemd/user/zeroclaw.service")
            }
            (InitSystem::Openrc, _) => PathBuf::from("/etc/init.d/zeroclaw"),
        }
    }

    /// Where the file is read and written here: [`Plan::path`] under the root.
    pub fn on_disk(&self) -> PathBuf {
        self.rooted(&self.path())
    }

    /// Any target-system path under the root.
    pub fn rooted(&self, path: &Path) -> PathBuf {
        rooted(&self.root, path)
    }

    /// Permission bits of the file: scripts must be executable.
    pub fn mode(&self) -> u32 {
        match self.init {
            InitSystem::Systemd => 0o644,
            InitSystem::Openrc => 0o755,
        }
    }

    /// Symlinks that enable the service at boot (`systemctl enable`,
    /// `rc-update add`), found under the root.
    pub fn enablement_links(&self) -> Vec<PathBuf> {
        let (dir, name) = match (self.init, self.scope) {
            (InitSystem::Systemd, Scope::System) => {
                (PathBuf::from("/etc/systemd/system"), "zeroclaw.service")
            }
            (InitSystem::Systemd, Scope::User) => {
                (self.config_home.join("systemd/user"), "zeroclaw.service")
            }
            (InitSystem::Openrc, _) => (PathBuf::from("/etc/runlevels"), "zeroclaw"),
        };
        let Ok(entries) = std::fs::read_dir(self.rooted(&dir)) else {
            return Vec::new();
        };
        let mut links: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path().join(name))
            .filter(|p| {
                p.symlink_metadata()
                    .is_ok_and(|m| m.file_type().is_symlink())
            })
            .collect();
        links.sort();
        links
    }

    /// `loginctl enable-linger` leaves this file; without it a user's services
    /// stop when their last session ends and do not start at boot.
    pub fn linger_enabled(&self) -> Option<bool> {
        let user = self.user.as_deref()?;
        Some(
            self.rooted(Path::new("/var/lib/systemd/linger"))
                .join(user)
                .exists(),
        )
    }

    /// Whether the `zeroclaw` account the system service runs as exists;
    /// `None` when that cannot be told.
    pub fn service_account_exists(&self) -> Option<bool> {
        if self.root == Path::new("/") {
            // Through NSS, so LDAP and friends count too.
            return nix::unistd::User::from_name("zeroclaw")
                .ok()
                .map(|u| u.is_some());
        }
        let passwd = std::fs::read_to_string(self.rooted(Path::new("/etc/passwd"))).ok()?;
        Some(passwd.lines().any(|l| l.starts_with("zeroclaw:")))
    }
}

/// `path` (absolute on the target system) under `root`.
pub fn rooted(root: &Path, path: &Path) -> PathBuf {
    match path.strip_prefix("/") {
        Ok(rel) => root.join(rel),
        Err(_) => root.join(path),
    }
}

/// systemd when it is running (`/run/systemd/system`, the test
/// `sd_booted()` makes), OpenRC when its runner is installed, else systemd.
pub fn detect_init(root: &Path) -> InitSystem {
    if rooted(root, Path::new("/run/systemd/system")).is_dir() {
        InitSystem::Systemd
    } else if rooted(root, Path::new("/sbin/openrc-run")).exists() {
        InitSystem::Openrc
    } else {
        InitSystem::Systemd
    }
}

/// The config a service reads when `--config` is not given: for a system
/// service the FHS place, for a user service the file every other
/// `zeroclaw` command reads by default, so `zeroclaw status` finds it.
pub fn default_config(scope: Scope) -> PathBuf {
    match scope {
        Scope::System => PathBuf::from("/etc/zeroclaw/config.toml"),
        Scope::User => crate::config::default_path(),
    }
}

/// The plan the unit tests of the service modules start from: an installed
/// binary, the FHS config and user `ann`, with every path under `root`.
#[cfg(test)]
pub(crate) fn test_plan(root: &Path, init: InitSystem, scope: Scope) -> Plan {
    Plan {
        init,
        scope,
        binary: "/usr/bin/zeroclaw".into(),
        config: "/etc/zeroclaw/config.toml".into(),
        root: root.to_path_buf(),
        config_home: "/home/ann/.config".into(),
        user: Some("ann".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use test_plan as plan;

    #[test]
    fn paths_are_prefixed_by_the_root() {
        let root = Path::new("/tmp/r");
        let p = plan(root, InitSystem::Systemd, Scope::System);
        assert_eq!(
            p.on_disk(),
            Path::new("/tmp/r/etc/systemd/system/zeroclaw.service")
        );
        let p = plan(root, InitSystem::Systemd, Scope::User);
        assert_eq!(
            p.on_disk(),
            Path::new("/tmp/r/home/ann/.config/systemd/user/zeroclaw.service")
        );
        let p = plan(root, InitSystem::Openrc, Scope::System);
        assert_eq!(p.on_disk(), Path::new("/tmp/r/etc/init.d/zeroclaw"));
        assert_eq!(p.mode(), 0o755);
    }

    #[test]
    fn detection_prefers_a_running_systemd() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(detect_init(dir.path()), InitSystem::Systemd);
        std::fs::create_dir_all(dir.path().join("sbin")).unwrap();
        std::fs::write(dir.path().join("sbin/openrc-run"), "").unwrap();
        assert_eq!(detect_init(dir.path()), InitSystem::Openrc);
        std::fs::create_dir_all(dir.path().join("run/systemd/system")).unwrap();
        assert_eq!(detect_init(dir.path()), InitSystem::Systemd);
    }

    #[test]
    fn linger_links_and_accounts_are_read_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let p = plan(dir.path(), InitSystem::Systemd, Scope::System);
        assert_eq!(p.linger_enabled(), Some(false));
        assert_eq!(p.service_account_exists(), None);
        std::fs::create_dir_all(dir.path().join("var/lib/systemd/linger")).unwrap();
        std::fs::write(dir.path().join("var/lib/systemd/linger/ann"), "").unwrap();
        assert_eq!(p.linger_enabled(), Some(true));
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        assert_eq!(p.service_account_exists(), Some(false));
        std::fs::write(
            dir.path().join("etc/passwd"),
            "zeroclaw:x:999:999::/var/lib/zeroclaw:/usr/sbin/nologin\n",
        )
        .unwrap();
        assert_eq!(p.service_account_exists(), Some(true));

        assert!(p.enablement_links().is_empty());
        let wants = dir
            .path()
            .join("etc/systemd/system/multi-user.target.wants");
        std::fs::create_dir_all(&wants).unwrap();
        std::os::unix::fs::symlink(
            "/etc/systemd/system/zeroclaw.service",
            wants.join("zeroclaw.service"),
        )
        .unwrap();
        assert_eq!(p.enablement_links(), vec![wants.join("zeroclaw.service")]);
    }
}
