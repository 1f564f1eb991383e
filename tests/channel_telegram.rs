//! The Telegram channel against a fake Bot API on 127.0.0.1.

mod support;

use ractor::{Actor, ActorRef};
use std::sync::Arc;
use std::time::Duration;
use support::channel_watch::{Ended, Watch, wait_until};
use support::telegram::{FakeTelegram, TOKEN};
use zeroclaw::channels::ChannelMsg;
use zeroclaw::channels::telegram::{TelegramActor, TelegramArgs};
use zeroclaw::component::ChannelKind;
use zeroclaw::config::{Config, Secret, TelegramConfig};
use zeroclaw::daemon::wiring::Shared;

type Ctx = Arc<Shared>;

const WAIT: Duration = Duration::from_secs(10);
const ALLOWED: i64 = 42;

struct Setup {
    fake: FakeTelegram,
    ctx: Ctx,
    _dir: tempfile::TempDir,
}

async fn setup(edit: impl FnOnce(&mut TelegramConfig)) -> Setup {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.daemon.state_dir = Some(dir.path().join("state"));
    let mut tg = TelegramConfig {
        bot_token: Some(Secret::new(TOKEN)),
        allowed_users: vec![ALLOWED.to_string()],
        api_base: fake.api_base(),
        poll_timeout: Duration::from_secs(1),
        send_interval: Duration::from_millis(20),
        ..TelegramConfig::default()
    };
    edit(&mut tg);
    config.channel.telegram = Some(tg);
    let ctx = Arc::new(Shared::build(config, None, dir.path().to_path_buf()).unwrap());
    Setup {
        fake,
        ctx,
        _dir: dir,
    }
}

async fn spawn(ctx: &Ctx, watch: &Watch) -> ActorRef<ChannelMsg> {
    let (actor, _) = Actor::spawn_linked(
        None,
        TelegramActor::default(),
        TelegramArgs {
            deps: ctx.channel_deps(ChannelKind::Telegram),
            keep: (),
            backlog: Default::default(),
        },
        watch.watcher.get_cell(),
    )
    .await
    .unwrap();
    actor
}

/// The tree's specs of the Telegram channel component (one child when enabled).
fn telegram_specs(
    ctx: &Ctx,
    policy: &zeroclaw_actors::RestartPolicy,
) -> Vec<zeroclaw_actors::ChildSpec> {
    let channel = zeroclaw::channels::Channel::new(ctx.channel_deps(ChannelKind::Telegram));
    zeroclaw::component::specs_of(&channel, &ctx.config.get(), &|_| policy.clone())
}

fn counter(ctx: &Ctx, direction: &str) -> u64 {
    ctx.metrics
        .counters()
        .into_iter()
        .filter(|(name, labels, _)| {
            name == "zeroclaw_channel_messages_total"
                && labels.contains(&("channel".into(), "telegram".into()))
                && labels.contains(&("direction".into(), direction.into()))
        })
        .map(|(_, _, v)| v)
        .sum()
}

#[tokio::test]
async fn allowed_user_gets_the_echo_and_strangers_get_nothing() {
    let s = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let actor = spawn(&s.ctx, &watch).await;

    s.fake.push_text(500, 7, "from a stranger");
    let id = s.fake.push_text(500, ALLOWED, "hello bot");
    wait_until(WAIT, "the echo reply", || !s.fake.sent().is_empty()).await;
    assert_eq!(
        s.fake.sent(),
        vec![("500".to_string(), "echo: hello bot".to_string())]
    );
    // Both were confirmed: the next poll asks past the last one.
    wait_until(WAIT, "offset confirmation", || {
        s.fake.with(|f| f.offsets.contains(&Some(id + 1)))
    })
    .await;
    assert_eq!(s.fake.with(|f| f.delete_webhook_calls), 1);
    assert_eq!(counter(&s.ctx, "in"), 2);
    assert_eq!(counter(&s.ctx, "out"), 1);
    assert_eq!(s.ctx.detail("channel:telegram").as_deref(), Some("polling"));
    watch.still_running(Duration::from_millis(100)).await;
    actor.stop(None);
    assert_eq!(watch.ended(WAIT).await, Ended::Stopped(None));
    // The polling task ended with the actor: no poll starts after it stopped.
    let polls = s.fake.with(|f| f.offsets.len());
    s.fake.push_text(500, ALLOWED, "after stop");
    watch.still_running(Duration::from_millis(1200)).await;
    assert_eq!(s.fake.with(|f| f.offsets.len()), polls);
    assert_eq!(s.fake.sent().len(), 1);
}

