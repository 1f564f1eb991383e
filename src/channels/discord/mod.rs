//! Discord (stub).
use crate::channels::msg::ChannelMsg;
use crate::daemon::context::Ctx;
use ractor::{Actor, ActorProcessingErr, ActorRef};
pub const CHILD_NAME: &str = "channel:discord";
pub struct DiscordActor;
pub struct DiscordArgs {
    pub ctx: Ctx,
}
impl Actor for DiscordActor {
    type Msg = ChannelMsg;
    type State = ();
    type Arguments = DiscordArgs;
    async fn pre_start(
        &self,
        _m: ActorRef<ChannelMsg>,
        _a: DiscordArgs,
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}
pub async fn probe(_c: &crate::config::DiscordConfig) -> Vec<crate::channels::doctor::Check> {
    vec![]
}
