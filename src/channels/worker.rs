//! The worker of a channel: answers the events its receiver accepted, one at
//! a time and in arrival order, whatever the service.

use super::answer::answer;
use super::backlog::Backlog;
use super::deps::ChannelDeps;
use super::msg::ChannelMsg;
use super::platform::{Fault, Platform, Triage};
use backon::BackoffBuilder;
use ractor::ActorRef;
use std::collections::HashSet;
use std::sync::Arc;

/// Answer events, oldest first, until the actor ends this task (the channel
/// stops; what is left stays in the backlog for the next start) or the
/// connection is lost / the credential rejected (then tell the actor).
pub async fn run<P: Platform>(
    platform: Arc<P>,
    deps: ChannelDeps,
    tools: Vec<String>,
    events: Backlog<P::Event>,
    actor: ActorRef<ChannelMsg>,
) {
    let mut worker = Worker {
        platform: &*platform,
        deps: &deps,
        tools: &tools,
        warned: HashSet::new(),
    };
    loop {
        let event = events.next().await;
        if let Err(fault) = worker.handle(&event).await {
            events.done(&event);
            // The actor may be gone already; then there is no one left to tell.
            let _ = actor.send_message(fault.into());
            return;
        }
        platform.finished(&event).await;
        events.done(&event);
    }
}

struct Worker<'a, P> {
    platform: &'a P,
    deps: &'a ChannelDeps,
    tools: &'a [String],
    /// Keys already warned about, so a chatty stranger logs once.
    warned: HashSet<String>,
}

impl<P: Platform> Worker<'_, P> {
    /// Answer one event as [`Platform::triage`] says. `Err` ends the worker:
    /// the connection is lost or the credential rejected.
    async fn handle(&mut self, event: &P::Event) -> Result<(), Fault> {
        let ask = match self.platform.triage(event) {
            Triage::Ignore => return Ok(()),
            Triage::Drop(warning) => {
                self.deps.metrics().channel_message(P::NAME, "in");
                if let Some(w) = warning
                    && self.warned.insert(w.key)
                {
                    tracing::warn!("{}", w.message);
                }
                return Ok(());
            }
            Triage::Answer(ask) => ask,
        };
        self.deps.metrics().channel_message(P::NAME, "in");
        let reply = answer(self.deps, P::NAME, &ask.chat, ask.text, self.tools).await;
        if !self.platform.may_answer(event).await {
            tracing::info!(
                "{}: not sending an answer another instance took over",
                P::NAME
            );
            return Ok(());
        }
        self.reply(&ask.chat, ask.thread.as_deref(), &reply).await
    }

    /// Send `reply`. Transient trouble (the service unreachable, 5xx) is
    /// waited out here with the reconnect backoff, sending again only the
    /// parts not delivered yet: the event was accepted, and failing the
    /// channel over it would cost a restart and, for a service that does
    /// not redeliver, the answer. `Err` = the credential was rejected or the
    /// service misbehaves.
    async fn reply(&self, chat: &str, thread: Option<&str>, reply: &str) -> Result<(), Fault> {
        let parts = self.platform.split(reply);
        let mut done = 0;
        let mut delays = super::actor::reconnect_backoff().build();
        let mut attempt = 0u32;
        let before = self.deps.detail();
        loop {
            let sent = super::send::send_parts(
                P::NAME,
                chat,
                parts[done..].to_vec(),
                P::RETRY_SERVER_ERRORS,
                |part| self.platform.send_part(chat, thread, part),
                |took| {
                    done += 1;
                    self.deps.metrics().channel_sent(P::NAME, took);
                },
            );
            let Err(e) = sent.await else {
                if let (true, Some(before)) = (attempt > 0, &before) {
                    self.deps.set_detail(before.clone());
                }
                return Ok(());
            };
            let warning = format!("{}: could not answer: {e}", P::NAME);
            match Fault::from_reply(e) {
                None => {
                    tracing::warn!(chat, "{warning}");
                    return Ok(());
                }
                Some(Fault::Transient { reason, wait }) => {
                    attempt += 1;
                    let delay = delays.next().unwrap_or(super::actor::RECONNECT_MAX);
                    let delay = wait.map_or(delay, |w| w.max(delay));
                    tracing::warn!(chat, attempt, "{warning}; retrying in {delay:?}");
                    self.deps.set_detail(format!(
                        "reconnecting (attempt {attempt}): could not answer: {reason}"
                    ));
                    tokio::time::sleep(delay).await;
                }
                Some(fault) => return Err(fault),
            }
        }
    }
}

/// Send `text` to `chat`, split to the service's limit, waiting out rate
/// limits; counts every part sent.
pub(super) async fn send_text<P: Platform>(
    platform: &P,
    deps: &ChannelDeps,
    chat: &str,
    thread: Option<&str>,
    text: &str,
) -> Result<(), P::Error> {
    super::send::send_parts(
        P::NAME,
        chat,
        platform.split(text),
        P::RETRY_SERVER_ERRORS,
        |part| platform.send_part(chat, thread, part),
        |took| deps.metrics().channel_sent(P::NAME, took),
    )
    .await
}
