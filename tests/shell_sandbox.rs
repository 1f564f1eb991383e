//! The shell tool as an attacker would use it: a fake model issues the tool
//! calls through the real daemon (a cron job offering `shell`, run with
//! `zeroclaw cron run`), and each test asserts the tool result the model
//! received. docs/security.md, "Shell tool sandbox".

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::anthropic::{Fake, KEY, Step};
use support::daemon::{Daemon, Env};

const T: Duration = Duration::from_secs(30);
/// In the config file: a command that can read the file would show it.
const CONFIG_MARKER: &str = "config-marker-4f1c9e";
const OUTSIDE_SECRET: &str = "outside-secret-77aa10";
/// In the daemon's environment, as the docs recommend for secrets.
const ENV_SECRET: &str = "daemon-env-secret-93be27";

/// A daemon with a cron job `probe` offering `shell`, and the fake model.
struct Rig {
    fake: Fake,
    env: Env,
    work: PathBuf,
}

impl Rig {
    async fn new(shell: &str) -> Self {
        let fake = Fake::start(Vec::new()).await;
        let env = Env::new(&format!(
            "# {CONFIG_MARKER}\n\
             [provider]\nname = \"anthropic\"\nmodel = \"claude-test\"\n\
             api_key = \"{KEY}\"\nbase_url = \"{}\"\n\
             retry_min_delay = \"10ms\"\nretry_max_delay = \"100ms\"\n\
             [[cron.jobs]]\nname = \"probe\"\nschedule = \"0 9 * * *\"\n\
             message = \"run the probe\"\ntools = [\"shell\"]\ntimeout = \"60s\"\n\
             [tools.shell]\n{shell}\n",
            fake.base_url
        ));
        let work = env.path("work");
        std::fs::create_dir_all(&work).unwrap();
        Self { fake, env, work }
    }

    /// Start the daemon (workdir `work`) with secrets in its environment.
    fn start(&self) -> Daemon {
        self.start_in(&self.work.clone())
    }

