//! Callers waiting on a child, and the one place they are answered.
//!
//! `add_child`, `restart_child`, `replace_child` and `remove_child` return
//! once the operation took effect (see `docs/architecture.md`, "Runtime
//! operations"), so their reply waits on the child. An operation that arrives
//! while the child is starting is deferred and replayed once the start is
//! settled, so it never races the spawn it would interrupt.

use super::{Msg, Reply};
use crate::supervisor::SupervisorError;
use ractor::ActorRef;

/// How a child's pending operations end.
#[derive(Clone, Copy)]
pub(super) enum Settle<'a> {
    /// What they waited for happened: callers get `Ok`, deferred operations
    /// are sent to the supervisor again and now find the child settled.
    Done(&'a ActorRef<Msg>),
    /// The child was removed: callers get `Ok` (a removal was what they
    /// waited for), deferred operations find no such child.
    Forgotten(&'a str),
    /// The tree is stopping: nobody's operation will run.
    TreeStopped,
}

/// The replies and deferred operations of one child.
#[derive(Default)]
pub(super) struct Waiters {
    replies: Vec<Reply>,
    deferred: Vec<Msg>,
}

impl Waiters {
    /// Answer `reply` when the child's current transition is over.
    pub fn wait(&mut self, reply: Reply) {
        self.replies.push(reply);
    }

    /// Run `msg` again once the child's start is settled.
    pub fn defer(&mut self, msg: Msg) {
        self.deferred.push(msg);
    }

    /// Answer every waiting caller and deal with every deferred operation.
    pub fn settle(&mut self, how: Settle<'_>) {
        for reply in self.replies.drain(..) {
            let result = match how {
                Settle::Done(_) | Settle::Forgotten(_) => Ok(()),
                Settle::TreeStopped => Err(SupervisorError::NotRunning),
            };
            let _ = reply.send(result);
        }
        for msg in self.deferred.drain(..) {
            match how {
                Settle::Done(myself) => {
                    let _ = myself.cast(msg);
                }
                Settle::Forgotten(name) => {
                    refuse(msg, SupervisorError::UnknownChild(name.to_string()))
                }
                Settle::TreeStopped => refuse(msg, SupervisorError::NotRunning),
            }
        }
    }
}

/// Answer an operation that will not run.
fn refuse(msg: Msg, err: SupervisorError) {
    match msg {
        Msg::Add(_, reply)
        | Msg::Remove(_, reply)
        | Msg::Restart(_, reply)
        | Msg::Replace(_, reply) => {
            let _ = reply.send(Err(err));
        }
        _ => {}
    }
}
