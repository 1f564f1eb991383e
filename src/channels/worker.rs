//! The worker of a channel: answers the events its receiver accepted, one at
//! a time and in arrival order, whatever the service.

use super::answer::answer;
use super::deps::ChannelDeps;
use super::msg::ChannelMsg;
use super::platform::{Fault, Platform, Triage};
use ractor::ActorRef;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Answer events until the queue closes (the channel stops) or the
/// connection is lost / the credential rejected (then tell the actor).
pub async fn run<P: Platform>(
    platform: Arc<P>,
    deps: ChannelDeps,
    tools: Vec<String>,
    mut events: mpsc::Receiver<P::Event>,
    actor: ActorRef<ChannelMsg>,
) {
    let mut worker = Worker {
        platform: &*platform,
        deps: &deps,
        tools: &tools,
        warned: HashSet::new(),
    };
    while let Some(event) = events.recv().await {
        if let Err(fault) = worker.handle(&event).await {
            // The actor may be gone already; then there is no one left to tell.
            let _ = actor.send_message(fault.into());
            return;
        }
        platform.finished(&event).await;
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
        let sent = send_text(
            self.platform,
            self.deps,
            &ask.chat,
            ask.thread.as_deref(),
            &reply,
        );
        let Err(e) = sent.await else {
            return Ok(());
        };
        let warning = format!("{}: could not answer: {e}", P::NAME);
        match Fault::from_reply(e) {
            Some(fault) => Err(fault),
            None => {
                tracing::warn!(chat = ask.chat, "{warning}");
                Ok(())
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
        || deps.metrics().channel_message(P::NAME, "out"),
    )
    .await
}
