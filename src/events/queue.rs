//! The queue notifications arrive on: SNS topics deliver to an SQS queue, and the bot
//! long-polls it with its own credentials, so no endpoint of the bot faces the internet
//! (as with Socket Mode). A message is deleted only once every channel it goes to has taken
//! the post; until then SQS redelivers it after its visibility timeout, and after the
//! queue's `maxReceiveCount` moves it to the dead-letter queue.

use aws_sdk_sqs::types::MessageSystemAttributeName;

/// How long one receive waits for a message (SQS's longest long poll).
pub const WAIT_SECONDS: i32 = 20;
/// Messages taken per receive (SQS's most).
pub const BATCH: i32 = 10;

/// One queue message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    pub receipt_handle: String,
    pub body: String,
    /// How often SQS has handed this message out, this time included.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("could not receive from {queue}: {reason}")]
    Receive { queue: String, reason: String },
    #[error("could not delete a message from {queue}: {reason}")]
    Delete { queue: String, reason: String },
}

/// One SQS queue the bot reads.
pub struct Queue {
    client: aws_sdk_sqs::Client,
    url: String,
    wait_seconds: i32,
}

impl Queue {
    /// A queue in the region its URL names (a queue is only reachable there), with the
    /// bot's own credentials.
    pub fn new(config: &aws_config::SdkConfig, url: &str) -> Queue {
        let mut builder = aws_sdk_sqs::config::Builder::from(config);
        if let Some((Some(region), _, _)) = crate::config::queue_url_parts(url) {
            builder = builder.region(aws_sdk_sqs::config::Region::new(region.to_owned()));
        }
        Queue {
            client: aws_sdk_sqs::Client::from_conf(builder.build()),
            url: url.to_owned(),
            wait_seconds: WAIT_SECONDS,
        }
    }

    /// A shorter long poll (tests, and shutting down promptly).
    pub fn with_wait_seconds(mut self, seconds: i32) -> Queue {
        self.wait_seconds = seconds;
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits up to the long-poll time for messages; an empty list when none came.
    pub async fn receive(&self) -> Result<Vec<QueueMessage>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(BATCH)
            .wait_time_seconds(self.wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| QueueError::Receive {
                queue: self.url.clone(),
                reason: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let receive_count = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                Some(QueueMessage {
                    id: m.message_id?,
                    receipt_handle: m.receipt_handle?,
                    body: m.body.unwrap_or_default(),
                    receive_count,
                })
            })
            .collect())
    }

    /// Deletes a message once it has been posted everywhere it goes.
    pub async fn delete(&self, message: &QueueMessage) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt_handle)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| QueueError::Delete {
                queue: self.url.clone(),
                reason: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })
    }
}
