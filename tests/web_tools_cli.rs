//! The web tools as an operator meets them: `config check` refusing an
//! unknown tool name with a suggestion and a web_search without backend, and
//! `zeroclaw doctor` saying for each offered tool whether it can run.

mod support;

use serde_json::Value;
use support::daemon::Env;
use support::search::{FakeSearch, result};

fn job(tools: &str) -> String {
    format!(
        "[[cron.jobs]]\nname = \"每日新闻推送\"\nschedule = \"0 9 * * *\"\nmessage = \"news\"\ntools = {tools}\n"
    )
}

#[test]
fn config_check_names_an_unknown_tool_and_suggests_the_right_one() {
    let env = Env::new(&job("[\"web_fecth\", \"shell\"]"));
    let out = env.cli(&["config", "check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("unknown tool `web_fecth`"), "{err}");
    assert!(err.contains("did you mean `web_fetch`?"), "{err}");
    // Where it is written.
    assert!(
        err.contains("[[cron.jobs]] #1 (`每日新闻推送`) `tools`"),
        "{err}"
    );

    let env = Env::new(&job("[\"web_search\"]"));
    let out = env.cli(&["config", "check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no search backend is configured"), "{err}");

    let env = Env::new("[tools.web_search]\nbackend = \"brave\"\n");
    let out = env.cli(&["config", "check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("needs api_key"), "{err}");

    // Anthropic's server-side search needs an Anthropic provider.
    let env = Env::new(&format!(
        "{}[tools.web_search]\nbackend = \"anthropic\"\n",
        job("[\"web_search\"]")
    ));
    let out = env.cli(&["config", "check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("this provider is not anthropic"), "{err}");
    let env = Env::new(&format!(
        "[provider]\nname = \"anthropic\"\napi_key = \"k\"\n{}[tools.web_search]\nbackend = \"anthropic\"\n",
        job("[\"web_search\"]")
    ));
    let out = env.cli(&["config", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let env = Env::new(&format!(
        "{}[tools.web_search]\nbackend = \"searxng\"\nbase_url = \"http://127.0.0.1:8888\"\n\
         [tools.web_fetch]\nmax_bytes = \"1MiB\"\nallowed_hosts = [\"intranet.lan:8080\"]\n",
        job("[\"web_search\", \"web_fetch\"]")
    ));
    let out = env.cli(&["config", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn doctor(env: &Env) -> Vec<Value> {
    let out = env.cli(&["doctor", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["checks"].as_array().unwrap().clone()
}

fn check<'a>(checks: &'a [Value], name: &str) -> &'a Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check `{name}` in {checks:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_says_whether_each_offered_tool_can_run() {
    let fake = FakeSearch::searxng(vec![result("Z", "https://z.example/", "z")]).await;
    let work = tempfile::tempdir().unwrap();
    let config = format!(
        "{}[tools.shell]\nworkdir = \"{}\"\n[tools.web_search]\nbackend = \"searxng\"\nbase_url = \"{}\"\n",
        job("[\"web_search\", \"web_fetch\", \"shell\"]"),
        work.path().display(),
        fake.base_url
    );
    let env = Env::new(&config);
    let checks = doctor(&env);
    for name in ["tool web_search", "tool web_fetch", "tool shell"] {
        assert_eq!(check(&checks, name)["ok"], true, "{name}: {checks:?}");
    }
    assert_eq!(fake.queries().len(), 1, "doctor asked the backend once");
    let shell = check(&checks, "tool shell")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        shell.contains("runs ") && shell.contains("Landlock"),
        "{shell}"
    );

    // The backend gone: doctor says so and what to check.
    let env = Env::new(&config.replace(&fake.base_url, "http://127.0.0.1:1"));
    let checks = doctor(&env);
    let c = check(&checks, "tool web_search");
    assert_eq!(c["ok"], false, "{c}");
    assert!(
        c["detail"].as_str().unwrap().contains("cannot be reached"),
        "{c}"
    );
    assert!(
        c["fix"].as_str().unwrap().contains("[tools.web_search]"),
        "{c}"
    );
}
