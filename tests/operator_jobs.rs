//! The operator's guide's three jobs through the real binary, with fake
//! models issuing the tool calls: the news job searches (fake SearXNG),
//! fetches the article from a fake news site and delivers the headline to a
//! fake Telegram chat; the health check runs `df`, `free` and `uptime`
//! through the shell tool; the backup reminder is delivered.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::daemon::{Env, wait_for};
use support::search::{FakeSearch, result};
use support::telegram::FakeTelegram;
use support::web::{FakeSite, HEADLINE};
use support::{anthropic, openai};

const T: Duration = Duration::from_secs(30);
const CHAT: &str = "777";

struct World {
    telegram: FakeTelegram,
    site: FakeSite,
    searx: FakeSearch,
    claude: anthropic::Fake,
    gpt: openai::Fake,
}

impl World {
    /// `script` gives the models' steps, knowing the site's address.
    async fn start(
        script: impl FnOnce(&FakeSite) -> (Vec<anthropic::Step>, Vec<openai::Step>),
    ) -> Self {
        let site = FakeSite::start().await;
        let (claude, gpt) = script(&site);
        let searx = FakeSearch::searxng(vec![
            result(
                HEADLINE,
                &site.url("/article/1"),
                "The Rust team shipped 2.0 today.",
            ),
            result(
                "Kernel 7.1 adds a scheduler",
                &site.url("/article/2"),
                "Linux news.",
            ),
        ])
        .await;
        World {
            telegram: FakeTelegram::start().await,
            site,
            searx,
            claude: anthropic::Fake::start(claude).await,
            gpt: openai::Fake::start(gpt).await,
        }
    }

    fn config(&self, workdir: &std::path::Path) -> String {
        format!(
            "[provider]\nname = \"anthropic\"\nmodel = \"claude-test\"\napi_key = \"{ak}\"\n\
             base_url = \"{abase}\"\nretry_min_delay = \"10ms\"\nretry_max_delay = \"100ms\"\n\
             [providers.openai]\napi_key = \"{ok}\"\nbase_url = \"{obase}/v1\"\n\
             [channel.telegram]\nbot_token = \"{tgk}\"\nallowed_users = [\"1\"]\n\
             api_base = \"{tg}\"\npoll_timeout = \"1s\"\nsend_interval = \"10ms\"\n\
             [tools.shell]\nworkdir = \"{wd}\"\n\
             [tools.web_fetch]\nallowed_hosts = [\"{site}\"]\n\
             [tools.web_search]\nbackend = \"searxng\"\nbase_url = \"{searx}\"\n\
             [[cron.jobs]]\nname = \"每日新闻推送\"\nschedule = \"0 9 * * *\"\n\
             message = \"获取今日技术新闻并推送给用户\"\nprovider = \"openai\"\nmodel = \"gpt-test\"\n\
             tools = [\"web_search\", \"web_fetch\"]\ndeliver_to = \"telegram:{CHAT}\"\n\
             [[cron.jobs]]\nname = \"系统健康检查\"\nschedule = \"0 3 * * *\"\n\
             message = \"检查系统状态：CPU、内存、磁盘、服务状态\"\ntools = [\"shell\"]\n\
             deliver_to = \"telegram:{CHAT}\"\n\
             [[cron.jobs]]\nname = \"备份提醒\"\nschedule = \"0 18 * * 5\"\n\
             message = \"提醒用户进行数据备份\"\ndeliver_to = \"telegram:{CHAT}\"\n",
            ak = anthropic::KEY,
            abase = self.claude.base_url,
            ok = openai::KEY,
            obase = self.gpt.base_url,
            tg = self.telegram.api_base(),
            tgk = support::telegram::TOKEN,
            wd = workdir.display(),
            site = self.site.allowed_host(),
            searx = self.searx.base_url,
        )
    }
}

