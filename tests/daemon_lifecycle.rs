//! Through the real binary: start, status, pid file, signals,
//! background mode, the control protocol and the systemd handshake.

mod support;

use nix::sys::signal::Signal;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;
use support::daemon::{BIN, Control, Env, wait_for};

const T: Duration = Duration::from_secs(20);

#[test]
fn foreground_status_json_shape_and_sigterm_cleanup() {
    let env = Env::new("");
    let pid_file = env.path("run/zeroclaw.pid");
    let mut d = env.start_ready(&["--pid-file", pid_file.to_str().unwrap()]);

    let s = env.status().expect("status");
    assert_eq!(s["pid"], json!(d.pid()));
    assert_eq!(s["version"], json!(env!("CARGO_PKG_VERSION")));
    assert!(s["uptime_secs"].is_u64());
    assert_eq!(s["config"], json!(env.config.display().to_string()));
    let children = s["children"].as_array().expect("children");
    let control = children
        .iter()
        .find(|c| c["name"] == "control")
        .expect("control child");
    for key in ["name", "state", "restarts", "last_exit", "uptime_secs"] {
        assert!(control.get(key).is_some(), "missing {key} in {control}");
    }
    assert_eq!(control["state"], "running");

    // Socket 0600, state dir 0700, pid file holds the live pid.
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&env.socket()), 0o600);
    assert_eq!(mode(&env.path("state")), 0o700);
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        d.pid().to_string()
    );

    // Human status is a table.
    let out = env.cli(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CHILD") && text.contains("control") && text.contains("running"),
        "{text}"
    );

    d.signal(Signal::SIGTERM);
    let status = d.wait_exit(T);
    assert_eq!(status.code(), Some(0), "{}", d.stderr());
    assert!(!env.socket().exists(), "socket left behind");
    assert!(!pid_file.exists(), "pid file left behind");

    let out = env.cli(&["status"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("zeroclaw is not running (no control socket at"),
        "{out:?}"
    );
}

#[test]
fn second_daemon_is_refused_and_first_keeps_answering() {
    let env = Env::new("");
    let pid_file = env.path("z.pid");
    let d = env.start_ready(&["--pid-file", pid_file.to_str().unwrap()]);

    // Same pid file.
    let out = env.cli(&["daemon", "--pid-file", pid_file.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&d.pid().to_string()),
        "error should name the running pid: {err}"
    );

    // Same socket, different pid file.
    let out = env.cli(&[
        "daemon",
        "--pid-file",
        env.path("other.pid").to_str().unwrap(),
    ]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already answering") && err.contains(&d.pid().to_string()),
        "{err}"
    );

    let s = env.status().expect("first daemon still answers");
    assert_eq!(s["pid"], json!(d.pid()));
}