#[tokio::test]
async fn long_reply_is_split_and_429_is_waited_out() {
    let s = setup(|tg| tg.max_message_length = 20).await;
    s.fake.with(|f| f.rate_limit_sends = 1);
    let watch = Watch::start().await;
    let _actor = spawn(&s.ctx, &watch).await;

    let text = "first paragraph\n\nsecond line\nthird words here";
    s.fake.push_text(9, ALLOWED, text);
    // The echo provider answers "echo: <text>": split on the paragraph, the
    // line, and (for the 21-character first paragraph) a word boundary.
    wait_until(WAIT, "four parts", || s.fake.sent().len() >= 4).await;
    let parts: Vec<String> = s.fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        parts,
        vec![
            "echo: first",
            "paragraph",
            "second line",
            "third words here"
        ]
    );
    assert_eq!(s.fake.with(|f| f.rate_limited), 1);
}

#[tokio::test]
async fn transient_failures_recover_in_place_and_crashes_restart_without_loss() {
    let s = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&s.ctx, &watch).await;

    let first = s.fake.push_text(1, ALLOWED, "one");
    wait_until(WAIT, "first answer", || s.fake.sent().len() == 1).await;
    // The poll that would confirm `first` fails with a 502: the channel
    // retries in place and shows it, without failing...
    s.fake.with(|f| f.fail_polls = 1);
    s.fake.push_text(1, ALLOWED, "two");
    wait_until(WAIT, "reconnecting shown", || {
        s.ctx
            .detail("channel:telegram")
            .is_some_and(|d| d.contains("reconnecting (attempt 1)") && d.contains("502"))
    })
    .await;
    wait_until(WAIT, "second answer", || s.fake.sent().len() >= 2).await;
    // ...and so it does after a dropped connection.
    s.fake.with(|f| f.drop_polls = 1);
    wait_until(WAIT, "the dropped poll", || {
        s.fake.with(|f| f.drop_polls == 0)
    })
    .await;
    s.fake.push_text(1, ALLOWED, "three");
    wait_until(WAIT, "third answer", || s.fake.sent().len() >= 3).await;
    watch.still_running(Duration::from_millis(300)).await;

    // An answer the channel cannot read is a crash: the actor fails...
    s.fake.with(|f| f.garbled_polls = 1);
    let ended = watch.ended(WAIT).await;
    s.fake.push_text(1, ALLOWED, "four");
    assert!(matches!(ended, Ended::Failed(_)), "{ended:?}");
    assert!(
        s.ctx
            .detail("channel:telegram")
            .unwrap()
            .contains("connection lost")
    );
    // ...and, started again (as the supervisor would), goes on from the saved offset.
    let _actor = spawn(&s.ctx, &watch).await;
    wait_until(WAIT, "fourth answer", || s.fake.sent().len() >= 4).await;
    s.fake.push_text(1, ALLOWED, "five");
    wait_until(WAIT, "fifth answer", || s.fake.sent().len() >= 5).await;
    watch.still_running(Duration::from_millis(300)).await;
    let texts: Vec<String> = s.fake.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        texts,
        vec![
            "echo: one",
            "echo: two",
            "echo: three",
            "echo: four",
            "echo: five"
        ]
    );
    // Every retry and restart resumed past the first update rather than from scratch.
    assert!(
        s.fake
            .with(|f| f.offsets.iter().all(|o| o.is_none_or(|o| o >= first)))
    );
    assert_eq!(
        s.fake
            .with(|f| f.offsets.iter().filter(|o| o.is_none()).count()),
        1
    );
}

