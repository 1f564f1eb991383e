//! The operator's view through the real binary: clients that still find a
//! running daemon after its config file was edited into an invalid state,
//! config errors that name the cron job and the valid range, and the
//! gateway's access log at `debug`.

mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::daemon::{Env, wait_for};

const T: Duration = Duration::from_secs(30);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A background daemon is not our child: kill it if the test fails early.
struct KillOnDrop(i64);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

const JOB: &str = "[[cron.jobs]]\nname = \"nightly\"\nschedule = \"0 3 * * *\"\nmessage = \"m\"\ntimezone = \"UTC\"\n";

#[test]
fn clients_find_the_daemon_when_the_config_file_is_broken_and_say_why() {
    let env = Env::new(JOB);
    // In the background, so `stop` can see the process end (a foreground
    // child stays a zombie until the test reaps it).
    let out = env.cli(&["daemon", "--background"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let pid = env.status().expect("answers after --background")["pid"]
        .as_i64()
        .expect("pid");
    let guard = KillOnDrop(pid);
    let good = std::fs::read_to_string(&env.config).unwrap();

    // A type error, a TOML syntax error and a table repeated: the file does
    // not parse at all any more.
    let broken = format!("{good}\n[gateway]\nport = \"eighty\"\nthis line is not toml\n");
    std::fs::write(&env.config, broken).unwrap();

    let out = env.cli(&["status"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("running, pid"), "{stdout}");
    assert!(stderr.contains("config file has errors"), "{stderr}");
    assert!(stderr.contains("TOML syntax"), "{stderr}");
    assert!(
        stderr.contains(&format!("line {}", good.lines().count() + 4)),
        "the broken line is named: {stderr}"
    );

    let out = env.cli(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pid"], pid);
    let errors = v["config_errors"].as_array().expect("config_errors");
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().is_some_and(|e| e.contains("TOML syntax"))),
        "{v}"
    );

    // `cron` answers from the daemon (its jobs are those it loaded).
    let out = env.cli(&["cron", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["daemon"], "running", "{v}");
    assert_eq!(v["jobs"][0]["name"], "nightly", "{v}");
    assert!(text(&out.stderr).contains("config file has errors"));

    let out = env.cli(&["cron", "disable", "nightly", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["job"]["enabled"], false, "{v}");

    // `stop` reaches it too; afterwards `status` says not running (exit 3).
    let out = env.cli(&["stop"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("stopped"),
        "{}",
        text(&out.stdout)
    );
    // Gone: its pid may be reused, so never signal it again.
    std::mem::forget(guard);
    let out = env.cli(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // Without a daemon, `cron` cannot answer from a broken file: it says so.
    let out = env.cli(&["cron", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not running"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn config_check_names_the_job_and_the_valid_range() {
    let env = Env::new(
        "[[cron.jobs]]\nname = \"fine\"\nschedule = \"59 23 31 12 *\"\nmessage = \"m\"\n\
         [[cron.jobs]]\nname = \"nightly\"\nschedule = \"60 3 * * *\"\nmessage = \"m\"\n\
         [[cron.jobs]]\nname = \"hourly\"\nschedule = \"0 * * * *\"\nmessage = \"\"\n",
    );
    let out = env.cli(&["config", "check"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2 errors"),
        "59, 23, 31 and 12 are valid: {stderr}"
    );
    assert!(
        stderr.contains("[[cron.jobs]] #2 (`nightly`) `schedule`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("minute `60` is out of range: minute must be 0–59"),
        "{stderr}"
    );
    assert!(!stderr.contains("less than"), "{stderr}");
    assert!(
        stderr.contains("[[cron.jobs]] #3 (`hourly`) `message`"),
        "{stderr}"
    );

    let out = env.cli(&["config", "check", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries: Vec<&str> = v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["entry"].as_str())
        .collect();
    assert_eq!(entries, ["nightly", "hourly"], "{v}");
}

/// One GET over a plain socket; returns the status line.
fn get(url: &str, target: &str, headers: &str) -> String {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply.lines().next().unwrap_or_default().to_string()
}

fn access_lines(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("zeroclaw::gateway::access"))
        .map(str::to_string)
        .collect()
}

#[test]
fn access_log_at_debug_one_line_per_request_and_nothing_secret() {
    const SECRET: &str = "query-secret-4242";
    const BEARER: &str = "bearer-secret-9191";
    let env = Env::new("[gateway]\nport = 0\n[logging]\nlevel = \"debug\"\n");
    let log = env.path("daemon.log");
    let (_d, url) = env.start_gateway(&["--port", "0", "--log-file", log.to_str().unwrap()]);

    let auth = format!("Authorization: Bearer {BEARER}\r\n");
    let status = get(&url, &format!("/health?token={SECRET}"), &auth);
    assert!(status.contains("200"), "{status}");
    wait_for("the access line of /health", T, || {
        access_lines(&log).len() == 1
    });
    let status = get(&url, &format!("/no/such/{SECRET}"), "");
    assert!(status.contains("404"), "{status}");
    wait_for("the access line of the 404", T, || {
        access_lines(&log).len() == 2
    });

    let lines = access_lines(&log);
    let health = &lines[0];
    for needle in [
        "method=GET",
        "route=/health",
        "status=200",
        "latency=",
        "peer=127.0.0.1:",
    ] {
        assert!(health.contains(needle), "{needle} missing: {health}");
    }
    assert!(lines[1].contains("route=unmatched") && lines[1].contains("status=404"));
    let all = std::fs::read_to_string(&log).unwrap();
    assert!(!all.contains(SECRET), "a query secret reached the log");
    assert!(
        !all.contains(BEARER),
        "the Authorization header reached the log"
    );
}

#[test]
fn no_access_line_at_info() {
    let env = Env::new("[gateway]\nport = 0\n[logging]\nlevel = \"info\"\n");
    let log = env.path("daemon.log");
    let (_d, url) = env.start_gateway(&["--port", "0", "--log-file", log.to_str().unwrap()]);
    assert!(get(&url, "/health", "").contains("200"));
    // A line logged after the request: had the request logged one, it
    // would be in the file before this.
    let out = env.cli(&["reload"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    wait_for("the reload's line", T, || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("config reloaded"))
    });
    assert!(access_lines(&log).is_empty(), "{:?}", access_lines(&log));
}