    fn start_in(&self, workdir: &std::path::Path) -> Daemon {
        let mut d = self
            .env
            .start_with(&["--workdir", workdir.to_str().unwrap()], |c| {
                c.env("ZC_TEST_SECRET", ENV_SECRET);
            });
        let deadline = Instant::now() + T;
        while self.env.status().is_none() {
            if let Some(status) = d.try_exit() {
                panic!("daemon exited early ({status}):\n{}", d.stderr());
            }
            assert!(Instant::now() < deadline, "not ready:\n{}", d.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    /// The model runs `command`: the tool result it is handed.
    fn shell(&self, d: &Daemon, command: &str) -> String {
        self.fake.push([
            Step::ToolUse {
                name: "shell".into(),
                input: json!({ "command": command }),
            },
            Step::EchoToolResult,
        ]);
        let out = self.env.cli(&["cron", "run", "probe", "--json"]);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {out:?}\n{}", d.stderr()));
        v["run"]["output"]
            .as_str()
            .and_then(|o| o.strip_prefix("The tool said: "))
            .unwrap_or_else(|| panic!("no tool result for `{command}`: {v}\n{}", d.stderr()))
            .to_string()
    }
}

/// Failed, said why, and showed nothing of `secret`.
fn denied(command: &str, result: &str, secret: &str) {
    assert!(!result.contains(secret), "`{command}` leaked: {result}");
    assert!(
        !result.starts_with("exit status 0") && result.contains("ermission denied"),
        "`{command}`: {result}"
    );
}

fn ok(command: &str, result: &str) {
    assert!(
        result.starts_with("exit status 0\n"),
        "`{command}`: {result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_outside_the_workdir_are_out_of_reach() {
    let rig = Rig::new(
        "allowed_commands = [\"cat\", \"ls\", \"touch\", \"df\", \"free\", \"uptime\", \"date\"]",
    )
    .await;
    let outside = rig.env.path("outside.txt");
    std::fs::write(&outside, OUTSIDE_SECRET).unwrap();
    std::os::unix::fs::symlink(&outside, rig.work.join("link-out")).unwrap();
    std::fs::write(rig.work.join("inside.txt"), "inside-content").unwrap();
    let d = rig.start();
    let config = rig.env.config.display().to_string();
    for (command, secret) in [
        ("cat ../outside.txt".to_string(), OUTSIDE_SECRET),
        ("cat link-out".into(), OUTSIDE_SECRET),
        ("cat ../config.toml".into(), CONFIG_MARKER),
        (format!("cat {config}"), CONFIG_MARKER),
        ("cat /etc/shadow".into(), "root:"),
        ("ls ../state".into(), "cron"),
    ] {
        let r = rig.shell(&d, &command);
        denied(&command, &r, secret);
    }
    let r = rig.shell(&d, "touch ../escaped.txt");
    denied("touch ../escaped.txt", &r, OUTSIDE_SECRET);
    assert!(!rig.env.path("escaped.txt").exists());

    // What the workdir and the health checks need still works.
    assert_eq!(
        rig.shell(&d, "cat inside.txt"),
        "exit status 0\ninside-content"
    );
    ok("touch", &rig.shell(&d, "touch made-here.txt"));
    assert!(rig.work.join("made-here.txt").exists());
    let ls = rig.shell(&d, "ls");
    ok("ls", &ls);
    assert!(
        ls.contains("inside.txt") && ls.contains("made-here.txt"),
        "{ls}"
    );
    for command in ["df -h", "uptime", "date"] {
        ok(command, &rig.shell(&d, command));
    }
    let free = rig.shell(&d, "free -m");
    ok("free -m", &free);
    assert!(free.contains("Mem:"), "{free}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemons_environment_is_out_of_reach() {
    let rig = Rig::new("allowed_commands = [\"ps\", \"cat\", \"env\"]").await;
    let d = rig.start();
    let ps = rig.shell(&d, "ps eww -C zeroclaw");
    assert!(ps.contains("zeroclaw"), "ps saw no daemon: {ps}");
    let environ = format!("cat /proc/{}/environ", d.pid());
    let daemon_env = rig.shell(&d, &environ);
    denied(&environ, &daemon_env, ENV_SECRET);
    let own = rig.shell(&d, "cat /proc/self/environ");
    ok("cat /proc/self/environ", &own);
    let listed = rig.shell(&d, "env");
    ok("env", &listed);
    for out in [&ps, &daemon_env, &own, &listed] {
        assert!(!out.contains(ENV_SECRET), "leaked: {out}");
        assert!(!out.contains(KEY), "leaked the API key: {out}");
    }
    let home = format!("HOME={}", rig.work.display());
    assert!(listed.contains(&home), "{listed}");
    for line in listed.lines().skip(1) {
        let name = line.split('=').next().unwrap_or_default();
        assert!(
            ["PATH", "HOME", "LANG", "TZ"].contains(&name) || name.starts_with("LC_"),
            "not on the allow-list: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_defaults_hold_no_command_that_changes_the_system() {
    // The name is set to what it already is: where this test fails (it
    // did before the sandbox, as root) it changes nothing.
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let set_name = format!("hostname {}", name.trim());
    let rig = Rig::new("").await;
    let d = rig.start();
    for command in [set_name.as_str(), "ps eww -C zeroclaw", "top -b -n 1"] {
        let r = rig.shell(&d, command);
        assert!(r.contains("is not allowed"), "`{command}`: {r}");
    }
    // Allowed by an operator, it still has no privilege to use.
    let rig = Rig::new("allowed_commands = [\"hostname\"]").await;
    let d = rig.start();
    let r = rig.shell(&d, &set_name);
    assert!(!r.starts_with("exit status 0"), "hostname was set: {r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemons_files_inside_the_workdir_refuse_the_tool() {
    let rig = Rig::new("allowed_commands = [\"cat\"]").await;
    // The temp dir holds config.toml and state/: as a workdir it would expose them.
    let d = rig.start_in(rig.env.dir.path());
    let r = rig.shell(&d, "cat config.toml");
    assert!(!r.contains(CONFIG_MARKER), "leaked: {r}");
    assert!(
        r.contains("the shell tool is refused") && r.contains("[tools.shell] workdir"),
        "{r}"
    );
    assert!(
        d.stderr().contains("the shell tool is refused"),
        "no warning at start:\n{}",
        d.stderr()
    );
}

/// The pid a command wrote into the workdir.
fn pid_in(rig: &Rig, file: &str) -> i32 {
    std::fs::read_to_string(rig.work.join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .trim()
        .parse()
        .unwrap()
}

/// Wait until no process `pid` exists, not even a zombie.
fn gone(pid: i32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(Instant::now() < deadline, "{what} {pid} survived: {stat}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_process_dies_with_its_timed_out_command() {
    let rig = Rig::new("allowed_commands = [\"sh\"]\ntimeout = \"1s\"").await;
    let d = rig.start();
    let started = Instant::now();
    let r = rig.shell(
        &d,
        "sh -c 'setsid sleep 1000 > /dev/null 2>&1 & echo $! > detached.pid; sleep 1000'",
    );
    assert!(r.contains("timed out after 1s and was killed"), "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    gone(pid_in(&rig, "detached.pid"), "the setsid sleep");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_process_holding_stdout_neither_hangs_the_call_nor_survives_it() {
    let rig = Rig::new("allowed_commands = [\"sh\"]\ntimeout = \"20s\"").await;
    let d = rig.start();
    let started = Instant::now();
    let r = rig.shell(
        &d,
        "sh -c 'setsid sleep 1000 & echo $! > held.pid; echo first-process-done'",
    );
    let took = started.elapsed();
    assert!(
        r.starts_with("exit status 0\n") && r.contains("first-process-done"),
        "{r}"
    );
    assert!(
        took < Duration::from_secs(10),
        "the call waited for the background process: {took:?}"
    );
    gone(pid_in(&rig, "held.pid"), "the background sleep");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_and_config_check_say_how_commands_are_confined() {
    let check = |rig: &Rig| -> Value {
        let out = rig.env.cli(&["doctor", "--json"]);
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        let found = v["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "shell sandbox").cloned());
        found.unwrap_or_else(|| panic!("no shell sandbox check: {v}"))
    };
    let rig = Rig::new("").await;
    let c = check(&rig);
    assert_eq!(c["ok"], true, "{c}");
    assert!(
        c["detail"].as_str().unwrap().contains("Landlock ABI"),
        "{c}"
    );

    let rig = Rig::new("sandbox = \"off\"").await;
    let c = check(&rig);
    assert_eq!(c["ok"], false, "{c}");
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .contains("remove `sandbox = \"off\"`"),
        "{c}"
    );
    let out = rig.env.cli(&["config", "check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("without Landlock"), "{text}");
    // Off still runs, in the workdir, with the other defences.
    let d = rig.start();
    assert!(
        d.stderr()
            .contains("sandbox = \"off\": commands run without Landlock"),
        "{}",
        d.stderr()
    );
    let r = rig.shell(&d, "ls");
    assert!(r.starts_with("exit status 0"), "{r}");
    // Without Landlock the daemon's being non-dumpable (and the command's
    // having no capabilities, should the daemon run as root) still keeps
    // its environment out of reach.
    let environ = format!("cat /proc/{}/environ", d.pid());
    let r = rig.shell(&d, &environ);
    denied(&environ, &r, ENV_SECRET);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_sandbox_value_is_refused_with_its_line() {
    let rig = Rig::new("sandbox = \"none\"").await;
    let out = rig.env.cli(&["config", "check"]);
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("sandbox") && text.contains("landlock"),
        "{text}"
    );
}
