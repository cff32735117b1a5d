//! Audit records to CloudWatch Logs, as AWS Chatbot keeps them: one log group per channel
//! configuration (`/aws/chatbot/<configuration-name>`), created if missing, in the bot's own
//! account.
//!
//! The sink never holds up a reply: [`CloudWatchSink::send`] puts the line in a bounded
//! queue and returns; when the queue is full the record is dropped and counted. A background
//! task sends batches (PutLogEvents, at most `batch_size` records or about 1 MB each) every
//! `flush_interval_ms`, or sooner when a batch fills. When CloudWatch cannot be reached the
//! records wait (up to `queue_capacity`; the oldest go first) and delivery is retried with
//! exponential backoff; a log group or stream that disappeared is created again.
//!
//! `aws-sdk-cloudwatchlogs` speaks awsJson1.1 in every release so far, which moto serves
//! (unlike `aws-sdk-cloudwatch` from 1.100 on: see Cargo.toml).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::config::timeout::TimeoutConfig;
use aws_sdk_cloudwatchlogs::config::Region;
use aws_sdk_cloudwatchlogs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::config::CloudWatchLogsConfig;

/// PutLogEvents limits: 1,048,576 bytes a batch, counting 26 bytes per event; 256 KiB an
/// event.
const MAX_BATCH_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;
const MAX_EVENT_BYTES: usize = 256 * 1024 - EVENT_OVERHEAD;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Counters of the sink, for metrics and tests.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Records taken into the queue.
    pub accepted: AtomicU64,
    /// Records CloudWatch Logs accepted.
    pub delivered: AtomicU64,
    /// Records dropped: the queue was full, or the oldest waiting ones made room.
    pub dropped: AtomicU64,
    /// Delivery attempts that failed (each is retried).
    pub failed_attempts: AtomicU64,
}

impl SinkStats {
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn failed_attempts(&self) -> u64 {
        self.failed_attempts.load(Ordering::Relaxed)
    }
}

enum Command {
    Record(Waiting),
    Flush(oneshot::Sender<bool>),
}

struct Waiting {
    group: String,
    timestamp: i64,
    message: String,
}

/// The handle of the background delivery task; dropping it lets the task send what is left
/// and stop.
#[derive(Clone)]
pub struct CloudWatchSink {
    tx: mpsc::Sender<Command>,
    stats: Arc<SinkStats>,
}

impl std::fmt::Debug for CloudWatchSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudWatchSink")
            .field("stats", &self.stats)
            .finish()
    }
}

