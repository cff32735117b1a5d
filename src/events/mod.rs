//! The event half: AWS events arriving as cards in channels, beside the message half.
//!
//! queue → decode → route → format → post. SNS topics deliver to an SQS queue (no public
//! endpoint, as with Socket Mode); [`decode`] turns a queue message into an [`decode::Event`]
//! (alarm, EventBridge event, custom notification, CloudFormation, text), and [`format`] into
//! a transport-agnostic [`format::Card`], from data in `notifications/formats.json` where it
//! can.
//!
//! [`queue`] long-polls SQS, [`notify`] routes by topic (channels' `sns_topics`), threads and
//! posts each card once per channel through a [`notify::CardSink`] (Slack, a test), and says
//! whether the message may leave the queue; [`serve`] runs that loop. Just before posting,
//! [`chart`] gives an alarm's card the chart of its metric, as the channel's role sees it.
//!
//! An alarm card offers Show logs and Show error logs ([`logs`]): actions whose messages run
//! through the pipeline as whoever pressed them.

pub mod actions;
pub mod chart;
pub mod decode;
pub mod format;
pub mod logs;
pub mod notify;
pub mod pace;
pub mod queue;

use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use notify::{CardSink, Disposition, Notifier};
use queue::{Queue, QueueMessage};

async fn delete(queue: &Queue, message: &QueueMessage) {
    if let Err(e) = queue.delete(message).await {
        // Posted already; the redelivery is recognised and not posted again.
        tracing::warn!(error = %e, "notification posted but not deleted");
    }
}

/// Messages held for burst summaries at most; past it the reader stops taking more.
const MAX_DEFERRED: usize = 10_000;

/// Waits after a failed receive, doubling up to this (SQS unreachable, credentials expired).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Reads one queue until `stop` resolves: each message is posted where it goes, then deleted
/// if it may be. A receive that fails is retried with backoff; stopping mid-poll loses
/// nothing (SQS hands the messages out again after their visibility timeout).
pub async fn serve<S: CardSink>(
    queue: Queue,
    notifier: Arc<Notifier<S>>,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut backoff = Duration::from_secs(1);
    // Messages whose cards wait in a burst summary, by SNS MessageId (the latest receipt).
    let mut deferred: HashMap<String, QueueMessage> = HashMap::new();
    loop {
        // At least once per long poll: post the summaries of bursts that have ended.
        for id in notifier.flush().await {
            if let Some(message) = deferred.remove(&id) {
                delete(&queue, &message).await;
            }
        }
        if deferred.len() >= MAX_DEFERRED {
            // Backpressure: take no more until a summary lets some go (at the latest when
            // its window ends); the queue holds the rest meanwhile.
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => continue,
            }
        }
        let received = tokio::select! {
            () = &mut stop => return,
            received = queue.receive() => received,
        };
        match received {
            Ok(messages) => {
                backoff = Duration::from_secs(1);
                for message in messages {
                    match notifier.handle(&message).await {
                        Disposition::Delete => delete(&queue, &message).await,
                        Disposition::Defer { notification } => {
                            deferred.insert(notification, message);
                        }
                        Disposition::Keep(reason) => {
                            tracing::warn!(message_id = %message.id, receive_count = message.receive_count, reason = ?reason, "notification left on the queue");
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_secs = backoff.as_secs(), "cannot read the notification queue");
                // Waiting here is the point: the queue is unreachable, and a tight loop
                // would only flood the log. Stopping still ends the wait at once.
                tokio::select! {
                    () = &mut stop => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
