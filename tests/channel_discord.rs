//! The Discord channel against a fake gateway + REST API on 127.0.0.1.

mod support;

use ractor::{Actor, ActorRef};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::channel_watch::{Ended, Watch, wait_until};
use support::discord::{BOT_ID, FakeDiscord, TOKEN};
use zeroclaw::channels::ChannelMsg;
use zeroclaw::channels::discord::{DiscordActor, DiscordArgs, SessionSlot};
use zeroclaw::component::ChannelKind;
use zeroclaw::config::{Config, DiscordConfig, Secret};
use zeroclaw::daemon::wiring::Shared;

type Ctx = Arc<Shared>;

const WAIT: Duration = Duration::from_secs(10);

async fn setup(edit: impl FnOnce(&mut DiscordConfig)) -> (FakeDiscord, Ctx, tempfile::TempDir) {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.daemon.state_dir = Some(dir.path().join("state"));
    let mut dc = DiscordConfig {
        bot_token: Some(Secret::new(TOKEN)),
        allowed_guilds: vec!["201".into()],
        allowed_channels: vec!["101".into()],
        api_base: fake.api_base(),
        gateway_url: fake.gateway_url(),
        ..DiscordConfig::default()
    };
    edit(&mut dc);
    config.channel.discord = Some(dc);
    let ctx = Arc::new(Shared::build(config, None, dir.path().to_path_buf()).unwrap());
    (fake, ctx, dir)
}

async fn spawn(ctx: &Ctx, watch: &Watch) -> ActorRef<ChannelMsg> {
    spawn_with(ctx, watch, SessionSlot::default()).await
}

/// Starts sharing `slot` behave like restarts of one supervised child.
async fn spawn_with(ctx: &Ctx, watch: &Watch, slot: SessionSlot) -> ActorRef<ChannelMsg> {
    Actor::spawn_linked(
        None,
        DiscordActor::default(),
        DiscordArgs {
            deps: ctx.channel_deps(ChannelKind::Discord),
            keep: slot,
            backlog: Default::default(),
        },
        watch.watcher.get_cell(),
    )
    .await
    .unwrap()
    .0
}