fn run(env: &Env, job: &str) -> Value {
    wait_for("the Telegram channel running", T, || {
        env.child("channel:telegram")
            .is_some_and(|c| c["state"] == "running")
    });
    let out = env.cli(&["cron", "run", job, "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(v["run"]["status"], "ok", "{v}");
    v
}

fn delivered(world: &World, needle: &str) -> bool {
    world
        .telegram
        .sent()
        .iter()
        .any(|(chat, text)| chat == CHAT && text.contains(needle))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_job_searches_fetches_and_delivers_the_headline() {
    let world = World::start(|site| {
        let gpt = vec![
            openai::Step::ToolCall {
                name: "web_search".into(),
                arguments: json!({"query": "今日 技术新闻", "count": 5}).to_string(),
            },
            openai::Step::ToolCall {
                name: "web_fetch".into(),
                arguments: json!({"url": site.url("/article/1")}).to_string(),
            },
            openai::Step::EchoToolResult,
        ];
        (vec![], gpt)
    })
    .await;
    let workdir = tempfile::tempdir().unwrap();
    let env = Env::new(&world.config(workdir.path()));
    let d = env.start_ready(&[]);
    let v = run(&env, "每日新闻推送");
    let output = v["run"]["output"].as_str().unwrap_or_default();
    assert!(output.contains(HEADLINE), "{v} {}", d.stderr());
    wait_for("the headline in the Telegram chat", T, || {
        delivered(&world, HEADLINE)
    });
    // The search came first, with the model's query, and its results reached the model.
    assert_eq!(world.searx.queries()[0]["q"], "今日 技术新闻");
    let reqs = world.gpt.requests();
    assert_eq!(reqs.len(), 3, "search, fetch, answer");
    let second = reqs[1].body.to_string();
    assert!(second.contains(&world.site.url("/article/1")), "{second}");
    assert_eq!(world.site.hits("/article/1"), 1);
    // The page's script never reached the model.
    let third = reqs[2].body.to_string();
    assert!(
        third.contains(HEADLINE) && !third.contains("secret-tracker"),
        "{third}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_runs_df_free_and_uptime_through_the_shell_tool() {
    let shell = |c: &str| anthropic::Step::ToolUse {
        name: "shell".into(),
        input: json!({ "command": c }),
    };
    let world = World::start(|_| {
        let claude = vec![
            shell("df -h"),
            shell("free -m"),
            shell("uptime"),
            anthropic::Step::text("磁盘、内存和负载正常。"),
        ];
        (claude, vec![])
    })
    .await;
    let workdir = tempfile::tempdir().unwrap();
    let env = Env::new(&world.config(workdir.path()));
    let d = env.start_ready(&[]);
    run(&env, "系统健康检查");
    wait_for("the health report in the chat", T, || {
        delivered(&world, "负载正常")
    });
    let reqs = world.claude.requests();
    assert_eq!(reqs.len(), 4, "{}", d.stderr());
    let results: Vec<String> = reqs[1..]
        .iter()
        .map(|r| {
            let msgs = r.body["messages"].as_array().unwrap();
            msgs.last().unwrap().to_string()
        })
        .collect();
    assert!(
        results[0].contains("Filesystem") && results[0].contains("exit status 0"),
        "{}",
        results[0]
    );
    assert!(
        results[1].contains("Mem:") && results[1].contains("exit status 0"),
        "{}",
        results[1]
    );
    assert!(
        results[2].contains("load average") && results[2].contains("exit status 0"),
        "{}",
        results[2]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_reminder_is_delivered() {
    let world = World::start(|_| {
        (
            vec![anthropic::Step::text("提醒：今天是周五，请备份数据。")],
            vec![],
        )
    })
    .await;
    let workdir = tempfile::tempdir().unwrap();
    let env = Env::new(&world.config(workdir.path()));
    let _d = env.start_ready(&[]);
    run(&env, "备份提醒");
    wait_for("the reminder in the chat", T, || {
        delivered(&world, "请备份数据")
    });
    let reqs = world.claude.requests();
    assert!(reqs[0].body.to_string().contains("提醒用户进行数据备份"));
    assert!(
        reqs[0]
            .body
            .get("tools")
            .is_none_or(|t| t.as_array().is_some_and(|a| a.is_empty()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_in_a_search_result_reaches_the_model_masked() {
    use support::search::BRAVE_KEY;
    let world = World::start(|_| {
        let gpt = vec![
            openai::Step::ToolCall {
                name: "web_search".into(),
                arguments: json!({"query": "leak"}).to_string(),
            },
            openai::Step::EchoToolResult,
        ];
        (vec![], gpt)
    })
    .await;
    let brave = FakeSearch::brave(vec![result(
        "Pasted keys",
        "https://paste.example/1",
        &format!("token {BRAVE_KEY} and bot {}", support::telegram::TOKEN),
    )])
    .await;
    let workdir = tempfile::tempdir().unwrap();
    let config = world.config(workdir.path()).replace(
        &format!(
            "backend = \"searxng\"\nbase_url = \"{}\"",
            world.searx.base_url
        ),
        &format!(
            "backend = \"brave\"\nbase_url = \"{}\"\napi_key = \"{BRAVE_KEY}\"",
            brave.base_url
        ),
    );
    let env = Env::new(&config);
    let _d = env.start_ready(&[]);
    run(&env, "每日新闻推送");
    let reqs = world.gpt.requests();
    let second = reqs[1].body.to_string();
    assert!(
        second.contains("Pasted keys") && second.contains("token ***"),
        "{second}"
    );
    assert!(
        !second.contains(BRAVE_KEY) && !second.contains(support::telegram::TOKEN),
        "{second}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn news_job_with_anthropic_server_side_search() {
    let blocks = json!([
        {"type": "text", "text": "Searching."},
        {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search",
         "input": {"query": "今日 技术新闻"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": [
            {"type": "web_search_result", "url": "https://news.example/rust-2", "title": HEADLINE,
             "encrypted_content": "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5", "page_age": "1 hour ago"}]},
        {"type": "text", "text": format!("今日头条：{HEADLINE}"),
         "citations": [{"type": "web_search_result_location", "url": "https://news.example/rust-2",
                        "title": HEADLINE, "encrypted_index": "Eo8BCioIAhgB", "cited_text": "Rust 2.0"}]}
    ]);
    let world = World::start(|_| (vec![anthropic::Step::Blocks(blocks)], vec![])).await;
    let workdir = tempfile::tempdir().unwrap();
    let config = world
        .config(workdir.path())
        .replace(
            &format!(
                "backend = \"searxng\"\nbase_url = \"{}\"",
                world.searx.base_url
            ),
            "backend = \"anthropic\"",
        )
        .replace("provider = \"openai\"\nmodel = \"gpt-test\"\n", "");
    let env = Env::new(&config);
    let _d = env.start_ready(&[]);
    run(&env, "每日新闻推送");
    wait_for("the headline in the chat", T, || {
        delivered(&world, HEADLINE)
    });
    let reqs = world.claude.requests();
    assert_eq!(reqs.len(), 1, "Anthropic ran the search inside one turn");
    let tools = reqs[0].body["tools"].as_array().unwrap();
    let search = tools.iter().find(|t| t["name"] == "web_search").unwrap();
    assert_eq!(search["type"], "web_search_20250305", "{search}");
    assert!(search.get("input_schema").is_none(), "{search}");
    assert!(
        tools
            .iter()
            .any(|t| t["name"] == "web_fetch" && t["input_schema"].is_object())
    );
    assert!(world.searx.queries().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pages_are_tool_errors_or_cut_and_the_daemon_carries_on() {
    let fetch = |url: String| openai::Step::ToolCall {
        name: "web_fetch".into(),
        arguments: json!({ "url": url }).to_string(),
    };
    let world = World::start(|site| {
        let gpt = vec![
            fetch(site.url("/big")),
            fetch(site.url("/bomb")),
            fetch(site.url("/to-metadata")),
            fetch("file:///etc/passwd".into()),
            fetch(site.url("/image.png")),
            openai::Step::text("survived"),
        ];
        (vec![], gpt)
    })
    .await;
    let workdir = tempfile::tempdir().unwrap();
    let env = Env::new(&world.config(workdir.path()));
    let d = env.start_ready(&[]);
    let v = run(&env, "每日新闻推送");
    assert_eq!(v["run"]["output"], "survived", "{v}");
    let results: Vec<String> = world.gpt.requests()[1..]
        .iter()
        .map(|r| {
            r.body["messages"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        results[0].contains("[the page is larger than 2.0 MiB"),
        "{}",
        results[0]
    );
    assert!(
        results[1].contains("[the page is larger than 2.0 MiB"),
        "{}",
        results[1]
    );
    assert!(
        results[2].contains("169.254.169.254") && results[2].contains("refused"),
        "{}",
        results[2]
    );
    assert!(results[3].contains("only http and https"), "{}", results[3]);
    assert!(results[4].contains("image/png"), "{}", results[4]);
    assert!(
        results.iter().all(|r| r.len() < 200_000),
        "results are capped"
    );
    for child in ["control", "channel:telegram"] {
        let c = env.child(child).unwrap();
        assert_eq!(c["state"], "running", "{child}: {c} {}", d.stderr());
        assert_eq!(c["restarts"], 0, "{child}: {c}");
    }
}
