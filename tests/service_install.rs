//! `zeroclaw service install|uninstall|status` through the real binary, into a
//! temporary root, and the shipped init files checked by the tools that run them.

use assert_cmd::cargo::cargo_bin_cmd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

/// The binary as the kernel sees it: what `current_exe` puts in the unit.
fn binary() -> PathBuf {
    std::fs::canonicalize(assert_cmd::cargo::cargo_bin!("zeroclaw")).unwrap()
}

fn zeroclaw(home: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("zeroclaw");
    cmd.env_remove("ZEROCLAW_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", home);
    cmd
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// systemd-analyze, or a printed reason why the check is skipped.
fn systemd_analyze() -> Option<&'static str> {
    let found = StdCommand::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIP: systemd-analyze not found (apt-get install systemd); unit not verified");
        return None;
    }
    Some("systemd-analyze")
}

/// Run `systemd-analyze [--user] verify` and fail on any complaint about the unit.
fn verify_unit(unit: &Path, user: bool, runtime_dir: &Path) {
    let Some(tool) = systemd_analyze() else {
        return;
    };
    let mut cmd = StdCommand::new(tool);
    if user {
        cmd.arg("--user");
    }
    let out = cmd
        .arg("verify")
        .arg(unit)
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "verify failed for {unit:?}:\n{err}");
    let complaints: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("zeroclaw.service"))
        .collect();
    assert!(complaints.is_empty(), "verify complained: {complaints:#?}");
}

#[test]
fn systemd_install_status_refuse_force_uninstall() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("prod.toml");
    std::fs::write(&config, "").unwrap();
    let unit = root.path().join("etc/systemd/system/zeroclaw.service");
    let args = |cmd: &str| {
        vec![
            "--config".to_owned(),
            config.display().to_string(),
            "service".into(),
            cmd.into(),
            "--init".into(),
            "systemd".into(),
            "--root".into(),
            root.path().display().to_string(),
        ]
    };

    // absent
    let out = zeroclaw(home.path()).args(args("status")).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("absent"), "{}", stdout(&out));

    // install writes the real binary and config paths, and says what to run next
    let out = zeroclaw(home.path())
        .args(args("install"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("systemctl daemon-reload"), "{text}");
    assert!(text.contains("systemctl enable --now zeroclaw"), "{text}");
    let content = std::fs::read_to_string(&unit).unwrap();
    let exec = format!(
        "\nExecStart={} daemon --config {}\n",
        binary().display(),
        config.display()
    );
    assert!(content.contains(&exec), "no {exec:?} in\n{content}");
    assert!(content.contains("\nUser=zeroclaw\n"));
    assert!(content.contains("\nWantedBy=multi-user.target\n"));
    assert_eq!(
        std::fs::metadata(&unit).unwrap().permissions().mode() & 0o777,
        0o644
    );
    verify_unit(&unit, false, home.path());

    // the same again: nothing to do
    let out = zeroclaw(home.path())
        .args(args("install"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already installed"),
        "{}",
        stdout(&out)
    );

    let out = zeroclaw(home.path())
        .args(args("status"))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "installed");
    assert_eq!(v["init"], "systemd");
    assert_eq!(v["scope"], "system");

    // an operator's edit is never overwritten without --force
    let edited = content.replace("MemoryMax=512M", "MemoryMax=1G");
    std::fs::write(&unit, &edited).unwrap();
    let out = zeroclaw(home.path()).args(args("status")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("modified"), "{}", stdout(&out));
    assert!(stdout(&out).contains("edited"), "{}", stdout(&out));
    let out = zeroclaw(home.path())
        .args(args("install"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), edited);

    let out = zeroclaw(home.path())
        .args(args("install"))
        .arg("--force")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("replaced"), "{}", stdout(&out));
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), content);

    // uninstall removes it; a second uninstall has nothing to do
    let out = zeroclaw(home.path())
        .args(args("uninstall"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!unit.exists());
    let out = zeroclaw(home.path())
        .args(args("uninstall"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("not installed"), "{}", stdout(&out));
}

#[test]
fn uninstall_leaves_a_file_it_did_not_write() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let unit = root.path().join("etc/systemd/system/zeroclaw.service");
    std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
    std::fs::write(&unit, "[Service]\nExecStart=/bin/true\n").unwrap();
    let out = zeroclaw(home.path())
        .args(["service", "uninstall", "--init", "systemd", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not written by"), "{}", stderr(&out));
    assert!(unit.exists());
}

#[test]
fn openrc_install_writes_an_executable_script_that_parses() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // A relative --config is made absolute against the working directory.
    let out = zeroclaw(home.path())
        .current_dir(work.path())
        .args([
            "--config", "zc.toml", "service", "install", "--init", "openrc",
        ])
        .arg("--root")
        .arg(root.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("rc-update add zeroclaw default"), "{text}");
    assert!(text.contains("rc-service zeroclaw start"), "{text}");
    assert!(
        stderr(&out).contains("does not exist yet"),
        "{}",
        stderr(&out)
    );

    let script = root.path().join("etc/init.d/zeroclaw");
    let content = std::fs::read_to_string(&script).unwrap();
    assert!(content.starts_with("#!/sbin/openrc-run\n"));
    assert!(content.contains(&format!("command=\"{}\"", binary().display())));
    let config = std::fs::canonicalize(work.path()).unwrap().join("zc.toml");
    assert!(
        content.contains(&format!("zeroclaw_config:={}}}", config.display())),
        "{content}"
    );
    assert_eq!(
        std::fs::metadata(&script).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let status = StdCommand::new("sh")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "sh -n rejected the installed script");

    let again = |cmd: &str| {
        zeroclaw(home.path())
            .current_dir(work.path())
            .args(["--config", "zc.toml", "service", cmd, "--init", "openrc"])
            .arg("--root")
            .arg(root.path())
            .output()
            .unwrap()
    };
    let out = again("install");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already installed"),
        "{}",
        stdout(&out)
    );
    // Enabled in a runlevel: uninstall refuses until it is taken out.
    let runlevel = root.path().join("etc/runlevels/default");
    std::fs::create_dir_all(&runlevel).unwrap();
    std::os::unix::fs::symlink("/etc/init.d/zeroclaw", runlevel.join("zeroclaw")).unwrap();
    let out = again("uninstall");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("rc-update del zeroclaw"),
        "{}",
        stderr(&out)
    );
    assert!(script.exists());
    std::fs::remove_file(runlevel.join("zeroclaw")).unwrap();
    let out = again("uninstall");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!script.exists());
}

