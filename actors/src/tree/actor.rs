//! The supervisor's ractor callbacks: they route each message and supervision
//! event to the bookkeeping in the sibling files and never wait on anything.

use super::{Args, Msg, State, Supervisor};
use crate::panics;
use crate::policy::ExitKind;
use crate::supervisor::SupervisorExit;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::time::Duration;

impl Actor for Supervisor {
    type Msg = Msg;
    type State = State;
    type Arguments = Args;

    async fn pre_start(
        &self,
        _myself: ActorRef<Msg>,
        args: Args,
    ) -> Result<State, ActorProcessingErr> {
        Ok(State::new(args))
    }

    async fn post_start(
        &self,
        myself: ActorRef<Msg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some((period, _)) = &state.tick {
            // tokio's interval panics on a zero period; a zero tick means "as
            // often as possible", which 1 ms approximates without spinning.
            let period = (*period).max(Duration::from_millis(1));
            let task = myself.send_interval(period, || Msg::Tick);
            state.tick_task = Some(task.abort_handle());
        }
        tracing::info!(tree = %state.namespace, children = state.order.len(), "supervision tree starting");
        state.advance_boot(&myself);
        state.changed();
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Msg>,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(task) = state.tick_task.take() {
            task.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Msg>,
        msg: Msg,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        // Every message but these two may move a child between phases.
        let changes = !matches!(msg, Msg::Snapshot(_) | Msg::Tick);
        match msg {
            Msg::Snapshot(reply) => {
                let _ = reply.send(state.snapshot());
            }
            Msg::Add(spec, reply) => state.add(&myself, spec, reply),
            Msg::Remove(name, reply) => state.remove(&myself, name, reply),
            Msg::Restart(name, reply) => state.restart_on_request(&myself, name, None, reply),
            Msg::Replace(spec, reply) => {
                let name = spec.name.clone();
                state.restart_on_request(&myself, name, Some(spec), reply)
            }
            Msg::Shutdown => state.begin_shutdown(&myself, SupervisorExit::Shutdown),
            Msg::SpawnDone {
                name,
                generation,
                outcome,
            } => state.spawn_done(&myself, name, generation, outcome),
            Msg::RestartDue { name, generation } => state.restart_due(&myself, name, generation),
            Msg::StopDone { name, generation } => state.stop_done(&myself, name, generation),
            Msg::Tick => {
                if let Some((_, tick)) = &state.tick {
                    tick();
                }
            }
        }
        if changes {
            state.changed();
        }
        Ok(())
    }

    /// Replaces ractor's default, which would stop the supervisor on any child exit.
    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Msg>,
        event: SupervisionEvent,
        state: &mut State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                let message = reason.unwrap_or_else(|| "stopped".to_string());
                state.child_exited(&myself, cell.get_id(), ExitKind::Success, message);
            }
            SupervisionEvent::ActorFailed(cell, err) => {
                let message = err.to_string();
                let kind = if panics::take_panic(&message) {
                    ExitKind::Abort
                } else {
                    ExitKind::Failure
                };
                state.child_exited(&myself, cell.get_id(), kind, message);
            }
            _ => return Ok(()),
        }
        state.changed();
        Ok(())
    }
}
