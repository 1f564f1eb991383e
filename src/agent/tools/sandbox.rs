//! Kernel confinement of each shell command (docs/security.md, "Shell tool
//! sandbox"): Landlock grants read-write access to the tool's workdir and
//! read-only access to what programs need, and nothing else; the command has
//! no capabilities and no way to gain privileges.
//!
//! The ruleset is built in the daemon before the fork (opening the granted
//! paths allocates and takes file descriptors). Between fork and exec the
//! child only runs [`Confinement::enter`]: `prctl`, `landlock_restrict_self`,
//! `capset` and a `close`, all system calls, no allocation and no lock, which
//! is what is safe in the child of a multi-threaded process.

use crate::config::ShellSandbox;
use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The newest Landlock ABI this code knows: rights a kernel lacks (ABI 9's
/// pathname-socket connect, for one) are left out there, the rest enforced.
const TARGET_ABI: ABI = ABI::V9;

/// Read and execute: programs and their libraries.
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];

/// Read only, one by one: /etc as a whole holds secrets (shadow, SSH host
/// keys, TLS private keys, other services' configs, maybe ours).
const ETC_FILES: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/os-release",
    "/etc/lsb-release",
    "/etc/debian_version",
    "/etc/mtab",
    "/etc/locale.alias",
    "/etc/locale.conf",
    "/etc/default/locale",
    "/etc/terminfo",
    "/etc/alternatives",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/etc/magic",
    "/etc/mime.types",
    "/etc/inputrc",
];

/// Read only: `free`, `uptime`, `df` read /proc (docs/security.md says what
/// else it shows); the user count of `uptime`; harmless devices.
const READ_ONLY: &[&str] = &[
    "/proc",
    "/run/utmp",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
    "/dev/full",
];

/// Read and write: the one device every shell script writes to.
const READ_WRITE: &[&str] = &["/dev/null"];

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SandboxError {
    #[error(
        "the shell tool is refused: this kernel has no Landlock ({0}), so commands would run \
         unconfined; upgrade the kernel or enable Landlock, or set `[tools.shell] sandbox = \"off\"` \
         to run them anyway (docs/security.md)"
    )]
    Unavailable(String),
    #[error(
        "the shell tool is refused: the {what} {path} lies inside {granted}, which commands may \
         read; set `[tools.shell] workdir` to a directory that holds none of zeroclaw's files"
    )]
    Exposed {
        what: &'static str,
        path: String,
        granted: String,
    },
    #[error("the shell tool cannot build its Landlock sandbox: {0}")]
    Ruleset(String),
}

/// What the running kernel offers, probed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    Landlock { abi: i64 },
    Unavailable(String),
}

/// The kernel's Landlock ABI, asked with the documented version query.
pub fn support() -> Support {
    static SUPPORT: OnceLock<Support> = OnceLock::new();
    SUPPORT
        .get_or_init(|| {
            // SAFETY: LANDLOCK_CREATE_RULESET_VERSION with a null attribute and
            // size 0 reads no memory; it returns the ABI version or -1.
            let v = unsafe {
                nix::libc::syscall(
                    nix::libc::SYS_landlock_create_ruleset,
                    std::ptr::null::<nix::libc::c_void>(),
                    0usize,
                    1u32,
                )
            };
            if v >= 1 {
                return Support::Landlock { abi: v };
            }
            let e = std::io::Error::last_os_error();
            Support::Unavailable(match e.raw_os_error() {
                Some(nix::libc::ENOSYS) => "the kernel is built without it".into(),
                Some(nix::libc::EOPNOTSUPP) => {
                    "it is not enabled at boot: add `landlock` to the `lsm=` kernel parameter"
                        .into()
                }
                _ => e.to_string(),
            })
        })
        .clone()
}

