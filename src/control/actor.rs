//! The `control` child: owns the listening socket and the task serving it.

use super::server;
use crate::daemon::Ctx;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::path::PathBuf;
use tokio::sync::watch;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

pub struct ControlActor;

pub struct ControlState {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    path: PathBuf,
}

impl Drop for ControlState {
    // post_stop is skipped on a panic or kill: release the socket here.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Sent by the serving task when it ends on its own (it should not).
pub enum ControlMsg {
    ServerEnded,
}

impl Actor for ControlActor {
    type Msg = ControlMsg;
    type State = ControlState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        let path = ctx.config().control_socket();
        let listener = server::bind(&path)?;
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            server::serve(listener, ctx, async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await;
            let _ = myself.cast(ControlMsg::ServerEnded);
        });
        Ok(ControlState { stop, task, path })
    }

    async fn handle(
        &self,
        _: ActorRef<Self::Msg>,
        msg: Self::Msg,
        _: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ControlMsg::ServerEnded => Err("control socket server ended unexpectedly".into()),
        }
    }
}

/// The supervised `control` child.
pub fn child_spec(ctx: Ctx, policy: RestartPolicy) -> ChildSpec {
    ChildSpec::new("control", policy, move |sctx| {
        let ctx = ctx.clone();
        async move {
            Actor::spawn_linked(
                Some(sctx.registered_name),
                ControlActor,
                ctx,
                sctx.supervisor,
            )
            .await
            .map(|(r, _)| r.get_cell())
        }
    })
}