/// A service that answers (deleteWebhook works) but fails every poll is
/// backed off from with a growing wait, not hammered once a second.
#[tokio::test]
async fn persistent_5xx_backs_off_with_a_growing_attempt_count() {
    let s = setup(|_| {}).await;
    s.fake.with(|f| f.fail_polls = 3);
    let mut watch = Watch::start().await;
    let _actor = spawn(&s.ctx, &watch).await;
    wait_until(WAIT, "the third attempt shown", || {
        s.ctx
            .detail("channel:telegram")
            .is_some_and(|d| d.contains("reconnecting (attempt 3)"))
    })
    .await;
    s.fake.push_text(1, ALLOWED, "after three 502s");
    wait_until(WAIT, "answer", || s.fake.sent().len() == 1).await;
    let times = s.fake.with(|f| f.poll_times.clone());
    // Waits of at least 0.5 s, 1 s and 2 s between the four polls.
    let waited = times[3] - times[0];
    assert!(waited >= Duration::from_millis(3500), "{waited:?}");
    watch.still_running(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_black_holed_poll_is_abandoned_and_polled_again() {
    let s = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&s.ctx, &watch).await;
    wait_until(WAIT, "polling", || s.fake.with(|f| !f.offsets.is_empty())).await;
    s.fake.with(|f| f.blackhole_polls = 1);
    wait_until(WAIT, "the black-holed poll", || {
        s.fake.with(|f| f.blackhole_polls == 0)
    })
    .await;
    let sent_at = std::time::Instant::now();
    s.fake.push_text(1, ALLOWED, "after the black hole");
    // poll_timeout (1 s) + the grace (5 s) + the first backoff (at most 1 s).
    wait_until(WAIT, "answer after the black hole", || {
        s.fake.sent().len() == 1
    })
    .await;
    assert!(
        sent_at.elapsed() < Duration::from_secs(8),
        "{:?}",
        sent_at.elapsed()
    );
    watch.still_running(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn conflict_is_retried_in_place() {
    let s = setup(|_| {}).await;
    s.fake.with(|f| f.conflict_polls = 1);
    let mut watch = Watch::start().await;
    let _actor = spawn(&s.ctx, &watch).await;
    wait_until(WAIT, "conflict reported", || {
        s.ctx
            .detail("channel:telegram")
            .is_some_and(|d| d.contains("409"))
    })
    .await;
    s.fake.push_text(3, ALLOWED, "after conflict");
    wait_until(WAIT, "answer after conflict", || s.fake.sent().len() == 1).await;
    watch.still_running(Duration::from_millis(100)).await;
    // Another poller holds the bot: the channel waited at least one poll
    // timeout (1 s here) before polling again.
    let times = s.fake.with(|f| f.poll_times.clone());
    assert!(times.len() >= 2, "{times:?}");
    let gap = times[1] - times[0];
    assert!(gap >= Duration::from_secs(1), "{gap:?}");
}

#[tokio::test]
async fn rejected_token_stops_cleanly_with_the_reason() {
    let s = setup(|tg| tg.bot_token = Some(Secret::new("999:revoked"))).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&s.ctx, &watch).await;
    match watch.ended(WAIT).await {
        Ended::Stopped(Some(reason)) => {
            assert!(zeroclaw::channels::is_rejection(&reason), "{reason}");
            assert!(reason.contains("401"), "{reason}");
        }
        other => panic!("expected a clean stop, got {other:?}"),
    }
    let detail = s.ctx.detail("channel:telegram").unwrap();
    assert!(
        detail.starts_with("failed: bot token rejected (401"),
        "{detail}"
    );
}

#[tokio::test]
async fn webhook_mode_registers_and_answers_gateway_updates() {
    let s = setup(|tg| {
        tg.webhook_url = Some("https://bot.example.com/webhook/telegram".into());
        tg.webhook_secret = Some(Secret::new("s3cret"));
    })
    .await;
    let watch = Watch::start().await;
    let actor = spawn(&s.ctx, &watch).await;
    wait_until(WAIT, "setWebhook", || s.fake.with(|f| f.webhook.is_some())).await;
    assert_eq!(
        s.fake.with(|f| f.webhook.clone()),
        Some((
            "https://bot.example.com/webhook/telegram".to_string(),
            Some("s3cret".to_string())
        ))
    );
    let update = support::telegram::update(77, 5, ALLOWED, "via webhook");
    actor
        .send_message(ChannelMsg::TelegramUpdate(update.clone()))
        .unwrap();
    // A redelivery of the same update is answered once.
    actor
        .send_message(ChannelMsg::TelegramUpdate(update))
        .unwrap();
    wait_until(WAIT, "webhook answer", || !s.fake.sent().is_empty()).await;
    let msg = ractor::call_t!(
        actor,
        |reply| ChannelMsg::Deliver {
            target: "5".into(),
            text: "cron says hi".into(),
            reply: Some(reply),
        },
        10_000
    )
    .unwrap();
    assert_eq!(msg, Ok(()));
    assert_eq!(
        s.fake.sent(),
        vec![
            ("5".to_string(), "echo: via webhook".to_string()),
            ("5".to_string(), "cron says hi".to_string())
        ]
    );
    assert!(
        s.fake.with(|f| f.offsets.is_empty()),
        "no polling in webhook mode"
    );
}

/// Through the real supervision kernel: a failing channel is restarted (the
/// restart count grows) and works afterwards.
#[tokio::test]
async fn supervised_restart_and_give_up() {
    use zeroclaw_actors::{ChildState, RestartPolicy, SupervisorHandle, SupervisorOptions};
    let s = setup(|_| {}).await;
    let policy = RestartPolicy {
        restart_sec: Duration::from_millis(100),
        start_limit_burst: 10,
        ..RestartPolicy::default()
    };
    let specs = telegram_specs(&s.ctx, &policy);
    assert_eq!(specs.len(), 1);
    let tree = SupervisorHandle::start("chantest", specs, SupervisorOptions::default())
        .await
        .unwrap();
    // Two 502s are ridden out in place: the supervisor restarts nothing.
    s.fake.with(|f| f.fail_polls = 2);
    s.fake.push_text(1, ALLOWED, "survives a 502");
    wait_until(WAIT, "answer after 502s", || s.fake.sent().len() == 1).await;
    let snap = tree.snapshot().await.unwrap();
    let child = &snap.children[0];
    assert_eq!(child.name, "channel:telegram");
    assert_eq!(child.restarts, 0, "{child:?}");
    assert_eq!(child.state, ChildState::Running);
    // Two answers it cannot read are crashes: the supervisor restarts it.
    s.fake.with(|f| f.garbled_polls = 2);
    wait_until(WAIT, "the garbled polls", || {
        s.fake.with(|f| f.garbled_polls == 0)
    })
    .await;
    s.fake.push_text(1, ALLOWED, "survives restarts");
    wait_until(WAIT, "answer after restarts", || s.fake.sent().len() == 2).await;
    let snap = tree.snapshot().await.unwrap();
    let child = &snap.children[0];
    assert!(child.restarts >= 2, "{child:?}");
    assert_eq!(child.state, ChildState::Running);
    // Delivery through the registry, as cron does it.
    let registry = zeroclaw::component::Registry::new("chantest");
    let target = "telegram:1".parse().unwrap();
    zeroclaw::channels::deliver(&registry, &target, "from cron", WAIT)
        .await
        .unwrap();
    assert_eq!(s.fake.sent().len(), 3);
    tree.shutdown().await.unwrap();
}

/// Through the real kernel: a rejected token stops the child with a fatal
/// reason, so it is marked `failed` and not restarted, and the reason is kept.
#[tokio::test]
async fn supervised_rejection_does_not_restart() {
    use zeroclaw_actors::{
        ChildState, ExitKind, RestartPolicy, SupervisorHandle, SupervisorOptions,
    };
    let s = setup(|tg| tg.bot_token = Some(Secret::new("1:revoked"))).await;
    let policy = RestartPolicy {
        restart: zeroclaw_actors::Restart::Always,
        restart_sec: Duration::from_millis(50),
        ..RestartPolicy::default()
    };
    let specs = telegram_specs(&s.ctx, &policy);
    let tree = SupervisorHandle::start("chantest-rejected", specs, SupervisorOptions::default())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    let child = loop {
        let snap = tree.snapshot().await.unwrap();
        let child = snap.children[0].clone();
        if child.state != ChildState::Running && child.state != ChildState::Starting {
            break child;
        }
        assert!(tokio::time::Instant::now() < deadline, "{child:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let exit = child.last_exit.clone().unwrap();
    assert_eq!(child.state, ChildState::Failed, "{child:?}");
    assert_eq!(exit.kind, ExitKind::Failure, "{child:?}");
    assert!(zeroclaw::channels::is_rejection(&exit.message), "{child:?}");
    assert_eq!(child.restarts, 0, "{child:?}");
    assert!(
        s.ctx
            .detail("channel:telegram")
            .unwrap()
            .starts_with("failed: bot token rejected")
    );
    eprintln!("snapshot after rejection: {child:?}");
    tree.shutdown().await.unwrap();
}

/// A figure, not a check: echo round trips through the fake Bot API, one
/// update per chat (so pacing does not apply). Run with
/// `cargo test --test channel_telegram throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement"]
async fn throughput() {
    let s = setup(|tg| tg.send_interval = Duration::ZERO).await;
    let watch = Watch::start().await;
    let _actor = spawn(&s.ctx, &watch).await;
    s.fake.push_text(1, ALLOWED, "warm up");
    wait_until(WAIT, "warm up", || s.fake.sent().len() == 1).await;
    let n = 500;
    let start = tokio::time::Instant::now();
    for i in 0..n {
        s.fake.push_text(1000 + i, ALLOWED, "ping");
    }
    wait_until(Duration::from_secs(60), "all answered", || {
        s.fake.sent().len() == n as usize + 1
    })
    .await;
    let took = start.elapsed();
    eprintln!(
        "telegram: {n} updates answered in {took:?} ({:.0}/s, {:.2} ms each)",
        n as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / n as f64
    );
}

/// A hostile or broken server sending `update_id = i64::MAX` must not crash
/// the channel (the next offset would overflow): the update is skipped.
#[tokio::test]
async fn update_id_at_i64_max_is_skipped_not_a_crash() {
    let s = setup(|_| {}).await;
    let mut watch = Watch::start().await;
    let _actor = spawn(&s.ctx, &watch).await;
    s.fake.with(|f| {
        f.pending.push(support::telegram::update(
            i64::MAX,
            ALLOWED,
            ALLOWED,
            "overflow",
        ))
    });
    s.fake.push_text(ALLOWED, ALLOWED, "after");
    wait_until(WAIT, "the normal update answered", || {
        s.fake.sent().iter().any(|(_, t)| t == "echo: after")
    })
    .await;
    watch.still_running(Duration::from_millis(200)).await;
}
