//! What a chat service has to provide to become a channel: its protocol and
//! nothing else. The lifecycle around it (the worker answering events in
//! order, delivery requests, the drain on stop, warn-once, what an error
//! means for the channel, the status detail) is [`super::actor`], the same
//! for every service.

use super::backlog::Backlog;
use super::deps::ChannelDeps;
use crate::config::{Config, DiscordConfig, SlackConfig, TelegramConfig};
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What an error of a service's API means for the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The credential is refused: retrying cannot help, the channel stops.
    Rejected,
    /// A momentary server error (a 5xx from the service's edge).
    Server,
    /// The service cannot be reached: refused or reset connections, DNS
    /// failures, timeouts.
    Unreachable,
    /// The service misbehaves (an answer the channel cannot read): the
    /// connection is lost, the channel fails.
    Lost,
    /// Rate limited (429): retry after this long.
    RateLimited(Duration),
    /// This one request was refused (chat gone, bot blocked, ...): logged,
    /// the channel goes on.
    Refused,
}

/// An error of a service's API.
pub trait PlatformError: Display + Send + Sync + 'static {
    fn severity(&self) -> Severity;
}

/// How a channel's connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The service rejected the credential (or there is none).
    Rejected(String),
    /// Trouble upstream that passes (unreachable, 5xx, 429, a dropped
    /// connection): retried in place with backoff, the supervisor never
    /// sees it.
    Transient {
        reason: String,
        /// What the service asked to wait (429 `retry_after`).
        wait: Option<Duration>,
    },
    /// The connection to the service is lost, or it is in a state the
    /// channel does not expect: the channel fails.
    Lost(String),
}

impl Fault {
    /// A failed call that ends the connection: rejected when the service
    /// refused the credential, lost otherwise; `context` names the call.
    pub fn from_call(context: &str, e: impl PlatformError) -> Self {
        let reason = match context {
            "" => e.to_string(),
            context => format!("{context}: {e}"),
        };
        match e.severity() {
            Severity::Rejected => Self::Rejected(e.to_string()),
            Severity::Server | Severity::Unreachable => Self::Transient { reason, wait: None },
            Severity::RateLimited(wait) => Self::Transient {
                reason,
                wait: Some(wait),
            },
            Severity::Lost | Severity::Refused => Self::Lost(reason),
        }
    }

    /// A failed reply: `None` when only this message is lost (logged).
    pub(super) fn from_reply(e: impl PlatformError) -> Option<Self> {
        match e.severity() {
            Severity::Refused | Severity::RateLimited(_) => None,
            _ => Some(Self::from_call("", e)),
        }
    }
}

/// A log line that is written once per key for the life of the channel (a
/// chatty stranger must not flood the log).
pub struct Warning {
    pub key: String,
    pub message: String,
}

/// A message the channel answers: the agent's reply goes to `chat` (in
/// `thread` where the service has threads).
pub struct Ask {
    pub chat: String,
    pub text: String,
    pub thread: Option<String>,
}

/// What the channel does with one event.
pub enum Triage {
    /// Not a message for us (the bot's own, another kind of event): not counted.
    Ignore,
    /// A message that is not answered (not allowed, no command prefix, ...),
    /// with what to log about it once.
    Drop(Option<Warning>),
    Answer(Ask),
}

/// An event the gateway received for a channel by webhook.
pub enum Pushed {
    Telegram(serde_json::Value),
    Slack(serde_json::Value),
}

