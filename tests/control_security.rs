//! The control socket through the real binary: a path that is not a socket
//! is never removed, and clients are capped and dropped when idle.
//! docs/security-gateway.md lists each defence and its config key.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};
use support::daemon::Env;

const T: Duration = Duration::from_secs(30);

/// A config with `[daemon] extra` keys, gateway off (the harness's base
/// config has its own `[daemon]` table, so this one is written whole).
fn env_with_daemon(extra: &str) -> Env {
    let env = Env::new("");
    let state = env.path("state");
    std::fs::write(
        &env.config,
        format!(
            "[daemon]\nstate_dir = \"{}\"\nshutdown_timeout = \"5s\"\n{extra}\n\
             [supervisor]\nrestart_sec = \"100ms\"\n[gateway]\nenabled = false\n",
            state.display()
        ),
    )
    .expect("write config");
    env
}

fn assert_refused_and_intact(env: &Env, path: &Path, kind: &str, content: &str) {
    let (status, stderr) = env.start_failing(&[]);
    assert_ne!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("not a socket") && stderr.contains(kind),
        "{stderr}"
    );
    assert!(stderr.contains("control_socket"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(path).expect("still there"),
        content,
        "{stderr}"
    );
}

#[test]
fn a_control_socket_path_that_is_not_a_socket_is_never_removed() {
    let dir = tempfile::tempdir().unwrap();
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "keep me").unwrap();
    let env = env_with_daemon(&format!("control_socket = \"{}\"", precious.display()));
    assert_refused_and_intact(&env, &precious, "a regular file", "keep me");

    // A symbolic link (to that file) is not followed or removed either.
    let link = dir.path().join("link.sock");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let env = env_with_daemon(&format!("control_socket = \"{}\"", link.display()));
    assert_refused_and_intact(&env, &link, "a symbolic link", "keep me");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// One reply line, or `None` when the daemon closed the connection.
fn read_line(s: &UnixStream) -> Option<String> {
    let mut line = String::new();
    match BufReader::new(s).read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

#[test]
fn control_clients_are_capped_and_idle_ones_dropped() {
    let env = env_with_daemon("control_max_connections = 4\ncontrol_idle_timeout = \"1s\"");
    let _d = env.start_ready(&[]);
    // Taking every slot; once they are accepted, the next client is told why.
    let held: Vec<UnixStream> = (0..4)
        .map(|_| UnixStream::connect(env.socket()).expect("connect"))
        .collect();
    let deadline = Instant::now() + T;
    let busy = loop {
        let extra = UnixStream::connect(env.socket()).expect("connect");
        extra.set_read_timeout(Some(T)).unwrap();
        match read_line(&extra) {
            Some(line) => break line,
            // A slot freed while the first clients were still being accepted.
            None => assert!(Instant::now() < deadline, "no busy reply"),
        }
    };
    let reply: serde_json::Value = serde_json::from_str(&busy).expect("JSON");
    assert_eq!(reply["ok"], false, "{reply}");
    assert_eq!(reply["error"]["code"], "busy", "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("control_max_connections")),
        "{reply}"
    );
    // The idle clients are disconnected after control_idle_timeout...
    for mut s in held {
        s.set_read_timeout(Some(T)).unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "an idle client got data instead of being closed");
        assert!(started.elapsed() < T);
    }
    // ...and the CLI is served again.
    support::daemon::wait_for("status to answer again", T, || env.status().is_some());
}