#[test]
fn user_unit_warns_when_lingering_is_off() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let me = nix::unistd::User::from_uid(nix::unistd::getuid())
        .unwrap()
        .unwrap()
        .name;
    let install = || {
        zeroclaw(home.path())
            .args(["service", "install", "--user", "--root"])
            .arg(root.path())
            .output()
            .unwrap()
    };

    let out = install();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("lingering is off for {me}")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("loginctl enable-linger"));
    assert!(stdout(&out).contains("systemctl --user enable --now zeroclaw"));

    // ~/.config/systemd/user under the root; the default config is the one
    // every other command reads (~/.zeroclaw/config.toml).
    let unit = root
        .path()
        .join(home.path().strip_prefix("/").unwrap())
        .join(".config/systemd/user/zeroclaw.service");
    let content = std::fs::read_to_string(&unit).unwrap();
    let exec = format!(
        "\nExecStart={} daemon --config {}\n",
        binary().display(),
        home.path().join(".zeroclaw/config.toml").display()
    );
    assert!(content.contains(&exec), "no {exec:?} in\n{content}");
    assert!(!content.contains("\nUser="));
    assert!(!content.contains("ProtectHome"));
    assert!(content.contains("\nWantedBy=default.target\n"));
    let runtime = tempfile::tempdir().unwrap();
    std::fs::set_permissions(runtime.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    verify_unit(&unit, true, runtime.path());

    // lingering on: no warning
    let linger = root.path().join("var/lib/systemd/linger");
    std::fs::create_dir_all(&linger).unwrap();
    std::fs::write(linger.join(&me), "").unwrap();
    let out = install();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("lingering"), "{}", stderr(&out));
    assert!(stdout(&out).contains("already installed"));
}

#[test]
fn openrc_user_install_is_refused_clearly() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = zeroclaw(home.path())
        .args(["service", "install", "--user", "--init", "openrc", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--user"), "{}", stderr(&out));
}

#[test]
fn print_shows_the_file_without_writing_it() {
    let root = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = zeroclaw(home.path())
        .args(["service", "install", "--print", "--init", "systemd"])
        .args(["--bin", "/usr/bin/zeroclaw", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .contains("\nExecStart=/usr/bin/zeroclaw daemon --config /etc/zeroclaw/config.toml\n")
    );
    assert!(!root.path().join("etc").exists());
}

#[test]
fn shipped_openrc_script_parses() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("openrc/zeroclaw");
    let status = StdCommand::new("sh")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "sh -n openrc/zeroclaw failed");
    // openrc-run reads the variables the script sets (SC2034: "unused").
    match StdCommand::new("shellcheck")
        .args(["-s", "sh", "-e", "SC2034"])
        .arg(&script)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "shellcheck:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(_) => eprintln!("SKIP: shellcheck not found; only `sh -n` checked"),
    }
    let mode = std::fs::metadata(&script).unwrap().permissions().mode();
    assert_ne!(mode & 0o111, 0, "openrc/zeroclaw is not executable");
}

#[test]
fn shipped_unit_passes_the_verify_script() {
    if systemd_analyze().is_none() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/verify.sh");
    let out = StdCommand::new("bash")
        .arg(&script)
        .arg(binary())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "systemd/verify.sh failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}