#[tokio::test]
async fn identifies_filters_and_answers_with_prefix() {
    let (fake, ctx, _dir) = setup(|dc| dc.prefix = Some("!".into())).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;

    fake.push_message(Some("201"), "101", "7", true, "!from a bot");
    fake.push_message(Some("201"), "101", BOT_ID, false, "!myself");
    fake.push_message(Some("202"), "101", "7", false, "!wrong guild");
    fake.push_message(Some("201"), "102", "7", false, "!wrong channel");
    fake.push_message(None, "101", "7", false, "!a DM while guilds are limited");
    fake.push_message(Some("201"), "101", "7", false, "no prefix");
    fake.push_message(Some("201"), "101", "7", false, "!  hello there");
    wait_until(WAIT, "answer", || !fake.sent().is_empty()).await;
    // Messages are answered in order, so nothing else can still come.
    fake.push_message(Some("201"), "101", "7", false, "!last");
    wait_until(WAIT, "second answer", || fake.sent().len() == 2).await;
    assert_eq!(
        fake.sent(),
        vec![
            ("101".to_string(), "echo: hello there".to_string()),
            ("101".to_string(), "echo: last".to_string())
        ]
    );
    let identify = fake.with(|s| s.identifies[0].clone());
    assert_eq!(identify["token"], TOKEN);
    assert_eq!(identify["intents"], json!(512 | 4096 | 32768));
    assert_eq!(
        ctx.detail("channel:discord").as_deref(),
        Some("connected as zeroclaw")
    );
    watch.still_running(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn withheld_heartbeat_ack_reconnects_and_resumes() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    wait_until(WAIT, "identified", || {
        fake.with(|s| s.identifies.len() == 1)
    })
    .await;
    fake.with(|s| s.withhold_acks = true);
    wait_until(WAIT, "resume after zombie", || {
        fake.with(|s| !s.resumes.is_empty())
    })
    .await;
    fake.with(|s| s.withhold_acks = false);
    let (session, seq) = fake.with(|s| s.resumes[0].clone());
    assert_eq!(session, "sess-1");
    assert!(seq.is_some_and(|n| n >= 1), "{seq:?}");
    assert_eq!(
        fake.with(|s| s.identifies.len()),
        1,
        "resumed, not re-identified"
    );
    fake.push_message(Some("201"), "101", "7", false, "after resume");
    wait_until(WAIT, "answer", || fake.sent().len() == 1).await;
    watch.still_running(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn a_message_lost_with_the_socket_is_replayed_on_resume_and_answered_once() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    fake.push_message(Some("201"), "101", "7", false, "before");
    wait_until(WAIT, "first answer", || fake.sent().len() == 1).await;
    fake.lose_message_in_flight(Some("201"), "101", "in flight");
    wait_until(WAIT, "resumed and answered", || fake.sent().len() == 2).await;
    let (session, seq) = fake.with(|s| s.resumes[0].clone());
    assert_eq!(session, "sess-1");
    // READY was 1, "before" 2: the client resumes from the last it saw.
    assert_eq!(seq, Some(2));
    assert_eq!(fake.with(|s| s.replayed), 1);
    // Messages are answered in order, so a duplicate would come before this.
    fake.push_message(Some("201"), "101", "7", false, "after");
    wait_until(WAIT, "third answer", || fake.sent().len() == 3).await;
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(texts, ["echo: before", "echo: in flight", "echo: after"]);
    watch.still_running(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn reconnect_op_resumes_and_4009_starts_a_new_session() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    wait_until(WAIT, "identified", || {
        fake.with(|s| s.identifies.len() == 1)
    })
    .await;
    fake.send_op(json!({"op": 7, "d": null}));
    wait_until(WAIT, "resumed", || fake.with(|s| s.resumes.len() == 1)).await;
    fake.close(4009);
    wait_until(WAIT, "new session", || {
        fake.with(|s| s.identifies.len() == 2)
    })
    .await;
    assert_eq!(fake.with(|s| s.resumes.len()), 1);
    fake.push_message(Some("201"), "101", "7", false, "still here");
    wait_until(WAIT, "answer", || fake.sent().len() == 1).await;
    watch.still_running(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn invalid_session_starts_a_new_session() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    wait_until(WAIT, "identified", || {
        fake.with(|s| s.identifies.len() == 1)
    })
    .await;
    // op 9 with d=false: the session cannot be resumed (Discord asks for a 1–5 s wait).
    fake.send_op(json!({"op": 9, "d": false}));
    wait_until(WAIT, "new session", || {
        fake.with(|s| s.identifies.len() == 2)
    })
    .await;
    assert!(fake.with(|s| s.resumes.is_empty()));
    watch.still_running(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn close_4004_stops_cleanly() {
    let (_fake, ctx, _dir) = setup(|dc| dc.bot_token = Some(Secret::new("bad"))).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    match watch.ended(WAIT).await {
        Ended::Stopped(Some(reason)) => {
            assert!(zeroclaw::channels::is_rejection(&reason), "{reason}");
            assert!(reason.contains("4004"), "{reason}");
        }
        other => panic!("expected a clean stop, got {other:?}"),
    }
    assert!(
        ctx.detail("channel:discord")
            .unwrap()
            .starts_with("failed:")
    );
}

#[tokio::test]
async fn unreachable_gateway_is_ridden_out_in_place_and_resumes_without_loss() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let slot = SessionSlot::default();
    let _actor = spawn_with(&ctx, &watch, slot.clone()).await;
    fake.push_message(Some("201"), "101", "7", false, "before");
    wait_until(WAIT, "first answer", || fake.sent().len() == 1).await;
    // The socket drops and the gateway refuses the reconnect: the channel
    // retries in place, shows it, and does not fail.
    fake.with(|s| s.refuse_upgrades = 1);
    fake.drop_connection();
    wait_until(WAIT, "reconnecting shown", || {
        ctx.detail("channel:discord")
            .is_some_and(|d| d.contains("reconnecting (attempt 1)") && d.contains("502"))
    })
    .await;
    // Sent while the channel was down: Discord replays it on RESUME.
    fake.push_message(Some("201"), "101", "7", false, "while down");
    wait_until(WAIT, "replayed answer", || fake.sent().len() == 2).await;
    assert_eq!(fake.sent()[1].1, "echo: while down");
    assert_eq!(
        fake.with(|s| s.identifies.len()),
        1,
        "resumed, not identified"
    );
    assert_eq!(fake.with(|s| s.resumes[0].0.clone()), "sess-1");
    watch.still_running(Duration::from_millis(100)).await;

    // A momentary 5xx from REST while answering is retried: the answer arrives.
    fake.with(|s| s.fail_posts = 1);
    fake.push_message(Some("201"), "101", "7", false, "after one 502");
    wait_until(WAIT, "answer after a retried 502", || {
        fake.sent().len() == 3
    })
    .await;
    assert_eq!(fake.sent()[2].1, "echo: after one 502");

    // A 5xx that persists (beyond 1 + 3 quick retries) is waited out with
    // the reconnect backoff: answered once, the channel never fails.
    fake.with(|s| s.fail_posts = 5);
    fake.push_message(Some("201"), "101", "7", false, "into a 502");
    wait_until(WAIT, "answer after a persisting 502", || {
        fake.sent().len() == 4
    })
    .await;
    assert_eq!(fake.sent()[3].1, "echo: into a 502");
    watch.still_running(Duration::from_millis(300)).await;
    assert_eq!(fake.sent().len(), 4);
}

#[tokio::test]
async fn long_reply_is_split_and_rate_limits_are_honoured() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    fake.with(|s| {
        s.rate_limit_posts = 1;
        s.bucket_reset_after = Some(0.3);
    });
    let watch = Watch::start().await;
    let actor = spawn(&ctx, &watch).await;
    let text = "word ".repeat(900); // 4500 chars
    let result = ractor::call_t!(
        actor,
        |reply| ChannelMsg::Deliver {
            target: "109".into(),
            text: text.clone(),
            reply: Some(reply),
        },
        10_000
    )
    .unwrap();
    assert_eq!(result, Ok(()));
    let sent = fake.sent();
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter()
            .all(|(c, t)| c == "109" && t.chars().count() <= 2000)
    );
    assert_eq!(
        sent.iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        text.trim_end()
    );
    assert_eq!(fake.with(|s| s.rate_limited), 1);
    let bad = ractor::call_t!(
        actor,
        |reply| ChannelMsg::Deliver {
            target: "1/../../users/@me".into(),
            text: "x".into(),
            reply: Some(reply),
        },
        10_000
    )
    .unwrap();
    assert!(bad.unwrap_err().contains("not a Discord channel id"));
    // The emptied bucket made each later post wait its reset-after.
    let times = fake.with(|s| s.post_times.clone());
    for pair in times.windows(2).skip(1) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(290),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}