/// A chat service's protocol.
pub trait Platform: Sized + Send + Sync + 'static {
    /// `telegram`, `discord`, `slack`: logs, metrics and conversation ids.
    const NAME: &'static str = Self::Config::NAME;
    /// The child's name in the tree (and its key for the status detail).
    const CHILD: &'static str = Self::Config::CHILD;
    /// One incoming event, as the receiver hands it to the worker.
    type Event: Send + Sync + 'static;
    type Error: PlatformError;
    /// Kept by the child spec and handed to every (re)start of the child.
    type Keep: Clone + Default + Send + Sync + 'static;

    /// The service's table in the config (`[channel.telegram]`, ...).
    type Config: Section;

    /// Build the client from the config in force (`section` of `config`); no I/O.
    fn open(
        section: &Self::Config,
        config: &Config,
        keep: Self::Keep,
    ) -> Result<Self, reqwest::Error>;

    /// Use the state store (a cluster's shared one) for what the channel keeps across
    /// restarts (called right after [`Platform::open`]; most keep nothing).
    fn with_shared_store(self, _store: Option<std::sync::Arc<dyn crate::store::Store>>) -> Self
    where
        Self: Sized,
    {
        self
    }

    /// Connect and receive events into `link` until the connection ends
    /// (`Ok` = nothing more to receive here, e.g. events come by webhook).
    fn receive(
        self: Arc<Self>,
        link: Link<Self::Event>,
    ) -> impl Future<Output = Result<(), Fault>> + Send;

    /// An event the gateway received by webhook (`None`: not for us, or a
    /// redelivery already seen).
    fn pushed(&self, _event: Pushed) -> impl Future<Output = Option<Self::Event>> + Send {
        tracing::warn!("{}: got another channel's event; ignored", Self::NAME);
        async { None }
    }

    /// What to do with one event.
    fn triage(&self, event: &Self::Event) -> Triage;

    /// Asked right before the answer to `event` is sent: `false` sends
    /// nothing (another instance of a cluster took the event over).
    fn may_answer(&self, _event: &Self::Event) -> impl Future<Output = bool> + Send {
        async { true }
    }

    /// Called by the worker once an event is finished with (answered,
    /// refused or ignored), in order.
    fn finished(&self, _event: &Self::Event) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// Whether a reply part that met a momentary server error is sent again
    /// (see [`super::send::send_parts`]).
    const RETRY_SERVER_ERRORS: bool = true;

    /// The service's message length limit, in characters.
    const MAX_MESSAGE: usize = 4000;

    /// `text` cut to the service's message length limit.
    fn split(&self, text: &str) -> Vec<String> {
        super::split::split_message(text, Self::MAX_MESSAGE)
    }

    /// Send one part to `chat` (in `thread`).
    fn send_part(
        &self,
        chat: &str,
        thread: Option<&str>,
        part: String,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// The receiver's end of a channel: hands events to the worker and says
/// what `status` shows.
pub struct Link<E> {
    events: Backlog<E>,
    deps: ChannelDeps,
    name: &'static str,
    /// Set once this attempt completed work (a poll, an event, a frame).
    worked: Arc<AtomicBool>,
}

impl<E> Clone for Link<E> {
    fn clone(&self) -> Self {
        Self {
            events: self.events.clone(),
            deps: self.deps.clone(),
            name: self.name,
            worked: self.worked.clone(),
        }
    }
}

impl<E: Send + Sync + 'static> Link<E> {
    pub(super) fn new<P: Platform>(events: Backlog<E>, deps: ChannelDeps) -> Self {
        Self {
            events,
            deps,
            name: P::NAME,
            worked: Arc::default(),
        }
    }

    /// The service answered on this attempt (a connection set up).
    pub fn contact(&self) {
        self.deps.touch();
    }

    pub(super) fn reset_contact(&self) {
        self.worked.store(false, Ordering::Relaxed);
    }

    /// Whether this attempt completed work: then the next transient trouble
    /// starts the reconnect backoff afresh, while a service that only ever
    /// sets up a connection and then fails is backed off from.
    pub(super) fn worked(&self) -> bool {
        self.worked.load(Ordering::Relaxed)
    }

    /// The service completed a poll or sent an event or frame: the channel
    /// is alive by work done (see [`ChannelDeps::touch`]).
    pub fn touch(&self) {
        self.worked.store(true, Ordering::Relaxed);
        self.deps.touch();
    }

    /// Set the channel's status detail.
    pub fn status(&self, detail: impl Into<String>) {
        self.deps.set_detail(detail);
    }

    /// Hand an event to the worker without waiting; a full queue drops it
    /// with a log line.
    pub fn offer(&self, event: E) {
        if !self.events.offer(event) {
            tracing::warn!("{}: event queue full, event dropped", self.name);
        }
    }

    /// Hand an event to the worker, waiting for room.
    pub async fn send(&self, event: E) {
        self.events.push(event).await;
    }

    /// The events accepted (by this start or an earlier one) and not
    /// finished with yet, oldest first: the worker answers them before
    /// anything received now.
    pub fn pending(&self) -> Vec<Arc<E>> {
        self.events.pending()
    }
}

