//! What to tell the operator after an install or uninstall: the commands to
//! run next and the problems we can see coming.

use super::layout::Plan;
use super::template::{InitSystem, Scope};
use std::path::Path;

fn sudo(plan: &Plan) -> &'static str {
    if plan.scope == Scope::System && !nix::unistd::geteuid().is_root() {
        "sudo "
    } else {
        ""
    }
}

fn client(plan: &Plan) -> String {
    format!(
        "{} --config {}",
        plan.binary.display(),
        shell_words::quote(&plan.config.to_string_lossy())
    )
}

/// The command that stops the service and removes it from boot.
pub fn disable_command(plan: &Plan) -> String {
    let s = sudo(plan);
    match (plan.init, plan.scope) {
        (InitSystem::Systemd, Scope::System) => format!("{s}systemctl disable --now zeroclaw"),
        (InitSystem::Systemd, Scope::User) => "systemctl --user disable --now zeroclaw".into(),
        (InitSystem::Openrc, _) => {
            format!("{s}rc-service zeroclaw stop && {s}rc-update del zeroclaw default")
        }
    }
}

/// Commands to run after `install`, in order.
pub fn after_install(plan: &Plan) -> Vec<String> {
    let s = sudo(plan);
    let mut next = Vec::new();
    if plan.scope == Scope::System && plan.service_account_exists() == Some(false) {
        next.push(match plan.init {
            InitSystem::Systemd => format!(
                "{s}useradd --system --user-group --home-dir /var/lib/zeroclaw \
                 --shell /usr/sbin/nologin zeroclaw"
            ),
            InitSystem::Openrc => format!(
                "{s}addgroup -S zeroclaw && {s}adduser -S -D -H -h /var/lib/zeroclaw \
                 -s /sbin/nologin -G zeroclaw zeroclaw"
            ),
        });
    }
    if !plan.rooted(&plan.config).exists() {
        next.push(format!("{s}{} config init", client(plan)));
    }
    match (plan.init, plan.scope) {
        (InitSystem::Systemd, Scope::System) => {
            next.push(format!("{s}systemctl daemon-reload"));
            next.push(format!("{s}systemctl enable --now zeroclaw"));
            next.push(format!("{s}systemctl status zeroclaw"));
        }
        (InitSystem::Systemd, Scope::User) => {
            next.push("systemctl --user daemon-reload".into());
            next.push("systemctl --user enable --now zeroclaw".into());
            next.push("systemctl --user status zeroclaw".into());
        }
        (InitSystem::Openrc, _) => {
            next.push(format!("{s}rc-update add zeroclaw default"));
            next.push(format!("{s}rc-service zeroclaw start"));
        }
    }
    next.push(format!("{s}{} status", client(plan)));
    next
}

/// Commands to run after `uninstall`.
pub fn after_uninstall(plan: &Plan) -> Vec<String> {
    match (plan.init, plan.scope) {
        (InitSystem::Systemd, Scope::System) => {
            vec![format!("{}systemctl daemon-reload", sudo(plan))]
        }
        (InitSystem::Systemd, Scope::User) => vec!["systemctl --user daemon-reload".into()],
        (InitSystem::Openrc, _) => Vec::new(),
    }
}

/// Problems visible before the service ever starts.
pub fn warnings(plan: &Plan) -> Vec<String> {
    let mut warnings = Vec::new();
    if plan.scope == Scope::User {
        match (plan.linger_enabled(), plan.user.as_deref()) {
            (Some(false), Some(user)) => warnings.push(format!(
                "lingering is off for {user}: the service stops when your last session ends \
                 and does not start at boot; turn it on with `sudo loginctl enable-linger {user}`"
            )),
            (None, _) | (_, None) => warnings.push(
                "cannot tell who you are, so cannot check lingering; without \
                 `loginctl enable-linger` the service stops when you log out"
                    .into(),
            ),
            _ => {}
        }
    }
    if !plan.rooted(&plan.binary).is_file() {
        warnings.push(format!(
            "the binary {} does not exist; the service cannot start until it does",
            plan.binary.display()
        ));
    }
    if !plan.rooted(&plan.config).exists() {
        warnings.push(format!(
            "the config {} does not exist yet; the service will fail to start until it does",
            plan.config.display()
        ));
    }
    if plan.scope == Scope::System {
        for (what, path) in [("binary", &plan.binary), ("config", &plan.config)] {
            if let Some(why) = hidden_from_service(plan.init, path) {
                warnings.push(format!(
                    "the {what} {} is {why}; put it under /usr/local or /etc",
                    path.display()
                ));
            }
        }
    }
    warnings
}

/// Why the `zeroclaw` account (behind systemd's sandbox) may not see `path`.
fn hidden_from_service(init: InitSystem, path: &Path) -> Option<&'static str> {
    if init == InitSystem::Systemd && (path.starts_with("/tmp") || path.starts_with("/var/tmp")) {
        Some("invisible to the service (PrivateTmp=true gives it its own /tmp)")
    } else if path.starts_with("/root") || path.starts_with("/home") {
        Some("in a home directory the zeroclaw account may not be allowed to read")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::layout::test_plan;

    /// A binary still in the build tree, under `/tmp`.
    fn plan(root: &Path, init: InitSystem, scope: Scope) -> Plan {
        Plan {
            binary: "/tmp/build/zeroclaw".into(),
            ..test_plan(root, init, scope)
        }
    }

    #[test]
    fn system_install_sees_problems_coming() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        let p = plan(dir.path(), InitSystem::Systemd, Scope::System);
        let w = warnings(&p).join("\n");
        assert!(w.contains("PrivateTmp"), "{w}");
        assert!(
            w.contains("binary /tmp/build/zeroclaw does not exist"),
            "{w}"
        );
        assert!(
            w.contains("config /etc/zeroclaw/config.toml does not exist"),
            "{w}"
        );
        assert!(!w.contains("linger"), "{w}");
        let next = after_install(&p);
        assert!(next[0].contains("useradd --system"), "{next:?}");
        assert!(next.iter().any(|n| n.ends_with("config init")), "{next:?}");
        let reload = next
            .iter()
            .position(|n| n.ends_with("systemctl daemon-reload"));
        let enable = next
            .iter()
            .position(|n| n.ends_with("enable --now zeroclaw"));
        assert!(reload.is_some() && reload < enable, "{next:?}");

        let p = plan(dir.path(), InitSystem::Openrc, Scope::System);
        let next = after_install(&p);
        assert!(next[0].contains("adduser -S"), "{next:?}");
        assert!(
            next.iter()
                .any(|n| n.ends_with("rc-update add zeroclaw default"))
        );
    }

    #[test]
    fn user_install_warns_about_lingering_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = plan(dir.path(), InitSystem::Systemd, Scope::User);
        let w = warnings(&p).join("\n");
        assert!(w.contains("lingering is off for ann"), "{w}");
        assert!(!w.contains("PrivateTmp"), "{w}");
        let next = after_install(&p);
        assert!(!next.iter().any(|n| n.contains("useradd")));
        assert!(next.contains(&"systemctl --user enable --now zeroclaw".to_owned()));
    }
}
