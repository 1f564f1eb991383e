//! Rendering the shipped init files with real paths.
//!
//! The files in `systemd/` and `openrc/` are embedded as they are and only
//! their placeholder paths are replaced, so what `zeroclaw service install`
//! writes cannot drift from what the repository ships. A marker line with a
//! checksum of the rest of the file lets `uninstall` and `status` recognise a
//! file we wrote and tell whether someone edited it since.

use sha2::{Digest, Sha256};
use std::path::Path;

/// `systemd/zeroclaw.service`, as shipped.
pub const SYSTEMD_TEMPLATE: &str = include_str!("../../systemd/zeroclaw.service");
/// `openrc/zeroclaw`, as shipped.
pub const OPENRC_TEMPLATE: &str = include_str!("../../openrc/zeroclaw");
/// The binary path written in both templates.
pub const TEMPLATE_BINARY: &str = "/usr/local/bin/zeroclaw";
/// The config path in the shipped systemd unit (the seed's).
pub const SYSTEMD_TEMPLATE_CONFIG: &str = "/opt/zeroclaw/config.toml";
/// The config path in the shipped OpenRC script (the seed's).
pub const OPENRC_TEMPLATE_CONFIG: &str = "/etc/zeroclaw/config.toml";

/// Start of the marker line; what follows it is `sha256:<hex of the rest>`.
pub const MARKER: &str =
    "# Written by `zeroclaw service install`; `zeroclaw service uninstall` removes it. ";

/// Keys of a system unit that mean nothing (or break the service) in a
/// systemd user manager: accounts, system directories, and the sandboxing
/// that needs a mount namespace, which an unprivileged user manager only gets
/// with user namespaces.
const USER_UNIT_DROPPED_KEYS: &[&str] = &[
    "User",
    "Group",
    "WorkingDirectory",
    "StateDirectory",
    "StateDirectoryMode",
    "LogsDirectory",
    "LogsDirectoryMode",
    "RuntimeDirectory",
    "ReadWritePaths",
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectControlGroups",
    // System targets are invisible to a user manager.
    "Wants",
    "After",
];

/// Which init system a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitSystem {
    Systemd,
    Openrc,
}

impl InitSystem {
    pub fn as_str(self) -> &'static str {
        match self {
            InitSystem::Systemd => "systemd",
            InitSystem::Openrc => "openrc",
        }
    }
}

/// System-wide service or a service of the invoking user's systemd manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    System,
    User,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::System => "system",
            Scope::User => "user",
        }
    }
}

/// A path that cannot be written into the file safely.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{what} path {path:?} is not valid UTF-8; move it to a plain path")]
    NotUtf8 { what: &'static str, path: String },
    #[error("{what} path {path:?} is not absolute; the init system needs an absolute path")]
    NotAbsolute { what: &'static str, path: String },
    #[error(
        "{what} path {path:?} contains {ch:?}, which cannot be written safely into {file}; \
         move it to a path made of letters, digits and / . _ - + @ : , ~ ="
    )]
    UnsafeChar {
        what: &'static str,
        path: String,
        ch: char,
        file: &'static str,
    },
    #[error("--user installs a systemd user unit; OpenRC has no per-user services here")]
    UserOpenrc,
}

/// Render the file for `init`/`scope` running `binary` with `config`,
/// marker line included.
pub fn render(
    init: InitSystem,
    scope: Scope,
    binary: &Path,
    config: &Path,
) -> Result<String, TemplateError> {
    let body = match init {
        InitSystem::Systemd => {
            let bin = systemd_word("binary", binary)?;
            let cfg = systemd_word("config", config)?;
            let exec = format!("ExecStart={bin} daemon --config {cfg}");
            let unit = replace_line(SYSTEMD_TEMPLATE, "ExecStart=", &exec);
            match scope {
                Scope::System => unit,
                Scope::User => user_unit(&unit),
            }
        }
        InitSystem::Openrc => {
            if scope == Scope::User {
                return Err(TemplateError::UserOpenrc);
            }
            let bin = shell_word("binary", binary)?;
            let cfg = shell_word("config", config)?;
            OPENRC_TEMPLATE
                .replace(
                    &format!("command=\"{TEMPLATE_BINARY}\""),
                    &format!("command=\"{bin}\""),
                )
                .replace(
                    &format!("zeroclaw_config:={OPENRC_TEMPLATE_CONFIG}"),
                    &format!("zeroclaw_config:={cfg}"),
                )
        }
    };
    Ok(with_marker(&body))
}

/// Who wrote an existing file, as far as its content tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Our marker, and the checksum matches: nobody edited it.
    Ours,
    /// Our marker, but the rest changed since we wrote it.
    OursEdited,
    /// No marker: written by hand or by a package.
    Foreign,
}