impl From<Fault> for super::msg::ChannelMsg {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Rejected(reason) => Self::CredentialRejected(reason),
            Fault::Transient { reason, .. } | Fault::Lost(reason) => Self::ConnectionLost(reason),
        }
    }
}

/// The bot's own user id, learnt when connecting: its own messages are
/// never answered.
#[derive(Default)]
pub struct OwnId(std::sync::Mutex<Option<String>>);

impl OwnId {
    pub fn set(&self, id: Option<String>) {
        if let Ok(mut own) = self.0.lock() {
            *own = id;
        }
    }

    /// Whether `id` is the bot's own (never while that is not known).
    pub fn is(&self, id: Option<&str>) -> bool {
        self.0
            .lock()
            .is_ok_and(|own| own.is_some() && own.as_deref() == id)
    }
}

/// A service's table in the config.
pub trait Section: Sized {
    /// `[channel.<NAME>]`.
    const NAME: &'static str;
    /// The child's name in the tree.
    const CHILD: &'static str;

    /// The table in `config`, if there is one.
    fn of(config: &Config) -> Option<&Self>;

    /// The tools the agent may use for the channel's chats.
    fn tools(&self) -> &[String];
}

impl Section for TelegramConfig {
    const NAME: &'static str = "telegram";
    const CHILD: &'static str = super::telegram::CHILD_NAME;

    fn of(config: &Config) -> Option<&Self> {
        config.channel.telegram.as_ref()
    }

    fn tools(&self) -> &[String] {
        &self.tools
    }
}

impl Section for DiscordConfig {
    const NAME: &'static str = "discord";
    const CHILD: &'static str = super::discord::CHILD_NAME;

    fn of(config: &Config) -> Option<&Self> {
        config.channel.discord.as_ref()
    }

    fn tools(&self) -> &[String] {
        &self.tools
    }
}

impl Section for SlackConfig {
    const NAME: &'static str = "slack";
    const CHILD: &'static str = super::slack::CHILD_NAME;

    fn of(config: &Config) -> Option<&Self> {
        config.channel.slack.as_ref()
    }

    fn tools(&self) -> &[String] {
        &self.tools
    }
}

#[cfg(test)]
mod tests {
    use super::{Fault, PlatformError, Severity};
    use std::time::Duration;

    #[derive(Debug)]
    struct E(Severity);

    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }

    impl PlatformError for E {
        fn severity(&self) -> Severity {
            self.0
        }
    }

    #[test]
    fn what_an_error_means_for_the_channel() {
        let wait = Duration::from_secs(3);
        let transient = |s| matches!(Fault::from_call("x", E(s)), Fault::Transient { .. });
        assert!(transient(Severity::Server) && transient(Severity::Unreachable));
        assert_eq!(
            Fault::from_call("getUpdates", E(Severity::RateLimited(wait))),
            Fault::Transient {
                reason: format!("getUpdates: RateLimited({wait:?})"),
                wait: Some(wait)
            }
        );
        assert_eq!(
            Fault::from_call("x", E(Severity::Rejected)),
            Fault::Rejected("Rejected".into())
        );
        assert!(matches!(
            Fault::from_call("x", E(Severity::Lost)),
            Fault::Lost(_)
        ));
        // A reply: only this message is lost when the service refuses it.
        assert_eq!(Fault::from_reply(E(Severity::Refused)), None);
        assert_eq!(Fault::from_reply(E(Severity::RateLimited(wait))), None);
        assert!(Fault::from_reply(E(Severity::Server)).is_some());
    }
}