impl CloudWatchSink {
    /// Starts the delivery task on the current Tokio runtime, with the bot's own AWS
    /// configuration (credentials, endpoint) and the region of `settings`.
    pub fn spawn(sdk: &SdkConfig, settings: &CloudWatchLogsConfig) -> CloudWatchSink {
        let config = aws_sdk_cloudwatchlogs::config::Builder::from(sdk)
            .region(Region::new(settings.region.clone()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(Duration::from_secs(20))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .build();
        let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
        let stats = Arc::new(SinkStats::default());
        let flush_interval = Duration::from_millis(settings.flush_interval_ms.max(1));
        let worker = Worker {
            client: aws_sdk_cloudwatchlogs::Client::from_conf(config),
            stream: settings.log_stream.clone().unwrap_or_else(default_stream),
            batch_size: settings.batch_size.clamp(1, 10_000),
            capacity: settings.queue_capacity.max(1),
            flush_interval,
            max_backoff: MAX_BACKOFF.min(flush_interval * 16),
            waiting: Vec::new(),
            ready: HashSet::new(),
            backoff: None,
            stats: stats.clone(),
        };
        tokio::spawn(worker.run(rx));
        CloudWatchSink { tx, stats }
    }

    /// Queues one audit line for `group`. Never waits: when the queue is full the line is
    /// dropped and counted.
    pub fn send(&self, group: &str, line: &str) {
        let mut message = line.to_owned();
        if message.len() > MAX_EVENT_BYTES {
            let mut end = MAX_EVENT_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        let record = Waiting {
            group: group.to_owned(),
            timestamp: now_millis(),
            message,
        };
        match self.tx.try_send(Command::Record(record)) {
            Ok(()) => {
                self.stats.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Sends everything queued so far now; true when nothing is left waiting. For tests and
    /// shutdown: this one does wait (bound it with a timeout).
    pub async fn flush(&self) -> bool {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Flush(ack)).await.is_err() {
            return false;
        }
        done.await.unwrap_or(false)
    }

    pub fn stats(&self) -> &Arc<SinkStats> {
        &self.stats
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `aws-chatops-<host>`: one stream per bot instance.
fn default_stream() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".into());
    let host: String = host
        .chars()
        .map(|c| if c == ':' || c == '*' { '-' } else { c })
        .collect();
    format!("aws-chatops-{host}")
}

struct Worker {
    client: aws_sdk_cloudwatchlogs::Client,
    stream: String,
    batch_size: usize,
    capacity: usize,
    flush_interval: Duration,
    max_backoff: Duration,
    /// Records not yet delivered, oldest first.
    waiting: Vec<Waiting>,
    /// Log groups whose group and stream are known to exist.
    ready: HashSet<String>,
    /// While delivery fails: the current backoff and when to try again.
    backoff: Option<(Duration, Instant)>,
    stats: Arc<SinkStats>,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut ticker = tokio::time::interval(self.flush_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = rx.recv() => match command {
                    Some(Command::Record(record)) => {
                        self.waiting.push(record);
                        if self.waiting.len() > self.capacity {
                            let excess = self.waiting.len() - self.capacity;
                            self.waiting.drain(..excess);
                            self.stats.dropped.fetch_add(excess as u64, Ordering::Relaxed);
                        }
                        if self.waiting.len() >= self.batch_size && self.may_try() {
                            self.deliver().await;
                        }
                    }
                    Some(Command::Flush(ack)) => {
                        // Take what is already queued behind the flush request too.
                        while let Ok(Command::Record(record)) = rx.try_recv() {
                            self.waiting.push(record);
                        }
                        self.deliver().await;
                        let _ = ack.send(self.waiting.is_empty());
                    }
                    None => {
                        self.deliver().await;
                        return;
                    }
                },
                _ = ticker.tick() => {
                    if !self.waiting.is_empty() && self.may_try() {
                        self.deliver().await;
                    }
                }
            }
        }
    }

    fn may_try(&self) -> bool {
        self.backoff.is_none_or(|(_, at)| Instant::now() >= at)
    }

    /// Sends the waiting records, a batch per log group, until all are delivered or one
    /// attempt fails (then the rest waits for the backoff).
    async fn deliver(&mut self) {
        while let Some(first) = self.waiting.first() {
            let group = first.group.clone();
            let mut batch = Vec::new();
            let mut bytes = 0;
            for (i, record) in self.waiting.iter().enumerate() {
                if record.group != group {
                    continue;
                }
                let size = record.message.len() + EVENT_OVERHEAD;
                if batch.len() == self.batch_size || bytes + size > MAX_BATCH_BYTES {
                    break;
                }
                bytes += size;
                batch.push(i);
            }
            match self.put(&group, &batch).await {
                Ok(()) => {
                    self.stats
                        .delivered
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    let mut i = 0;
                    let mut next = batch.iter().peekable();
                    self.waiting.retain(|_| {
                        let sent = next.peek() == Some(&&i);
                        if sent {
                            next.next();
                        }
                        i += 1;
                        !sent
                    });
                    if self.backoff.take().is_some() {
                        tracing::info!(
                            group = %group,
                            "audit records reach CloudWatch Logs again"
                        );
                    }
                }
                Err(reason) => {
                    self.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                    let backoff = match self.backoff {
                        None => {
                            tracing::warn!(
                                group = %group,
                                waiting = self.waiting.len(),
                                error = %reason,
                                "audit records cannot reach CloudWatch Logs; retrying"
                            );
                            self.flush_interval
                        }
                        Some((previous, _)) => (previous * 2).min(self.max_backoff),
                    };
                    self.backoff = Some((backoff, Instant::now() + backoff));
                    return;
                }
            }
        }
    }

    /// One PutLogEvents call for the records at `indices` (all of `group`), creating the
    /// group and stream first when they are not known to exist.
    async fn put(&mut self, group: &str, indices: &[usize]) -> Result<(), String> {
        let mut events: Vec<InputLogEvent> = Vec::with_capacity(indices.len());
        for &i in indices {
            let record = &self.waiting[i];
            events.push(
                InputLogEvent::builder()
                    .timestamp(record.timestamp)
                    .message(record.message.clone())
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        // PutLogEvents wants the events of a batch in time order.
        events.sort_by_key(|e| e.timestamp());
        for attempt in 0..2 {
            if !self.ready.contains(group) {
                self.create(group).await?;
                self.ready.insert(group.to_owned());
            }
            let result = self
                .client
                .put_log_events()
                .log_group_name(group)
                .log_stream_name(&self.stream)
                .set_log_events(Some(events.clone()))
                .send()
                .await;
            match result {
                Ok(output) => {
                    if let Some(rejected) = output.rejected_log_events_info() {
                        tracing::warn!(?rejected, group, "CloudWatch Logs rejected audit records");
                    }
                    return Ok(());
                }
                // The group or stream was deleted (or the service restarted): create it again.
                Err(e)
                    if attempt == 0
                        && e.as_service_error()
                            .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    self.ready.remove(group);
                }
                Err(e) => return Err(error_text(&e)),
            }
        }
        Err("the log group could not be created".into())
    }

    async fn create(&self, group: &str) -> Result<(), String> {
        match self
            .client
            .create_log_group()
            .log_group_name(group)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_already_exists_exception()) => {}
            Err(e) => return Err(error_text(&e)),
        }
        match self
            .client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(&self.stream)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_already_exists_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(error_text(&e)),
        }
    }
}

fn error_text<E, R>(e: &aws_sdk_cloudwatchlogs::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("Error"),
            service.message().unwrap_or("no message")
        ),
        None => DisplayErrorContext(e).to_string(),
    }
}
