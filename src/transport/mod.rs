//! Where messages come from and replies go. Slack and the terminal `shell` implement the same
//! [`Transport`] trait, so everything but the socket is tested without Slack.

pub mod shell;
pub mod slack;

use std::future::Future;

use crate::pipeline::{Inbound, Pipeline, Reply};

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("could not deliver the reply: {0}")]
    Delivery(String),
}

pub trait Transport {
    /// The next message, or `None` when the transport is done.
    fn next(&mut self) -> impl Future<Output = Option<Inbound>> + Send;
    /// Delivers the reply to a message where it belongs (channel, thread, terminal).
    fn reply(
        &mut self,
        to: &Inbound,
        reply: &Reply,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;
}

/// Handles messages one after another until the transport is done.
pub async fn serve(
    pipeline: &Pipeline,
    transport: &mut impl Transport,
) -> Result<(), TransportError> {
    while let Some(inbound) = transport.next().await {
        let reply = pipeline.handle(&inbound).await;
        transport.reply(&inbound, &reply).await?;
    }
    Ok(())
}
