//! Nothing a command starts outlives its tool call (docs/security.md, "Shell
//! tool sandbox").
//!
//! Each command's first process starts a session of its own, and the daemon
//! is a child subreaper (set at start): a descendant that detaches with
//! `setsid`, or whose parent exits, becomes the daemon's child rather than
//! init's, and can never join the daemon's session again. So when a call
//! ends, the command's tree and every *adopted orphan* — a child of the
//! daemon, in another session, that the tool did not start itself — are
//! killed and reaped. Blocking code (it reads /proc): call it from
//! `spawn_blocking`.

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getpid, getsid};
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Direct children started by the tool and not yet reaped by tokio: never
/// mistaken for orphans. Held while spawning and while sweeping, so a child
/// being started cannot be seen half-registered.
static STARTED: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// How long one sweep keeps killing a tree that forks back.
const SWEEP_LIMIT: Duration = Duration::from_secs(3);

fn started() -> MutexGuard<'static, BTreeSet<i32>> {
    match STARTED.lock() {
        Ok(s) => s,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Spawn `cmd`, registered as one of the tool's direct children.
pub fn spawn(cmd: &mut tokio::process::Command) -> std::io::Result<tokio::process::Child> {
    let mut set = started();
    let child = cmd.spawn()?;
    if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
        set.insert(pid);
    }
    Ok(child)
}

/// `pid` has been reaped (or handed to tokio's orphan reaper): from now on a
/// child with that pid is not ours to spare.
pub fn forget(pid: i32) {
    started().remove(&pid);
}

#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: i32,
    ppid: i32,
    session: i32,
    zombie: bool,
}

/// Every process, from `/proc/<pid>/stat` (the fields after the command
/// name, which may itself contain spaces and parentheses).
fn table() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
        let state = rest.next()?;
        let ppid = rest.next()?.parse().ok()?;
        let _pgrp = rest.next()?;
        let session = rest.next()?.parse().ok()?;
        Some(Proc {
            pid,
            ppid,
            session,
            zombie: state == "Z",
        })
    })
    .collect()
}

/// `seeds` and all their descendants.
fn closure(procs: &[Proc], mut set: BTreeSet<i32>) -> BTreeSet<i32> {
    loop {
        let before = set.len();
        for p in procs {
            if set.contains(&p.ppid) {
                set.insert(p.pid);
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// Kill the process group of `root` and every descendant of `root`, while
/// `root` is still unreaped (its children still point to it).
pub fn kill_tree(root: i32) {
    let pid = Pid::from_raw(root);
    // ESRCH (already gone) is the normal case.
    let _ = killpg(pid, Signal::SIGKILL);
    let procs = table();
    for p in closure(&procs, BTreeSet::from([root])) {
        let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
    }
}

/// Kill and reap every adopted orphan and its descendants, until none is
/// left or [`SWEEP_LIMIT`] has passed. Returns how many processes it killed.
pub fn sweep() -> usize {
    let me = getpid().as_raw();
    let Ok(my_session) = getsid(None).map(Pid::as_raw) else {
        return 0;
    };
    let deadline = Instant::now() + SWEEP_LIMIT;
    let mut killed = BTreeSet::new();
    loop {
        let set = started();
        let procs = table();
        let orphans: BTreeSet<i32> = procs
            .iter()
            .filter(|p| p.ppid == me && p.session != my_session && !set.contains(&p.pid))
            .map(|p| p.pid)
            .collect();
        if orphans.is_empty() {
            return killed.len();
        }
        let targets = closure(&procs, orphans.clone());
        for p in procs.iter().filter(|p| targets.contains(&p.pid)) {
            if !p.zombie {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
                killed.insert(p.pid);
            }
        }
        drop(set);
        for pid in orphans {
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
        if Instant::now() > deadline {
            tracing::warn!(
                killed = killed.len(),
                "shell: processes left by a command kept forking; some may remain"
            );
            return killed.len();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
