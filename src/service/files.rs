//! Writing, checking and removing the installed file. Nothing here runs
//! `systemctl` or `rc-update`: the operator does, from the printed follow-up.

use super::layout::Plan;
use super::template::{self, Ownership, TemplateError};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What can stop `service install|uninstall|status`.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("cannot {action} {}: {source}{}", .path.display(), permission_hint(.source))]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} already exists and differs from what `zeroclaw service install` would write \
         ({why}); compare with `zeroclaw service install --print`, or pass --force to replace it",
        .path.display()
    )]
    Differs { path: PathBuf, why: &'static str },
    #[error(
        "{} was not written by `zeroclaw service install` (no marker line); \
         remove it yourself, or pass --force",
        .path.display()
    )]
    NotOurs { path: PathBuf },
    #[error(
        "zeroclaw is still enabled ({links}); run `{disable}` first, or pass --force to remove \
         the links too"
    )]
    StillEnabled { links: String, disable: String },
}

fn permission_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        " (system-wide files need root: run with sudo, or use --user for a per-user unit)"
    } else {
        ""
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ServiceError {
    let path = path.to_path_buf();
    move |source| ServiceError::Io {
        action,
        path,
        source,
    }
}

/// The installed file compared with what `install` would write now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Present and identical.
    Installed,
    /// Present and different; see [`Ownership`] for who changed it.
    Modified(Ownership),
    Absent,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Installed => "installed",
            State::Modified(_) => "modified",
            State::Absent => "absent",
        }
    }

    /// One line saying why a present file differs.
    pub fn why(self) -> Option<&'static str> {
        match self {
            State::Modified(Ownership::Ours) => Some(
                "written by `zeroclaw service install` for another binary, config or version, \
                 not edited since",
            ),
            State::Modified(Ownership::OursEdited) => Some("edited since it was installed"),
            State::Modified(Ownership::Foreign) => {
                Some("not written by `zeroclaw service install`")
            }
            _ => None,
        }
    }
}

/// What `install` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallOutcome {
    Written,
    /// A different file was there and `--force` replaced it.
    Replaced,
    /// The same content was already there; nothing written.
    Unchanged,
}

impl InstallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallOutcome::Written => "written",
            InstallOutcome::Replaced => "replaced",
            InstallOutcome::Unchanged => "unchanged",
        }
    }
}

/// What `uninstall` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UninstallOutcome {
    Removed {
        /// The file was edited since install, or not ours (`--force`); removed all the same.
        modified: bool,
        /// Enablement symlinks removed with `--force`.
        links: Vec<PathBuf>,
    },
    NotInstalled,
}

/// The file as it would be written now.
pub fn rendered(plan: &Plan) -> Result<String, ServiceError> {
    Ok(template::render(
        plan.init,
        plan.scope,
        &plan.binary,
        &plan.config,
    )?)
}

fn read_existing(path: &Path) -> Result<Option<String>, ServiceError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// Compare the file on disk with what `install` would write.
pub fn status(plan: &Plan) -> Result<State, ServiceError> {
    let want = rendered(plan)?;
    Ok(state_of(read_existing(&plan.on_disk())?, &want))
}

fn state_of(existing: Option<String>, want: &str) -> State {
    match existing {
        None => State::Absent,
        Some(have) if have == want => State::Installed,
        Some(have) => State::Modified(template::ownership(&have)),
    }
}

/// Write the file unless a different one is there (then only with `force`).
pub fn install(plan: &Plan, force: bool) -> Result<InstallOutcome, ServiceError> {
    let want = rendered(plan)?;
    let path = plan.on_disk();
    let outcome = match state_of(read_existing(&path)?, &want) {
        State::Installed => return Ok(InstallOutcome::Unchanged),
        State::Absent => InstallOutcome::Written,
        state @ State::Modified(_) if !force => {
            return Err(ServiceError::Differs {
                path,
                why: state.why().unwrap_or("different content"),
            });
        }
        State::Modified(_) => InstallOutcome::Replaced,
    };
    write_atomically(&path, want.as_bytes(), plan.mode())?;
    Ok(outcome)
}

