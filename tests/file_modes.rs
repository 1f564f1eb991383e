//! The modes of the daemon's files through the real binary: databases 0600
//! (with their -wal and -shm), logs 0640 at most, on create and on reopen.
//! docs/security.md, "File modes".

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use support::daemon::Env;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn set(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn stop(d: &mut support::daemon::Daemon) {
    d.signal(nix::sys::signal::Signal::SIGTERM);
    d.wait_exit(Duration::from_secs(20));
}

/// A job whose opening is read at start: the state database exists from
/// the first start on.
const JOB: &str = "[[cron.jobs]]\nname = \"nightly\"\nschedule = \"0 3 * * *\"\nmessage = \"m\"\n";

#[test]
fn databases_are_0600_on_create_and_on_reopen() {
    let env = Env::new("");
    let db = env.path("state/cron.sqlite3");
    let sidecars = [
        env.path("state/cron.sqlite3-wal"),
        env.path("state/cron.sqlite3-shm"),
    ];
    // Nothing to keep yet: a first start creates no database
    // (docs/performance.md, "Start").
    let mut d = env.start_ready(&[]);
    assert!(
        !db.exists(),
        "a daemon with nothing to keep created {}",
        db.display()
    );
    stop(&mut d);
    env.write_config(JOB);
    let mut d = env.start_ready(&[]);
    assert_eq!(mode(&db), 0o600, "new database");
    for s in &sidecars {
        if s.exists() {
            assert_eq!(mode(s), 0o600, "{}", s.display());
        }
    }
    stop(&mut d);
    // As an older version, a restore or a umask of 0 would have left them.
    set(&db, 0o644);
    for s in &sidecars {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(s)
            .unwrap();
        set(s, 0o666);
    }
    let mut d = env.start_ready(&[]);
    assert_eq!(mode(&db), 0o600, "reopened database");
    for s in &sidecars {
        assert_eq!(mode(s), 0o600, "{}", s.display());
    }
    stop(&mut d);
}

#[test]
fn an_existing_0666_log_becomes_0640() {
    let env = Env::new("[logging]\nfile = \"LOG\"\nmax_files = 2\n");
    let log = env.path("logs/daemon.log");
    env.write_config(&format!(
        "[logging]\nfile = \"{}\"\nmax_files = 2\n",
        log.display()
    ));
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let rotated = env.path("logs/daemon.log.1");
    for p in [&log, &rotated] {
        std::fs::write(p, "an old line\n").unwrap();
        set(p, 0o666);
    }
    let mut d = env.start_ready(&[]);
    assert_eq!(mode(&log), 0o640, "reopened log");
    assert_eq!(mode(&rotated), 0o640, "rotated log");
    stop(&mut d);
    std::fs::remove_file(&log).unwrap();
    let mut d = env.start_ready(&[]);
    assert_eq!(mode(&log), 0o640, "new log");
    stop(&mut d);
}