/// Look for the marker line and check its checksum.
pub fn ownership(content: &str) -> Ownership {
    let mut rest = String::with_capacity(content.len());
    let mut sum = None;
    for line in content.split_inclusive('\n') {
        match line.strip_prefix(MARKER) {
            Some(tail) if sum.is_none() => sum = Some(tail.trim().to_owned()),
            _ => rest.push_str(line),
        }
    }
    match sum {
        None => Ownership::Foreign,
        Some(s) if s == checksum(&rest) => Ownership::Ours,
        Some(_) => Ownership::OursEdited,
    }
}

fn checksum(body: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(body.as_bytes())))
}

/// Insert the marker after the shebang (scripts) or at the top (units).
fn with_marker(body: &str) -> String {
    let marker = format!("{MARKER}{}\n", checksum(body));
    match body.split_once('\n') {
        Some((first, rest)) if first.starts_with("#!") => format!("{first}\n{marker}{rest}"),
        _ => format!("{marker}{body}"),
    }
}

fn replace_line(text: &str, prefix: &str, new: &str) -> String {
    text.lines()
        .map(|l| if l.starts_with(prefix) { new } else { l })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The system unit turned into a user unit: no account or system-directory
/// keys, started with the user's session manager.
fn user_unit(unit: &str) -> String {
    // The system unit's header explains accounts and system paths; a user
    // unit needs none of it.
    let body = unit.find("\n[Unit]").map_or(unit, |at| &unit[at + 1..]);
    let header = "# zeroclaw user service (`systemctl --user`). It runs while you are logged in,\n\
                  # or from boot on with `loginctl enable-linger`. Secrets referenced as\n\
                  # \"${VAR}\" in the config go into ~/.zeroclaw/zeroclaw.env (mode 0600).\n\n";
    let dropped = |l: &str| {
        l.split_once('=')
            .is_some_and(|(k, _)| USER_UNIT_DROPPED_KEYS.contains(&k.trim()))
    };
    let all: Vec<&str> = body.lines().collect();
    let mut lines = String::with_capacity(body.len());
    for (i, l) in all.iter().enumerate() {
        // A comment goes with the setting it introduces.
        let introduces_dropped = l.starts_with('#')
            && all[i + 1..]
                .iter()
                .find(|n| !n.starts_with('#'))
                .is_some_and(|n| dropped(n));
        if dropped(l) || introduces_dropped || (l.is_empty() && lines.ends_with("\n\n")) {
            continue;
        }
        let l = match *l {
            "WantedBy=multi-user.target" => "WantedBy=default.target",
            l if l.starts_with("EnvironmentFile=") => "EnvironmentFile=-%h/.zeroclaw/zeroclaw.env",
            l => l,
        };
        lines.push_str(l);
        lines.push('\n');
    }
    format!("{header}{lines}")
}

fn checked<'a>(what: &'static str, path: &'a Path) -> Result<&'a str, TemplateError> {
    let s = path.to_str().ok_or_else(|| TemplateError::NotUtf8 {
        what,
        path: path.display().to_string(),
    })?;
    if !path.is_absolute() {
        return Err(TemplateError::NotAbsolute {
            what,
            path: s.to_owned(),
        });
    }
    Ok(s)
}

fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/._-+@:,~=".contains(c)
}

