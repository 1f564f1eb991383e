//! Slack (stub).
use crate::channels::msg::ChannelMsg;
use crate::daemon::context::Ctx;
use ractor::{Actor, ActorProcessingErr, ActorRef};
pub const CHILD_NAME: &str = "channel:slack";
pub struct SlackActor;
pub struct SlackArgs {
    pub ctx: Ctx,
}
impl Actor for SlackActor {
    type Msg = ChannelMsg;
    type State = ();
    type Arguments = SlackArgs;
    async fn pre_start(
        &self,
        _m: ActorRef<ChannelMsg>,
        _a: SlackArgs,
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}
pub async fn probe(_c: &crate::config::SlackConfig) -> Vec<crate::channels::doctor::Check> {
    vec![]
}
