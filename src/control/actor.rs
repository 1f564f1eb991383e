//! The `control` child: owns the listening socket and the task serving it.

use super::deps::ControlDeps;
use super::server;
use crate::component::{ChildName, Component};
use crate::config::Config;
use crate::task::TaskGuard;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::path::PathBuf;
use tokio::sync::watch;
use zeroclaw_actors::{ChildSpec, RestartPolicy};

pub struct ControlActor;

pub struct ControlState {
    stop: watch::Sender<bool>,
    task: Option<TaskGuard>,
    path: PathBuf,
    /// (device, inode) of the socket we bound: only that file is ours to remove.
    inode: Option<(u64, u64)>,
}

impl ControlState {
    fn remove_socket(&self) {
        use std::os::unix::fs::MetadataExt;
        let ours = std::fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()))
            == self.inode;
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for ControlState {
    // post_stop is skipped on a panic or kill: release the socket here too.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        drop(self.task.take());
        self.remove_socket();
    }
}

/// Sent by the serving task when it ends on its own (it should not).
pub enum ControlMsg {
    ServerEnded,
}

impl Actor for ControlActor {
    type Msg = ControlMsg;
    type State = ControlState;
    type Arguments = ControlDeps;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: ControlDeps,
    ) -> Result<Self::State, ActorProcessingErr> {
        let path = ctx.config().control_socket();
        let listener = server::bind(&path)?;
        let inode = {
            use std::os::unix::fs::MetadataExt;
            std::fs::symlink_metadata(&path)
                .ok()
                .map(|m| (m.dev(), m.ino()))
        };
        let (stop, mut stopped) = watch::channel(false);
        let task = TaskGuard::spawn(async move {
            server::serve(listener, ctx, async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await;
            let _ = myself.cast(ControlMsg::ServerEnded);
        });
        Ok(ControlState {
            stop,
            task: Some(task),
            path,
            inode,
        })
    }

    /// A graceful stop waits for the listener to close, so a restarted
    /// instance can bind at once.
    async fn post_stop(
        &self,
        _: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let _ = state.stop.send(true);
        if let Some(task) = state.task.take() {
            task.join().await;
        }
        state.remove_socket();
        Ok(())
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

/// The control socket as a component of the tree: the child `control`,
/// always last. It is handed the running tree, so the daemon adds it once
/// the other children have started (see "The component contract" in
/// docs/architecture.md).
pub struct Control {
    deps: ControlDeps,
}

impl Control {
    pub fn new(deps: ControlDeps) -> Self {
        Self { deps }
    }

    pub fn child_spec(&self, policy: RestartPolicy) -> ChildSpec {
        let deps = self.deps.clone();
        ChildSpec::actor(ChildName::CONTROL, policy, move || {
            (ControlActor, deps.clone())
        })
    }
}

impl Component for Control {
    fn children(&self, _: &Config) -> Vec<ChildName> {
        vec![ChildName::Control]
    }

    fn spec(&self, child: &ChildName, _: &Config, policy: RestartPolicy) -> Option<ChildSpec> {
        (*child == ChildName::Control).then(|| self.child_spec(policy))
    }

    /// The socket's path is in `[daemon]`, which only a daemon restart changes.
    fn restart_needed(&self, _: &ChildName, _: &Config, _: &Config) -> bool {
        false
    }
}
