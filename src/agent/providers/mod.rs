//! Model providers: one module per wire format, plus what they share
//! (settings resolution, transport with retries, errors).

pub mod anthropic;
pub mod echo;
pub mod error;
pub mod format;
pub mod openai;
pub mod settings;
pub mod transport;

pub use error::{ErrorKind, ProviderError};
pub use settings::{ProviderSettings, Wire, resolve};
pub use transport::RetryPolicy;

use crate::agent::message::{Completion, Reply};

/// One completion with whichever wire format `settings` speaks.
pub async fn complete(
    client: &reqwest::Client,
    settings: &ProviderSettings,
    policy: RetryPolicy,
    completion: &Completion<'_>,
) -> Result<Reply, ProviderError> {
    match settings.wire {
        Wire::Anthropic => {
            format::complete::<anthropic::Messages>(client, settings, policy, completion).await
        }
        Wire::OpenAi => {
            format::complete::<openai::ChatCompletions>(client, settings, policy, completion).await
        }
        Wire::Echo => Ok(echo::complete(completion)),
    }
}
