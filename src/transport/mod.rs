//! Where messages come from and replies go. Slack and the terminal `shell` implement the same
//! [`Transport`] trait and take the same path through [`exchange`], so everything but the
//! socket is tested without Slack.
//!
//! Receiving is each transport's own: the shell pulls lines one after another, while Slack
//! pushes envelopes that must be acked at once and runs different channels side by side.
//! What happens to a message once it is in is the same for all of them.

pub mod shell;
pub mod slack;

use std::future::Future;

use crate::pipeline::{Inbound, Pipeline, Reply};

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("could not deliver the reply: {0}")]
    Delivery(String),
}

pub trait Transport: Sync {
    /// Delivers the reply to a message to the conversation it came from (channel and
    /// thread, or the terminal).
    fn deliver(
        &self,
        to: &Inbound,
        reply: &Reply,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;
}

/// One message through the pipeline, its reply delivered: the path every transport takes.
/// The reply is returned too, for transports that follow up on it (Slack closes the buttons
/// of a question it replaces).
pub async fn exchange<T: Transport>(
    pipeline: &Pipeline,
    transport: &T,
    inbound: &Inbound,
) -> (Reply, Result<(), TransportError>) {
    let reply = pipeline.handle(inbound).await;
    let delivered = transport.deliver(inbound, &reply).await;
    (reply, delivered)
}
