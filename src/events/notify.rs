//! One queue message's way to the channels: decode → route → format → post, then whether the
//! message may leave the queue.
//!
//! Nothing is lost and nothing is posted twice: a message is deleted only once every channel
//! it goes to has taken the card; a channel that took it is remembered (by SNS `MessageId`),
//! so a redelivery, after a failure elsewhere or a crash, posts only where it is missing. A
//! message that can't be decoded or routed stays on the queue, logged and counted, until the
//! queue's redrive policy moves it to the dead-letter queue.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;
use std::sync::Mutex;

use super::chart::{with_chart, AlarmCharts};
use super::decode::{self, Envelope};
use super::format::{self, Card};
use super::pace::{Admission, Limits, Pacer};
use super::queue::QueueMessage;
use crate::audit::{AuditDecision, AuditOutcome, AuditRecord, Auditor};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::state::{Once, StateStore};

/// Where cards are posted: Slack, the terminal, or a test.
pub trait CardSink: Sync {
    /// Posts `card` in `channel`, in the thread of the message `thread` when given (an id this
    /// sink returned before), and returns the posted message's id.
    fn post(
        &self,
        channel: &str,
        card: &Card,
        thread: Option<&str>,
    ) -> impl Future<Output = Result<String, SinkError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not post in {channel}: {reason}")]
pub struct SinkError {
    pub channel: String,
    pub reason: String,
}

/// What to do with a queue message once handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Posted everywhere it goes (or already had been): delete it.
    Delete,
    /// Part of a burst summary not posted yet: delete it once [`Notifier::flush`] names its
    /// SNS `MessageId`.
    Defer { notification: String },
    /// Leave it on the queue: SQS hands it out again after its visibility timeout, and the
    /// redrive policy moves it to the dead-letter queue after too many tries.
    Keep(KeepReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepReason {
    /// The body is no SNS notification.
    Undecodable(String),
    /// No channel shows this topic.
    Unrouted { topic: String },
    /// Some channels did not take the card.
    NotPosted(Vec<SinkError>),
}

/// How long posted message ids and thread starts are remembered: past SQS's longest
/// visibility timeout (12 h), so any redelivery is recognised.
const REMEMBER: Duration = Duration::from_secs(24 * 3600);
/// The state-store id of a notification posted in a channel.
fn posted_id(message_id: &str, channel: &str) -> String {
    format!("{channel}/{message_id}")
}

pub struct Notifier<S> {
    config: Arc<Config>,
    sink: S,
    metrics: Metrics,
    auditor: Arc<Auditor>,
    /// (SNS MessageId, channel) posted, and (channel, thread key) → the thread's first
    /// message: in the state store, so the bot's processes post each card once, in one thread.
    store: Arc<dyn StateStore>,
    clock: Arc<dyn Clock>,
    pacer: Pacer,
    /// MessageId → the channels whose summary still holds its card.
    deferred: Mutex<HashMap<String, Vec<String>>>,
    /// Draws alarm cards' charts; without it, alarm cards go without.
    charts: Option<Arc<AlarmCharts>>,
}

impl<S: CardSink> Notifier<S> {
    pub fn new(config: Arc<Config>, sink: S, metrics: Metrics, auditor: Arc<Auditor>) -> Self {
        Notifier::with_pacing(
            config,
            sink,
            metrics,
            auditor,
            Arc::new(SystemClock),
            Limits::default(),
        )
    }

    /// With the clock bursts are timed by, and the pacing limits.
    pub fn with_pacing(
        config: Arc<Config>,
        sink: S,
        metrics: Metrics,
        auditor: Arc<Auditor>,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> Self {
        Notifier {
            config,
            sink,
            metrics,
            auditor,
            store: Arc::new(crate::state::memory::MemoryStore::new(clock.clone())),
            clock: clock.clone(),
            pacer: Pacer::new(clock, limits),
            deferred: Mutex::new(HashMap::new()),
            charts: None,
        }
    }

    /// Alarm cards get their metric's chart, drawn by `charts`.
    pub fn with_charts(mut self, charts: AlarmCharts) -> Self {
        self.charts = Some(Arc::new(charts));
        self
    }

    /// Posted ids and threads in `store` (shared by the bot's processes when it is DynamoDB).
    pub fn with_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.store = store;
        self
    }

    fn expires(&self) -> u64 {
        crate::state::expires_in(&*self.clock, REMEMBER)
    }

    fn deferred(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<String>>> {
        self.deferred.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Posts the summaries of the bursts whose window has ended, and returns the SNS
    /// `MessageId`s of the deferred messages that are now posted everywhere (to delete).
    pub async fn flush(&self) -> Vec<String> {
        let mut done = Vec::new();
        for summary in self.pacer.due() {
            let card = summary.card();
            let result = self.sink.post(&summary.channel, &card, None).await;
            self.metrics.message_delivery(result.is_ok());
            if let Err(e) = result {
                tracing::warn!(error = %e, "burst summary not posted; trying again later");
                self.pacer.restore(summary);
                continue;
            }
            for collapsed in &summary.cards {
                let id = posted_id(&collapsed.message_id, &summary.channel);
                if let Err(e) = self
                    .store
                    .take(Once::Notification, &id, self.expires())
                    .await
                {
                    tracing::warn!(error = %e, "posted notification not recorded: a redelivery may post it again");
                }
            }
            let mut deferred = self.deferred();
            for collapsed in &summary.cards {
                if let Some(channels) = deferred.get_mut(&collapsed.message_id) {
                    channels.retain(|c| *c != summary.channel);
                    if channels.is_empty() {
                        deferred.remove(&collapsed.message_id);
                        done.push(collapsed.message_id.clone());
                    }
                }
            }
        }
        done
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Posts a queue message's card in every channel that shows its topic and says whether the
    /// message may be deleted.
    pub async fn handle(&self, message: &QueueMessage) -> Disposition {
        self.metrics.event_processed();
        let envelope = match decode::envelope(&message.body) {
            Ok(envelope) => envelope,
            Err(e) => {
                self.metrics.unsupported_event();
                tracing::warn!(message_id = %message.id, receive_count = message.receive_count, error = %e, "notification not decoded; left for the dead-letter queue");
                return Disposition::Keep(KeepReason::Undecodable(e.to_string()));
            }
        };
        let channels: Vec<String> = self
            .config
            .channels_for_topic(&envelope.topic_arn)
            .map(|c| c.id.clone())
            .collect();
        if channels.is_empty() {
            self.metrics.unsupported_event();
            tracing::warn!(topic = %envelope.topic_arn, message_id = %envelope.message_id, "no channel shows this topic; left for the dead-letter queue");
            return Disposition::Keep(KeepReason::Unrouted {
                topic: envelope.topic_arn,
            });
        }
        let event = decode::event(&envelope);
        let mut card = format::card(&envelope, &event);
        card.custom_actions = super::actions::for_event(
            &self.config.notifications.actions,
            self.config.notifications.default_actions,
            &card.kind,
            &event,
        );
        let mut failures = Vec::new();
        let mut collapsed = false;
        for channel in channels {
            // Taken before posting, so of two processes handling a redelivery one posts;
            // given back if the card does not go out.
            let id = posted_id(&envelope.message_id, &channel);
            match self
                .store
                .take(Once::Notification, &id, self.expires())
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    // Unknown whether it was posted: leave the message on the queue.
                    tracing::warn!(error = %e, "notification not posted: the state store is unreachable");
                    failures.push(SinkError {
                        channel: channel.clone(),
                        reason: format!("the state store is unreachable: {e}"),
                    });
                    continue;
                }
            }
            let release = || async {
                if let Err(e) = self.store.release(Once::Notification, &id).await {
                    tracing::warn!(error = %e, "notification take not given back");
                }
            };
            let waiting = self
                .deferred()
                .get(&envelope.message_id)
                .is_some_and(|c| c.contains(&channel));
            if waiting {
                // A redelivery of a card already in a summary: it waits with the summary.
                release().await;
                collapsed = true;
                continue;
            }
            match self.pacer.admit(&channel, &envelope.message_id, &card) {
                Admission::Collapse => {
                    // Taken when its summary is posted.
                    release().await;
                    self.metrics.event_throttled();
                    self.deferred()
                        .entry(envelope.message_id.clone())
                        .or_default()
                        .push(channel.clone());
                    collapsed = true;
                    continue;
                }
                // Slack takes about a message a second per channel: waiting for the slot is
                // the pacing itself.
                Admission::Post { after } if !after.is_zero() => tokio::time::sleep(after).await,
                Admission::Post { .. } => {}
            }
            let charted = self.chart(&envelope, &card, &channel).await;
            let card = charted.as_ref().unwrap_or(&card);
            match self.post(&channel, card).await {
                Ok(()) => {
                    self.audit(&envelope, card, &channel, AuditOutcome::Ok, None);
                }
                Err(e) => {
                    release().await;
                    self.audit(
                        &envelope,
                        card,
                        &channel,
                        AuditOutcome::AwsError("PostFailed".into()),
                        Some(e.reason.clone()),
                    );
                    failures.push(e);
                }
            }
        }
        if !failures.is_empty() {
            Disposition::Keep(KeepReason::NotPosted(failures))
        } else if collapsed {
            Disposition::Defer {
                notification: envelope.message_id,
            }
        } else {
            Disposition::Delete
        }
    }

    /// The card with its alarm's chart as `channel` may see it (or the line saying why it has
    /// none); `None` when there is nothing to chart. A failure is logged and counted.
    async fn chart(&self, envelope: &Envelope, card: &Card, channel: &str) -> Option<Card> {
        let result = self.charts.as_ref()?.chart(card, channel).await?;
        if let Err(why) = &result {
            self.metrics.chart_failed();
            tracing::warn!(message_id = %envelope.message_id, channel, reason = %why, "alarm card posted without its chart");
        }
        Some(with_chart(card, result))
    }

    /// Posts in the card's thread when its thread has started in this channel, and starts it
    /// otherwise.
    async fn post(&self, channel: &str, card: &Card) -> Result<(), SinkError> {
        let thread = match &card.thread {
            Some(key) => self.store.thread(channel, key).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "notification thread not read: posting a new one");
                None
            }),
            None => None,
        };
        let result = self.sink.post(channel, card, thread.as_deref()).await;
        self.metrics.message_delivery(result.is_ok());
        let id = result?;
        if let (Some(key), None) = (&card.thread, thread) {
            if let Err(e) = self
                .store
                .claim_thread(channel, key, &id, self.expires())
                .await
            {
                tracing::warn!(error = %e, "notification thread not recorded");
            }
        }
        Ok(())
    }

    fn audit(
        &self,
        envelope: &Envelope,
        card: &Card,
        channel: &str,
        outcome: AuditOutcome,
        reason: Option<String>,
    ) {
        let mut record = AuditRecord::new(&self.config.slack.team_id, channel, "aws-notification");
        record.decision = AuditDecision::Notify;
        record.service = Some(card.kind.clone());
        record.operation = Some("notification".into());
        record.params = serde_json::json!({
            "TopicArn": envelope.topic_arn,
            "MessageId": envelope.message_id,
            "Title": card.title,
        });
        // Whether an alarm card went with its chart, or why not.
        if let Some(chart) = card
            .image
            .as_ref()
            .map(|i| i.filename.clone())
            .or_else(|| card.image_note.clone())
        {
            record.params["Chart"] = serde_json::Value::String(chart);
        }
        record.outcome = outcome;
        record.reason = reason;
        self.auditor.record(record);
    }
}
