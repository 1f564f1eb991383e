//! The pid file handled as hostile, through the real binary: whatever sits at
//! the pid path (or at a name the daemon might write through) is never
//! followed, read whole, or written. docs/security.md, "Pid file".

mod support;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use support::daemon::Env;

const SECRET: &str = "pidfile-secret-5d2e81";

fn pid_arg(env: &Env) -> (std::path::PathBuf, String) {
    let p = env.path("run/z.pid");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let s = p.display().to_string();
    (p, s)
}

#[test]
fn a_symlink_to_a_secret_is_refused_and_its_content_never_logged() {
    let env = Env::new("");
    let secret = env.path("secret.txt");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (pid, arg) = pid_arg(&env);
    std::os::unix::fs::symlink(&secret, &pid).unwrap();
    let (status, stderr) = env.start_failing(&["--pid-file", &arg]);
    assert!(!status.success(), "{stderr}");
    assert!(
        !stderr.contains(SECRET),
        "the secret reached the log:\n{stderr}"
    );
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        format!("{SECRET}\n")
    );
}

#[test]
fn a_link_to_dev_zero_is_refused_without_reading_it() {
    let env = Env::new("");
    let (pid, arg) = pid_arg(&env);
    std::os::unix::fs::symlink("/dev/zero", &pid).unwrap();
    // start_failing waits 30 s at most: reading /dev/zero whole would not end.
    let (status, stderr) = env.start_failing(&["--pid-file", &arg]);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
}

#[test]
fn a_fifo_is_refused_without_hanging_start_up() {
    let env = Env::new("");
    let (pid, arg) = pid_arg(&env);
    nix::unistd::mkfifo(&pid, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let (status, stderr) = env.start_failing(&["--pid-file", &arg]);
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("is not a regular file (a FIFO)"),
        "{stderr}"
    );
    assert!(
        std::fs::symlink_metadata(&pid)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

/// The `n` pids the kernel hands out next, wrapping past `pid_max` as it
/// does (to 300, the first pid it reuses), so a machine that has run many
/// processes plants the right names too.
fn next_pids(n: i32) -> Vec<i32> {
    let read = |f: &str| -> i32 {
        std::fs::read_to_string(format!("/proc/sys/kernel/{f}"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let (last, max) = (read("ns_last_pid"), read("pid_max"));
    (1..=n)
        .map(|i| match last + i {
            p if p < max => p,
            p => 300 + (p - max) % (max - 300),
        })
        .collect()
}

#[test]
fn a_symlink_planted_at_a_temporary_name_is_never_written_through() {
    let env = Env::new("");
    let victim = env.path("victim.txt");
    std::fs::write(&victim, "untouched\n").unwrap();
    let (pid_path, arg) = pid_arg(&env);
    // The names a daemon with the next few thousand pids would have used
    // for `<stem>.tmp.<pid>`, each a link to the victim.
    let planted = next_pids(3000);
    for n in &planted {
        std::os::unix::fs::symlink(&victim, env.path(&format!("run/z.tmp.{n}"))).unwrap();
    }
    let mut d = env.start_ready(&["--pid-file", &arg]);
    let pid = d.pid();
    assert!(
        planted.contains(&pid),
        "the daemon's pid {pid} is outside the planted range"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched\n");
    let meta = std::fs::symlink_metadata(&pid_path).unwrap();
    assert!(meta.file_type().is_file(), "{meta:?}");
    assert_eq!(
        std::fs::read_to_string(&pid_path).unwrap().trim(),
        pid.to_string()
    );
    d.signal(nix::sys::signal::Signal::SIGTERM);
    d.wait_exit(std::time::Duration::from_secs(20));
    assert!(!pid_path.exists(), "pid file left behind");
}