/// One line for the start-up log and `doctor`: `(fine, text)`.
pub fn describe(mode: ShellSandbox) -> (bool, String) {
    match (mode, support()) {
        (ShellSandbox::Landlock, Support::Landlock { abi }) => (
            true,
            format!("Landlock ABI {abi}: commands confined to the workdir"),
        ),
        (ShellSandbox::Landlock, Support::Unavailable(why)) => (
            false,
            format!(
                "Landlock unavailable ({why}): the shell tool refuses to run; set \
                 `[tools.shell] sandbox = \"off\"` to run commands unconfined"
            ),
        ),
        (ShellSandbox::Off, _) => (
            false,
            "sandbox = \"off\": commands run without Landlock".into(),
        ),
    }
}

/// Files of the daemon no command may read, registered at start (the
/// config file, state dir, log file, pid file: CLI flags can move them).
static PROTECTED: Mutex<Vec<(&'static str, PathBuf)>> = Mutex::new(Vec::new());

/// Replace the list of the daemon's own files.
pub fn protect(paths: Vec<(&'static str, PathBuf)>) {
    match PROTECTED.lock() {
        Ok(mut p) => *p = paths,
        Err(poisoned) => *poisoned.into_inner() = paths,
    }
}

fn protected() -> Vec<(&'static str, PathBuf)> {
    match PROTECTED.lock() {
        Ok(p) => p.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// The path with symlinks resolved as far as it exists.
fn resolve(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => resolve(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// Refuse a policy under which a command could read one of the daemon's files.
pub fn check_exposure(workdir: &Path) -> Result<(), SandboxError> {
    let granted: Vec<PathBuf> = std::iter::once(workdir.to_path_buf())
        .chain(
            SYSTEM_DIRS
                .iter()
                .chain(ETC_FILES)
                .chain(READ_ONLY)
                .map(PathBuf::from),
        )
        .filter_map(|g| g.canonicalize().ok())
        .collect();
    for (what, path) in protected() {
        let real = resolve(&path);
        if let Some(g) = granted.iter().find(|g| real.starts_with(g)) {
            return Err(SandboxError::Exposed {
                what,
                path: path.display().to_string(),
                granted: g.display().to_string(),
            });
        }
    }
    Ok(())
}

/// What the child applies to itself between fork and exec.
pub struct Confinement {
    ruleset: Option<RulesetCreated>,
    /// Landlock is to be entered: a ruleset already used is an error, never
    /// a silent unconfined run.
    landlock: bool,
}

impl std::fmt::Debug for Confinement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confinement")
            .field("landlock", &self.ruleset.is_some())
            .finish()
    }
}

impl Confinement {
    /// The confinement `mode` asks for with `workdir` writable.
    pub fn new(mode: ShellSandbox, workdir: &Path) -> Result<Self, SandboxError> {
        Self::on(support(), mode, workdir, &ExtraPaths::default())
    }

    /// As [`Confinement::new`], with `extra` paths granted besides the
    /// workdir (an MCP server's own code and data, as its config lists them).
    pub fn with_extra(
        mode: ShellSandbox,
        workdir: &Path,
        extra: &ExtraPaths,
    ) -> Result<Self, SandboxError> {
        Self::on(support(), mode, workdir, extra)
    }

    /// As [`Confinement::with_extra`] on a kernel that offers `kernel`.
    fn on(
        kernel: Support,
        mode: ShellSandbox,
        workdir: &Path,
        extra: &ExtraPaths,
    ) -> Result<Self, SandboxError> {
        if mode == ShellSandbox::Off {
            return Ok(Self {
                ruleset: None,
                landlock: false,
            });
        }
        if let Support::Unavailable(why) = kernel {
            return Err(SandboxError::Unavailable(why));
        }
        check_exposure(workdir)?;
        for path in extra.read.iter().chain(&extra.write) {
            check_exposure(path)?;
        }
        let ruleset = build(workdir, extra).map_err(|e| SandboxError::Ruleset(e.to_string()))?;
        Ok(Self {
            ruleset: Some(ruleset),
            landlock: true,
        })
    }

    /// In the child, between fork and exec: no new privileges, Landlock, no
    /// capabilities. System calls only (see the module doc).
    pub fn enter(&mut self) -> std::io::Result<()> {
        match self.ruleset.take() {
            Some(ruleset) => match ruleset.restrict_self() {
                Ok(status) if status.ruleset != RulesetStatus::NotEnforced => {}
                Ok(_) => return Err(std::io::Error::from_raw_os_error(nix::libc::ENOSYS)),
                Err(_) => return Err(std::io::Error::from_raw_os_error(nix::libc::EPERM)),
            },
            None if self.landlock => {
                return Err(std::io::Error::from_raw_os_error(nix::libc::EINVAL));
            }
            None => nix::sys::prctl::set_no_new_privs()?,
        }
        drop_capabilities()
    }
}

/// Paths granted besides the workdir: `read` (and execute), `write`
/// (read-write, no execute, like the workdir).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraPaths {
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
}

fn build(workdir: &Path, extra: &ExtraPaths) -> Result<RulesetCreated, landlock::RulesetError> {
    let all = AccessFs::from_all(TARGET_ABI);
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    landlock::Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(all)?
        .scope(Scope::from_all(TARGET_ABI))?
        .create()?
        // Nothing written there can be executed.
        .add_rules(path_beneath_rules([workdir], all & !AccessFs::Execute))?
        .add_rules(path_beneath_rules(
            SYSTEM_DIRS,
            AccessFs::from_read(TARGET_ABI),
        ))?
        .add_rules(path_beneath_rules(ETC_FILES.iter().chain(READ_ONLY), read))?
        .add_rules(path_beneath_rules(
            READ_WRITE,
            AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate,
        ))?
        .add_rules(path_beneath_rules(
            &extra.read,
            AccessFs::from_read(TARGET_ABI),
        ))?
        .add_rules(path_beneath_rules(&extra.write, all & !AccessFs::Execute))
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Empty every capability set: a daemon running as root does not hand
/// `hostname`, `date -s` or a bypass of file permissions to the model. With
/// no-new-privileges set first, exec cannot give them back.
fn drop_capabilities() -> std::io::Result<()> {
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData::default(); 2];
    // SAFETY: capset(2) version 3 reads one header and two data structs,
    // both alive for the duration of the call.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_capset,
            &header as *const CapHeader,
            data.as_ptr(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_kernel_offers_landlock() {
        // The project's machines run ABI 7; a kernel without Landlock fails
        // here so that nobody mistakes an unconfined run for a confined one.
        match support() {
            Support::Landlock { abi } => assert!(abi >= 1, "{abi}"),
            Support::Unavailable(why) => panic!("no Landlock on this machine: {why}"),
        }
    }

    #[test]
    fn without_landlock_only_an_explicit_off_runs() {
        let dir = tempfile::tempdir().unwrap();
        let none = || Support::Unavailable("the kernel is built without it".into());
        let err = Confinement::on(
            none(),
            ShellSandbox::Landlock,
            dir.path(),
            &ExtraPaths::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("sandbox = \"off\"") && err.to_string().contains("refused"),
            "{err}"
        );
        let off = Confinement::on(
            none(),
            ShellSandbox::Off,
            dir.path(),
            &ExtraPaths::default(),
        )
        .unwrap();
        assert!(off.ruleset.is_none());
        let on = Confinement::on(
            support(),
            ShellSandbox::Landlock,
            dir.path(),
            &ExtraPaths::default(),
        )
        .unwrap();
        assert!(on.ruleset.is_some());
    }

    #[test]
    fn a_protected_file_inside_the_workdir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("config.toml");
        protect(vec![("config file", inside.clone())]);
        let err = check_exposure(dir.path()).unwrap_err();
        assert!(
            matches!(
                &err,
                SandboxError::Exposed {
                    what: "config file",
                    ..
                }
            ),
            "{err}"
        );
        protect(vec![("config file", PathBuf::from("/nonexistent/zc.toml"))]);
        assert_eq!(check_exposure(dir.path()), Ok(()));
        protect(Vec::new());
    }
}
