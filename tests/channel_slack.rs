//! The Slack channel against a fake Slack (Web API + Socket Mode) on 127.0.0.1.

mod support;

use ractor::{Actor, ActorRef};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::channel_watch::{Ended, Watch, wait_until};
use support::slack::{APP_TOKEN, BOT_TOKEN, BOT_USER, FakeSlack, message_event};
use zeroclaw::channels::ChannelMsg;
use zeroclaw::channels::slack::{SeenEvents, SlackActor, SlackArgs};
use zeroclaw::component::ChannelKind;
use zeroclaw::config::{Config, Secret, SlackConfig};
use zeroclaw::daemon::wiring::Shared;

type Ctx = Arc<Shared>;

const WAIT: Duration = Duration::from_secs(10);

async fn setup(edit: impl FnOnce(&mut SlackConfig)) -> (FakeSlack, Ctx, tempfile::TempDir) {
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.daemon.state_dir = Some(dir.path().join("state"));
    let mut sc = SlackConfig {
        bot_token: Some(Secret::new(BOT_TOKEN)),
        app_token: Some(Secret::new(APP_TOKEN)),
        allowed_channels: vec!["CALLOWED".into()],
        api_base: fake.api_base(),
        idle_timeout: Duration::from_secs(5),
        ..SlackConfig::default()
    };
    edit(&mut sc);
    config.channel.slack = Some(sc);
    let ctx = Arc::new(Shared::build(config, None, dir.path().to_path_buf()).unwrap());
    (fake, ctx, dir)
}

async fn spawn(ctx: &Ctx, watch: &Watch) -> ActorRef<ChannelMsg> {
    spawn_seen(ctx, watch, SeenEvents::default()).await
}

async fn spawn_seen(ctx: &Ctx, watch: &Watch, seen: SeenEvents) -> ActorRef<ChannelMsg> {
    Actor::spawn_linked(
        None,
        SlackActor::default(),
        SlackArgs {
            deps: ctx.channel_deps(ChannelKind::Slack),
            keep: seen,
            backlog: Default::default(),
        },
        watch.watcher.get_cell(),
    )
    .await
    .unwrap()
    .0
}

#[tokio::test]
async fn socket_mode_round_trip_filters_acks_and_dedupes() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;

    let mut bot = message_event("CALLOWED", "U2", "from a bot");
    bot["bot_id"] = json!("B9");
    let (env_bot, _) = fake.push_event(bot, None);
    let mut edit = message_event("CALLOWED", "U2", "edited");
    edit["subtype"] = json!("message_changed");
    fake.push_event(edit, None);
    fake.push_event(message_event("CALLOWED", BOT_USER, "myself"), None);
    fake.push_message("COTHER", "U2", "wrong channel", None);
    let (env1, ev1) = fake.push_message("CALLOWED", "U2", "hello", None);
    // Slack redelivers the same event in a new envelope: answered once, acked twice.
    let mut again = message_event("CALLOWED", "U2", "hello");
    again["ts"] = json!("1700000000.000100");
    let (env2, _) = fake.push_event(again, Some(&ev1));
    fake.push_message("CALLOWED", "U2", "in a thread", Some("1699999999.000001"));

    wait_until(WAIT, "two answers", || fake.sent().len() >= 2).await;
    wait_until(WAIT, "all acks", || fake.with(|s| s.acks.len() == 7)).await;
    assert_eq!(
        fake.sent(),
        vec![
            ("CALLOWED".to_string(), "echo: hello".to_string(), None),
            (
                "CALLOWED".to_string(),
                "echo: in a thread".to_string(),
                Some("1699999999.000001".to_string())
            ),
        ]
    );
    let acks = fake.with(|s| s.acks.clone());
    for id in [&env_bot, &env1, &env2] {
        assert!(acks.contains(id), "{id} not acked: {acks:?}");
    }
    assert_eq!(
        ctx.detail("channel:slack").as_deref(),
        Some("socket mode connected")
    );
    watch.still_running(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn event_redelivered_after_a_restart_is_answered_once() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let seen = SeenEvents::default();
    let actor = spawn_seen(&ctx, &watch, seen.clone()).await;
    let (_, ev) = fake.push_message("CALLOWED", "U2", "once", None);
    wait_until(WAIT, "answer", || fake.sent().len() == 1).await;
    actor.stop(None);
    let _ = watch.ended(WAIT).await;
    // The ack was lost with the old connection: Slack sends the event again
    // to the restarted channel, which remembers it.
    let _actor = spawn_seen(&ctx, &watch, seen).await;
    wait_until(WAIT, "reconnected", || fake.with(|s| s.connections == 2)).await;
    fake.push_event(message_event("CALLOWED", "U2", "once"), Some(&ev));
    fake.push_message("CALLOWED", "U2", "next", None);
    wait_until(WAIT, "next answer", || fake.sent().len() >= 2).await;
    let texts: Vec<String> = fake.sent().into_iter().map(|(_, t, _)| t).collect();
    assert_eq!(texts, vec!["echo: once", "echo: next"]);
}