/// Remove the file if we wrote it. A service still enabled at boot is left
/// alone unless `force` (which removes the enablement links too), so no
/// dangling link points at a missing unit.
pub fn uninstall(plan: &Plan, force: bool) -> Result<UninstallOutcome, ServiceError> {
    let path = plan.on_disk();
    let Some(have) = read_existing(&path)? else {
        return Ok(UninstallOutcome::NotInstalled);
    };
    let ownership = template::ownership(&have);
    if ownership == Ownership::Foreign && !force {
        return Err(ServiceError::NotOurs { path });
    }
    let links = plan.enablement_links();
    if !links.is_empty() && !force {
        return Err(ServiceError::StillEnabled {
            links: links
                .iter()
                .map(|l| l.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            disable: super::advice::disable_command(plan),
        });
    }
    for link in &links {
        std::fs::remove_file(link).map_err(io("remove", link))?;
    }
    std::fs::remove_file(&path).map_err(io("remove", &path))?;
    Ok(UninstallOutcome::Removed {
        modified: ownership != Ownership::Ours,
        links,
    })
}

/// Write to a temporary file next to `path`, then rename it over: an
/// interrupted install never leaves half a unit behind.
fn write_atomically(path: &Path, content: &[u8], mode: u32) -> Result<(), ServiceError> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir).map_err(io("create directory", dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
        file.write_all(content).map_err(io("write", &tmp))?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io("set permissions of", &tmp))?;
        file.sync_all().map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, path).map_err(io("write", path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::layout::test_plan;
    use crate::service::template::{InitSystem, Scope};

    fn plan(root: &Path, init: InitSystem) -> Plan {
        test_plan(root, init, Scope::System)
    }

    #[test]
    fn install_is_idempotent_and_protects_edits() {
        let dir = tempfile::tempdir().unwrap();
        let p = plan(dir.path(), InitSystem::Openrc);
        assert_eq!(status(&p).unwrap(), State::Absent);
        assert_eq!(install(&p, false).unwrap(), InstallOutcome::Written);
        let meta = std::fs::metadata(p.on_disk()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        assert_eq!(status(&p).unwrap(), State::Installed);
        assert_eq!(install(&p, false).unwrap(), InstallOutcome::Unchanged);

        let edited = std::fs::read_to_string(p.on_disk())
            .unwrap()
            .replace("respawn_max=5", "respawn_max=9");
        std::fs::write(p.on_disk(), &edited).unwrap();
        assert_eq!(status(&p).unwrap(), State::Modified(Ownership::OursEdited));
        let err = install(&p, false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read_to_string(p.on_disk()).unwrap(), edited);
        assert_eq!(install(&p, true).unwrap(), InstallOutcome::Replaced);
        assert_eq!(status(&p).unwrap(), State::Installed);

        let other = Plan {
            config: "/srv/other.toml".into(),
            ..p.clone()
        };
        assert_eq!(status(&other).unwrap(), State::Modified(Ownership::Ours));
        assert!(install(&other, false).is_err());
    }

    #[test]
    fn uninstall_removes_only_our_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = plan(dir.path(), InitSystem::Systemd);
        assert_eq!(
            uninstall(&p, false).unwrap(),
            UninstallOutcome::NotInstalled
        );

        std::fs::create_dir_all(p.on_disk().parent().unwrap()).unwrap();
        std::fs::write(p.on_disk(), template::SYSTEMD_TEMPLATE).unwrap();
        assert!(matches!(
            uninstall(&p, false),
            Err(ServiceError::NotOurs { .. })
        ));
        assert!(p.on_disk().exists());

        install(&p, true).unwrap();
        let wants = dir
            .path()
            .join("etc/systemd/system/multi-user.target.wants");
        std::fs::create_dir_all(&wants).unwrap();
        let link = wants.join("zeroclaw.service");
        std::os::unix::fs::symlink("/etc/systemd/system/zeroclaw.service", &link).unwrap();
        let err = uninstall(&p, false).unwrap_err();
        assert!(
            err.to_string().contains("systemctl disable --now zeroclaw"),
            "{err}"
        );
        assert!(p.on_disk().exists());
        assert_eq!(
            uninstall(&p, true).unwrap(),
            UninstallOutcome::Removed {
                modified: false,
                links: vec![link.clone()]
            }
        );
        assert!(!p.on_disk().exists());
        assert!(link.symlink_metadata().is_err());
    }

    #[test]
    fn unwritable_target_names_the_path_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the directory should be.
        std::fs::write(dir.path().join("etc"), "").unwrap();
        let p = plan(dir.path(), InitSystem::Systemd);
        let err = install(&p, false).unwrap_err().to_string();
        assert!(
            err.contains(&dir.path().join("etc").display().to_string()),
            "{err}"
        );
    }
}
