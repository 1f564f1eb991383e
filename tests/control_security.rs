//! The control socket through the real binary: a path that is not a socket
//! is never removed, and clients are capped and dropped when idle.
//! docs/security.md lists each defence and its config key.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
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

/// `true` once the daemon has closed `s` (EOF) within `T`.
fn closed_by_daemon(s: &mut UnixStream) -> bool {
    s.set_read_timeout(Some(T)).unwrap();
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(0))
}

#[test]
fn control_clients_are_capped_and_idle_ones_make_room() {
    let env = env_with_daemon("control_max_connections = 4\ncontrol_idle_timeout = \"60s\"");
    let _d = env.start_ready(&[]);
    // Idle clients take every slot...
    let mut held: Vec<UnixStream> = (0..4)
        .map(|_| UnixStream::connect(env.socket()).expect("connect"))
        .collect();
    // ...a newcomer is still served: an idle one is closed to make room.
    let status = env.cli(&["status", "--json"]);
    assert_eq!(status.status.code(), Some(0), "{status:?}");
    let mut closed = 0;
    for s in &mut held {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 16];
        if matches!(s.read(&mut buf), Ok(0)) {
            closed += 1;
        }
    }
    assert!(closed >= 1, "no idle client was closed to make room");
    assert!(closed < 4, "more idle clients were closed than needed");
}

#[test]
fn idle_control_clients_are_disconnected() {
    let env = env_with_daemon("control_idle_timeout = \"1s\"");
    let _d = env.start_ready(&[]);
    let mut idle = UnixStream::connect(env.socket()).expect("connect");
    let started = Instant::now();
    assert!(closed_by_daemon(&mut idle), "an idle client was not closed");
    assert!(started.elapsed() >= Duration::from_millis(900));
    // A client that keeps talking is served past the timeout.
    let mut talking = UnixStream::connect(env.socket()).expect("connect");
    talking.set_read_timeout(Some(T)).unwrap();
    for i in 0..3 {
        talking
            .write_all(format!("{{\"id\":{i},\"method\":\"version\"}}\n").as_bytes())
            .unwrap();
        let line = read_line(&talking).expect("a reply");
        assert!(line.contains("\"ok\":true"), "{line}");
        // The pause is the input (more than the timeout in total, less
        // between requests), not a wait for a condition.
        std::thread::sleep(Duration::from_millis(600));
    }
    // And a half-sent request does not keep a connection open either.
    talking.write_all(b"{\"id\":9,").unwrap();
    assert!(closed_by_daemon(&mut talking));
}

#[test]
fn zero_control_limits_are_refused_by_config_check() {
    let env = env_with_daemon("control_max_connections = 0\ncontrol_idle_timeout = \"0s\"");
    let out = env.cli(&["config", "check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("control_max_connections"), "{text}");
    assert!(text.contains("control_idle_timeout"), "{text}");
}