#[tokio::test]
async fn disconnect_frame_reconnects_in_place() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    wait_until(WAIT, "connected", || fake.with(|s| s.connections == 1)).await;
    fake.disconnect();
    wait_until(WAIT, "reconnected", || fake.with(|s| s.connections == 2)).await;
    assert_eq!(fake.with(|s| s.opens), 2);
    fake.push_message("CALLOWED", "U2", "after refresh", None);
    wait_until(WAIT, "answer", || fake.sent().len() == 1).await;
    watch.still_running(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn silent_connection_is_replaced() {
    let (fake, ctx, _dir) = setup(|sc| sc.idle_timeout = Duration::from_millis(200)).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    wait_until(WAIT, "connected", || fake.with(|s| s.connections == 1)).await;
    fake.mute();
    wait_until(WAIT, "reconnected", || fake.with(|s| s.connections == 2)).await;
    fake.push_message("CALLOWED", "U2", "after silence", None);
    wait_until(WAIT, "answer", || fake.sent().len() == 1).await;
    watch.still_running(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn dropped_connection_reconnects_in_place() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    wait_until(WAIT, "connected", || fake.with(|s| s.connections == 1)).await;
    // A dropped socket: the channel reconnects itself, it does not fail.
    fake.drop_connection();
    wait_until(WAIT, "reconnected", || fake.with(|s| s.connections == 2)).await;
    watch.still_running(Duration::from_millis(100)).await;

    // A 5xx from apps.connections.open on the way back is retried in place
    // too, and shown with the attempt count.
    fake.with(|s| s.fail_opens = 1);
    fake.drop_connection();
    wait_until(WAIT, "reconnecting shown", || {
        ctx.detail("channel:slack")
            .is_some_and(|d| d.contains("reconnecting (attempt ") && d.contains("500"))
    })
    .await;
    wait_until(WAIT, "reconnected again", || {
        fake.with(|s| s.connections == 3)
    })
    .await;
    fake.push_message("CALLOWED", "U2", "back again", None);
    wait_until(WAIT, "answer", || fake.sent().len() == 1).await;
    assert_eq!(fake.sent()[0].1, "echo: back again");
    watch.still_running(Duration::from_millis(300)).await;
    assert_eq!(fake.sent().len(), 1);
}

#[tokio::test]
async fn rate_limited_post_is_retried_after_retry_after() {
    let (fake, ctx, _dir) = setup(|_| {}).await;
    fake.with(|s| s.rate_limit_posts = 1);
    let watch = Watch::start().await;
    let actor = spawn(&ctx, &watch).await;
    let result = ractor::call_t!(
        actor,
        |reply| ChannelMsg::Deliver {
            target: "CALLOWED".into(),
            text: "cron report".into(),
            reply: Some(reply),
        },
        10_000
    )
    .unwrap();
    assert_eq!(result, Ok(()));
    assert_eq!(fake.with(|s| s.rate_limited), 1);
    assert_eq!(fake.sent()[0].1, "cron report");
    // {"ok":false} is reported, not retried forever.
    let result = ractor::call_t!(
        actor,
        |reply| ChannelMsg::Deliver {
            target: "CGONE".into(),
            text: "x".into(),
            reply: Some(reply),
        },
        10_000
    )
    .unwrap();
    assert!(result.unwrap_err().contains("channel_not_found"));
}

#[tokio::test]
async fn rejected_bot_token_stops_cleanly() {
    let (_fake, ctx, _dir) = setup(|sc| sc.bot_token = Some(Secret::new("xoxb-revoked"))).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&ctx, &watch).await;
    match watch.ended(WAIT).await {
        Ended::Stopped(Some(reason)) => {
            assert!(zeroclaw::channels::is_rejection(&reason), "{reason}");
            assert!(reason.contains("invalid_auth"), "{reason}");
        }
        other => panic!("expected a clean stop, got {other:?}"),
    }
    assert!(
        ctx.detail("channel:slack")
            .unwrap()
            .starts_with("failed: bot_token rejected")
    );
}

#[tokio::test]
async fn events_api_mode_answers_gateway_events() {
    let (fake, ctx, _dir) = setup(|sc| {
        sc.app_token = None;
        sc.signing_secret = Some(Secret::new("sign"));
    })
    .await;
    let watch = Watch::start().await;
    let actor = spawn(&ctx, &watch).await;
    let body = json!({
        "type": "event_callback",
        "event_id": "Ev77",
        "event": message_event("CALLOWED", "U3", "via events api"),
    });
    actor
        .send_message(ChannelMsg::SlackEvent(body.clone()))
        .unwrap();
    actor.send_message(ChannelMsg::SlackEvent(body)).unwrap();
    wait_until(WAIT, "answer", || !fake.sent().is_empty()).await;
    wait_until(WAIT, "events mode", || {
        ctx.detail("channel:slack")
            .is_some_and(|d| d.starts_with("events api"))
    })
    .await;
    assert_eq!(fake.sent().len(), 1);
    assert_eq!(fake.with(|s| s.opens), 0);
}