#[test]
fn stale_pid_file_is_taken_over() {
    let env = Env::new("");
    let pid_file = env.path("z.pid");
    std::fs::write(&pid_file, "999999\n").unwrap();
    let d = env.start_ready(&["--pid-file", pid_file.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        d.pid().to_string()
    );
    assert!(d.stderr().contains("stale pid file"), "{}", d.stderr());
}

#[test]
fn background_returns_when_ready_and_stop_waits() {
    let env = Env::new("");
    let pid_file = env.path("bg.pid");
    let out = env.cli(&[
        "daemon",
        "--background",
        "--pid-file",
        pid_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Ready means answering right now, no waiting.
    let s = env
        .status()
        .expect("answers at once after --background returns");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(s["pid"].to_string(), pid);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&pid));

    let out = env.cli(&["stop"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // `stop` returns only once the process is gone.
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid.parse().unwrap()), None);
    assert!(alive.is_err(), "process still alive after stop returned");
    assert!(!pid_file.exists());
}

#[test]
fn background_start_failure_is_reported_by_the_parent() {
    let env = Env::new("");
    let pid_file = env.path("held.pid");
    let d = env.start_ready(&["--pid-file", pid_file.to_str().unwrap()]);
    let out = env.cli(&[
        "daemon",
        "--background",
        "--pid-file",
        pid_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another zeroclaw is running") && err.contains(&d.pid().to_string()),
        "{err}"
    );
}

#[test]
fn sighup_with_broken_config_keeps_running() {
    let env = Env::new("");
    let d = env.start_ready(&[]);
    // Valid TOML with a wrong value: clients still find the socket.
    env.write_config("[gateway]\nport = \"nope\"\n");
    d.signal(Signal::SIGHUP);
    // `reload` gives the same verdict synchronously, with the errors.
    let out = env.cli(&["reload"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    let s = env.status().expect("still running");
    assert_eq!(s["pid"], json!(d.pid()));
    wait_for("reload refusal in the log", T, || {
        d.stderr().contains("reload refused")
    });
}

#[test]
fn control_protocol_errors_keep_the_connection_usable() {
    let env = Env::new("");
    let _d = env.start_ready(&[]);
    let mut c = Control::connect(&env.socket());

    let r = c.raw("this is not json\n");
    assert_eq!(r["ok"], false);
    assert_eq!(r["error"]["code"], "bad_request");

    let r = c.raw("{\"id\": 5, \"method\": 3}\n");
    assert_eq!(r["ok"], false);
    assert_eq!(r["id"], 5, "id salvaged from a malformed request");

    let r = c.call("no.such.method", json!({}));
    assert_eq!(r["error"]["code"], "unknown_method");

    let r = c.call("version", json!({}));
    assert_eq!(r["ok"], true);
    assert_eq!(r["result"]["protocol"], 1);

    let r = c.call("restart", json!({"child": "nope"}));
    assert_eq!(r["error"]["code"], "not_found");
    assert!(r["error"]["message"].as_str().unwrap().contains("control"));

    let r = c.call("status", json!({}));
    assert_eq!(r["ok"], true);
    assert_eq!(r["id"], 7);

    // An oversized request is refused.
    let big = format!(
        "{{\"id\":1,\"method\":\"status\",\"params\":{{\"x\":\"{}\"}}}}\n",
        "a".repeat(70_000)
    );
    let r = c.raw(&big);
    assert_eq!(r["ok"], false);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than")
    );
}

#[test]
fn restart_child_through_cli_counts_restart() {
    let env = Env::new("");
    let d = env.start_ready(&[]);
    let out = env.cli(&["restart", "control"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Like `systemctl restart`, a requested restart is not counted as an
    // automatic one; the child comes back and the request is logged.
    wait_for("control running again", T, || {
        env.child("control")
            .is_some_and(|c| c["state"] == "running" && c["restarts"] == 0)
    });
    wait_for("restart logged", T, || {
        d.stderr().contains("restart requested")
    });
    let out = env.cli(&["restart", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no child named `nope`"));
}

#[test]
fn notify_socket_receives_ready_and_stopping() {
    let env = Env::new("");
    let sock_path = env.path("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(T)).unwrap();
    let mut d = env.start_with(&[], |cmd| {
        cmd.env("NOTIFY_SOCKET", &sock_path);
    });
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("READY=1") {
        let n = sock.recv(&mut buf).expect("READY=1 within the deadline");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        seen.push('\n');
    }
    assert!(
        env.status().is_some(),
        "READY=1 means the control socket answers"
    );
    d.signal(Signal::SIGTERM);
    while !seen.contains("STOPPING=1") {
        let n = sock.recv(&mut buf).expect("STOPPING=1 within the deadline");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        seen.push('\n');
    }
    assert_eq!(d.wait_exit(T).code(), Some(0));
}

#[test]
fn workdir_is_created_and_status_exit_3_without_daemon() {
    let env = Env::new("");
    let out = std::process::Command::new(BIN)
        .args(["--config", env.config.to_str().unwrap(), "status", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["running"], false);

    let wd = env.path("work/dir");
    let _d = env.start_ready(&["--workdir", wd.to_str().unwrap()]);
    assert!(wd.is_dir());
}

#[test]
fn reload_applies_only_the_difference() {
    let job = |name: &str, msg: &str| {
        format!("[[cron.jobs]]\nname = \"{name}\"\nschedule = \"0 9 * * *\"\nmessage = \"{msg}\"\n")
    };
    let env = Env::new(&format!("{}{}", job("keep", "a"), job("drop", "b")));
    let sock_path = env.path("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(T)).unwrap();
    let d = env.start_with(&[], |cmd| {
        cmd.env("NOTIFY_SOCKET", &sock_path);
    });
    wait_for("ready", T, || env.status().is_some());
    let names = |env: &Env| -> Vec<String> {
        env.status().unwrap()["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names(&env).contains(&"cron:drop".to_string()));

    // One job removed, one added, one changed.
    env.write_config(&format!("{}{}", job("keep", "changed"), job("new", "c")));
    let out = env.cli(&["reload", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["removed"], json!(["cron:drop"]), "{v}");
    assert_eq!(v["added"], json!(["cron:new"]), "{v}");
    assert_eq!(v["changed"], json!(["cron:keep"]), "{v}");
    let now = names(&env);
    assert!(now.contains(&"cron:new".to_string()) && !now.contains(&"cron:drop".to_string()));
    assert_eq!(env.status().unwrap()["pid"], json!(d.pid()), "same process");

    // Reloading an unchanged file restarts nothing.
    let out = env.cli(&["reload", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["changed"], json!([]), "{v}");

    // systemd saw RELOADING=1 followed by READY=1.
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !(seen.contains("RELOADING=1") && seen.rfind("READY=1") > seen.find("RELOADING=1")) {
        let n = sock
            .recv(&mut buf)
            .expect("notify messages within the deadline");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        seen.push('\n');
    }
}

#[test]
fn bad_config_fails_the_start_with_every_error_once() {
    let env = Env::new(
        "[provider]\nnmae = \"echo\"\n[[cron.jobs]]\nname = \"x\"\nschedule = \"61 * * * *\"\nmessage = \"m\"\n",
    );
    let out = env.cli(&["daemon"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `name`?"), "{err}");
    assert!(err.contains("invalid schedule `61 * * * *`"), "{err}");
    assert_eq!(
        err.matches("did you mean").count(),
        1,
        "reported once: {err}"
    );
    assert!(!env.socket().exists(), "nothing was started");
}
