//! The `logger` child: owns the sink, drains the queue into it, and fails
//! (returns `Err`) when the file cannot be written so the supervisor restarts
//! it with backoff while lines go to stderr.

use super::error::LoggingError;
use super::handle::LogHandle;
use super::output::SinkTarget;
use super::sink::{self, Sink};
use crate::component::{ChildName, Component};
use crate::config::Config;
use crate::task::TaskGuard;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use zeroclaw_actors::{ChildSpec, RestartPolicy};

/// The supervised child's name.
pub const CHILD_NAME: &str = ChildName::LOGGER;

/// The logger actor; its arguments are the daemon's `LogHandle`.
pub struct LoggerActor;

/// Messages of the logger; only the logger itself and its waker send them.
#[derive(Debug)]
pub enum LoggerMsg {
    /// Write what is queued.
    Drain,
}

pub struct LoggerState {
    handle: LogHandle,
    /// `None` only while a batch is being written on the blocking pool.
    sink: Option<Sink>,
    generation: u64,
    /// Aborted when the state is dropped.
    waker: TaskGuard,
}

impl Drop for LoggerState {
    // `post_stop` is skipped on failure, panic and kill: this runs in all cases.
    fn drop(&mut self) {
        self.waker.abort();
        self.handle.pipe.release(self.generation, Vec::new(), None);
    }
}

impl Actor for LoggerActor {
    type Msg = LoggerMsg;
    type State = LoggerState;
    type Arguments = LogHandle;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        handle: LogHandle,
    ) -> Result<Self::State, ActorProcessingErr> {
        let pipe = handle.pipe.clone();
        let target = handle.target.clone();
        let first = pipe.first_open();
        let opened = tokio::task::spawn_blocking(move || Sink::open(&target, first))
            .await
            .map_err(|e| LoggingError::Worker(e.to_string()))
            .and_then(|r| r);
        let sink = match opened {
            Ok(sink) => sink,
            Err(e) => {
                pipe.go_down(Vec::new(), Some(&e.to_string()));
                return Err(e.into());
            }
        };
        // Whatever the waker flag says, this instance starts with one drain.
        pipe.drain_scheduled
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let announce = match &*handle.target {
            SinkTarget::File { .. } => Some(sink::describe(&handle.target)),
            SinkTarget::Stderr => None,
        };
        let generation = pipe.go_up(announce.as_deref());
        let waker = spawn_waker(handle.clone(), myself.clone());
        myself.cast(LoggerMsg::Drain)?;
        Ok(LoggerState {
            handle,
            sink: Some(sink),
            generation,
            waker,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        LoggerMsg::Drain: LoggerMsg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let pipe = state.handle.pipe.clone();
        pipe.drain_scheduled
            .store(false, std::sync::atomic::Ordering::SeqCst);
        write_batch(state).await?;
        if !pipe.is_empty()
            && !pipe
                .drain_scheduled
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            myself.cast(LoggerMsg::Drain)?;
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // A clean stop writes what is queued; later lines go to stderr.
        write_batch(state).await?;
        Ok(())
    }
}

/// Writes one batch on the blocking pool. On failure the unwritten lines go to
/// stderr, the sink is marked down, and the error is returned for the actor
/// to fail with.
async fn write_batch(state: &mut LoggerState) -> Result<(), LoggingError> {
    let pipe = state.handle.pipe.clone();
    let batch = pipe.take();
    if batch.lines.is_empty() && !batch.reopen {
        return Ok(());
    }
    let Some(mut sink) = state.sink.take() else {
        pipe.release(state.generation, batch.lines, None);
        return Err(LoggingError::Worker("the log sink is missing".into()));
    };
    let joined = tokio::task::spawn_blocking(move || {
        let result = sink.write(&batch.lines, batch.reopen);
        (sink, batch.lines, result)
    })
    .await;
    match joined {
        Ok((sink, lines, Ok(()))) => {
            pipe.count_written(lines.len());
            state.sink = Some(sink);
            Ok(())
        }
        Ok((_, mut lines, Err(failure))) => {
            pipe.count_written(failure.unwritten_from);
            let unwritten = lines.split_off(failure.unwritten_from.min(lines.len()));
            let reason = failure.error.to_string();
            pipe.release(state.generation, unwritten, Some(&reason));
            Err(failure.error)
        }
        Err(e) => {
            let error = LoggingError::Worker(e.to_string());
            pipe.release(state.generation, Vec::new(), Some(&error.to_string()));
            Err(error)
        }
    }
}

/// Turns "the queue became non-empty" into one `Drain` message; separate from
/// the actor so a quiet logger does not sit in a handler, deaf to its mailbox.
fn spawn_waker(handle: LogHandle, logger: ActorRef<LoggerMsg>) -> TaskGuard {
    TaskGuard::spawn(async move {
        let pipe = &handle.pipe;
        loop {
            pipe.wake.notified().await;
            if !pipe
                .drain_scheduled
                .swap(true, std::sync::atomic::Ordering::SeqCst)
                && logger.cast(LoggerMsg::Drain).is_err()
            {
                break;
            }
        }
    })
}

/// The `logger` child of the root supervisor.
pub fn child_spec(handle: LogHandle, policy: RestartPolicy) -> ChildSpec {
    ChildSpec::actor(CHILD_NAME, policy, move || (LoggerActor, handle.clone()))
}

/// The logger as a component of the tree: always the first child.
pub struct Logger {
    handle: LogHandle,
}

impl Logger {
    pub fn new(handle: LogHandle) -> Self {
        Self { handle }
    }
}

impl Component for Logger {
    fn children(&self, _: &Config) -> Vec<ChildName> {
        vec![ChildName::Logger]
    }

    fn spec(&self, child: &ChildName, _: &Config, policy: RestartPolicy) -> Option<ChildSpec> {
        (*child == ChildName::Logger).then(|| child_spec(self.handle.clone(), policy))
    }

    /// The pipeline is installed once per process: `[logging]` changes are
    /// reported as needing a daemon restart instead.
    fn restart_needed(&self, _: &ChildName, _: &Config, _: &Config) -> bool {
        false
    }
}