/// One word of an `ExecStart=` line: plain paths as they are, others in
/// double quotes with systemd's escapes (`%%` for specifiers, `$$` for
/// variables). Control characters cannot be written at all.
fn systemd_word(what: &'static str, path: &Path) -> Result<String, TemplateError> {
    let s = checked(what, path)?;
    if let Some(ch) = s.chars().find(|c| c.is_control()) {
        return Err(TemplateError::UnsafeChar {
            what,
            path: s.to_owned(),
            ch,
            file: "a systemd unit",
        });
    }
    let escaped = s.replace('%', "%%").replace('$', "$$");
    if s.chars().all(is_plain) {
        return Ok(escaped);
    }
    Ok(format!(
        "\"{}\"",
        escaped.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// A path inside the OpenRC script's double quotes. openrc-run `eval`s
/// `command` and `command_args`, so anything but plain characters is refused
/// rather than escaped twice.
fn shell_word(what: &'static str, path: &Path) -> Result<String, TemplateError> {
    let s = checked(what, path)?;
    match s.chars().find(|c| !is_plain(*c)) {
        Some(ch) => Err(TemplateError::UnsafeChar {
            what,
            path: s.to_owned(),
            ch,
            file: "an OpenRC script",
        }),
        None => Ok(s.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIN: &str = "/srv/bin/zeroclaw";
    const CFG: &str = "/srv/etc/zc.toml";

    fn r(init: InitSystem, scope: Scope) -> String {
        render(init, scope, Path::new(BIN), Path::new(CFG)).unwrap()
    }

    #[test]
    fn placeholders_appear_exactly_once_in_the_templates() {
        assert_eq!(SYSTEMD_TEMPLATE.matches(TEMPLATE_BINARY).count(), 1);
        assert_eq!(SYSTEMD_TEMPLATE.matches(SYSTEMD_TEMPLATE_CONFIG).count(), 1);
        assert_eq!(SYSTEMD_TEMPLATE.matches("\nExecStart=").count(), 1);
        assert_eq!(OPENRC_TEMPLATE.matches(TEMPLATE_BINARY).count(), 1);
        assert_eq!(OPENRC_TEMPLATE.matches(OPENRC_TEMPLATE_CONFIG).count(), 1);
    }

    #[test]
    fn system_unit_has_paths_and_keeps_everything_else() {
        let unit = r(InitSystem::Systemd, Scope::System);
        assert!(unit.starts_with(MARKER));
        assert!(unit.contains(&format!("\nExecStart={BIN} daemon --config {CFG}\n")));
        assert!(!unit.contains(TEMPLATE_BINARY));
        assert!(!unit.contains(SYSTEMD_TEMPLATE_CONFIG));
        for key in [
            "User=zeroclaw",
            "Type=notify",
            "WatchdogSec=30",
            "MemoryMax=512M",
        ] {
            assert!(unit.contains(key), "{key} missing");
        }
        // Only the ExecStart line and the marker differ from the template.
        let changed = SYSTEMD_TEMPLATE
            .lines()
            .zip(unit.lines().skip(1))
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(changed, 1);
        assert_eq!(ownership(&unit), Ownership::Ours);
    }

    #[test]
    fn user_unit_drops_system_only_keys() {
        let unit = r(InitSystem::Systemd, Scope::User);
        assert!(unit.contains("WantedBy=default.target"));
        assert!(!unit.contains("multi-user.target"));
        for line in unit.lines() {
            for key in USER_UNIT_DROPPED_KEYS {
                assert!(!line.starts_with(&format!("{key}=")), "{line}");
            }
        }
        assert!(unit.contains("Type=notify"));
        assert!(unit.contains(&format!("ExecStart={BIN} daemon --config {CFG}")));
        assert!(!unit.contains("/var/lib/zeroclaw"), "{unit}");
        assert!(!unit.contains("\n\n\n"), "{unit}");
        assert!(
            unit.contains("# Hardening.\nNoNewPrivileges=true\n"),
            "{unit}"
        );
        assert_eq!(ownership(&unit), Ownership::Ours);
    }

    #[test]
    fn openrc_script_keeps_shebang_first() {
        let s = r(InitSystem::Openrc, Scope::System);
        assert!(s.starts_with("#!/sbin/openrc-run\n# Written by"));
        assert!(s.contains(&format!("command=\"{BIN}\"")));
        assert!(s.contains(&format!("zeroclaw_config:={CFG}}}")));
        assert_eq!(ownership(&s), Ownership::Ours);
        assert!(matches!(
            render(
                InitSystem::Openrc,
                Scope::User,
                Path::new(BIN),
                Path::new(CFG)
            ),
            Err(TemplateError::UserOpenrc)
        ));
    }

    #[test]
    fn edits_and_foreign_files_are_told_apart() {
        let unit = r(InitSystem::Systemd, Scope::System);
        let edited = unit.replace("RestartSec=10", "RestartSec=1");
        assert_eq!(ownership(&edited), Ownership::OursEdited);
        assert_eq!(ownership(SYSTEMD_TEMPLATE), Ownership::Foreign);
        assert_eq!(ownership(""), Ownership::Foreign);
    }

    #[test]
    fn odd_paths_are_quoted_for_systemd_and_refused_for_openrc() {
        let bin = Path::new("/opt/my apps/zero%claw$1");
        let unit = render(InitSystem::Systemd, Scope::System, bin, Path::new(CFG)).unwrap();
        assert!(unit.contains("ExecStart=\"/opt/my apps/zero%%claw$$1\" daemon"));
        let err = render(InitSystem::Openrc, Scope::System, bin, Path::new(CFG)).unwrap_err();
        assert!(err.to_string().contains("' '"), "{err}");
        let err = render(
            InitSystem::Systemd,
            Scope::System,
            Path::new("/a\nb"),
            Path::new(CFG),
        )
        .unwrap_err();
        assert!(matches!(err, TemplateError::UnsafeChar { .. }));
        let err = render(
            InitSystem::Systemd,
            Scope::System,
            Path::new("zeroclaw"),
            Path::new(CFG),
        )
        .unwrap_err();
        assert!(matches!(err, TemplateError::NotAbsolute { .. }));
    }
}
