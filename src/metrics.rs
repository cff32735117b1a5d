//! Operational metrics on a Prometheus text endpoint (`--metrics-addr`), with AWS Chatbot's
//! five CloudWatch metrics (`AWS/Chatbot` namespace) under Prometheus names:
//!
//! | AWS Chatbot | here |
//! |---|---|
//! | EventsProcessed | `aws_chatops_events_processed_total` |
//! | EventsThrottled | `aws_chatops_events_throttled_total` |
//! | UnsupportedEvents | `aws_chatops_unsupported_events_total` |
//! | MessageDeliverySuccess | `aws_chatops_message_delivery_success_total` |
//! | MessageDeliveryFailure | `aws_chatops_message_delivery_failure_total` |
//!
//! plus the command latency by service (`aws_chatops_command_duration_seconds`), STS
//! AssumeRole calls and credential cache hits (read from the [`Executor`] at each scrape),
//! pending questions, and the audit trail's records, deliveries and drops.
//!
//! The server also answers `/healthz` (the process is up) and `/readyz` (200 once the Slack
//! socket is connected: [`Metrics::set_ready`], 503 before and while reconnecting).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::audit::cloudwatch::{CloudWatchSink, SinkStats};
use crate::execute::Executor;

/// The content type of the OpenMetrics text that `prometheus-client` writes (Prometheus
/// reads it; so do the text-format parsers).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Latency buckets in seconds: a cached-credential call to moto takes milliseconds, a cold
/// AssumeRole plus a paginated listing a few seconds, the executor gives up at 30.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabel {
    instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    service: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The bot's metrics. Cheap to clone (one shared set); every method takes `&self`.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    events_processed: Counter,
    events_throttled: Counter,
    unsupported_events: Counter,
    delivery_success: Counter,
    delivery_failure: Counter,
    command_duration: Family<ServiceLabel, Histogram, fn() -> Histogram>,
    pending_questions: Gauge,
    audit_records: Counter,
    charts_failed: Counter,
    watched: Arc<Watched>,
    ready: AtomicBool,
    /// Whether the last call to the state store answered (issue #13): `/readyz` says when not.
    store_unreachable: AtomicBool,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("ready", &self.is_ready())
            .finish()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// Values that live elsewhere and are read at each scrape.
#[derive(Default)]
struct Watched {
    executors: Mutex<Vec<Arc<Executor>>>,
    sinks: Mutex<Vec<Arc<SinkStats>>>,
}

impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watched")
    }
}

impl Collector for Watched {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let executors = self.executors.lock().unwrap_or_else(|p| p.into_inner());
        let sinks = self.sinks.lock().unwrap_or_else(|p| p.into_inner());
        let counters: [(&str, &str, u64); 4] = [
            (
                "assume_role_calls",
                "STS AssumeRole calls made for channel accounts.",
                executors.iter().map(|e| e.assume_role_calls()).sum(),
            ),
            (
                "credential_cache_hits",
                "Commands that used cached assumed-role credentials instead of calling STS.",
                executors.iter().map(|e| e.credential_cache_hits()).sum(),
            ),
            (
                "audit_records_delivered",
                "Audit records CloudWatch Logs accepted.",
                sinks.iter().map(|s| s.delivered()).sum(),
            ),
            (
                "audit_records_dropped",
                "Audit records dropped because the CloudWatch Logs queue was full.",
                sinks.iter().map(|s| s.dropped()).sum(),
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        Ok(())
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("aws_chatops");
        let events_processed = Counter::default();
        let events_throttled = Counter::default();
        let unsupported_events = Counter::default();
        let delivery_success = Counter::default();
        let delivery_failure = Counter::default();
        let command_duration: Family<ServiceLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        let pending_questions = Gauge::default();
        let audit_records = Counter::default();
        let charts_failed = Counter::default();
        registry.register(
            "events_processed",
            "Messages and actions received (AWS Chatbot: EventsProcessed).",
            events_processed.clone(),
        );
        registry.register(
            "events_throttled",
            "Events throttled by Slack rate limits or refused because the sender's commands filled their lane (AWS Chatbot: EventsThrottled).",
            events_throttled.clone(),
        );
        registry.register(
            "unsupported_events",
            "Events or commands for services or operations the bot does not support (AWS Chatbot: UnsupportedEvents).",
            unsupported_events.clone(),
        );
        registry.register(
            "message_delivery_success",
            "Replies delivered to the chat (AWS Chatbot: MessageDeliverySuccess).",
            delivery_success.clone(),
        );
        registry.register(
            "message_delivery_failure",
            "Replies that could not be delivered to the chat (AWS Chatbot: MessageDeliveryFailure).",
            delivery_failure.clone(),
        );
        registry.register_with_unit(
            "command_duration",
            "Time from a command's arrival to its reply, for commands that called AWS, by service.",
            prometheus_client::registry::Unit::Seconds,
            command_duration.clone(),
        );
        registry.register(
            "pending_questions",
            "Questions (parameters, confirmations, account choices) waiting for an answer.",
            pending_questions.clone(),
        );
        registry.register(
            "audit_records",
            "Audit records written.",
            audit_records.clone(),
        );
        registry.register(
            "charts_failed",
            "Alarm charts that could not be made (the card or reply went without, saying why).",
            charts_failed.clone(),
        );
        // The process's name, for telling apart the processes of one bot (issue #13); the
        // scraper's own `instance` label names the address.
        // (A scraper that does not honor labels shows it as `exported_instance`.)
        registry.register(
            "instance",
            "This bot process's name (--instance).",
            prometheus_client::metrics::info::Info::new(InstanceLabel {
                instance: crate::instance().to_owned(),
            }),
        );
        let watched = Arc::new(Watched::default());
        registry.register_collector(Box::new(watched.clone()));
        Metrics {
            inner: Arc::new(Inner {
                registry,
                events_processed,
                events_throttled,
                unsupported_events,
                delivery_success,
                delivery_failure,
                command_duration,
                pending_questions,
                audit_records,
                charts_failed,
                watched,
                ready: AtomicBool::new(false),
                store_unreachable: AtomicBool::new(false),
            }),
        }
    }

    /// A message or action arrived (EventsProcessed).
    pub fn event_processed(&self) {
        self.inner.events_processed.inc();
    }

    /// An event was throttled (EventsThrottled): Slack answered 429, or a rate limit of ours.
    pub fn event_throttled(&self) {
        self.inner.events_throttled.inc();
    }

    /// An event or command the bot does not support (UnsupportedEvents).
    pub fn unsupported_event(&self) {
        self.inner.unsupported_events.inc();
    }

    /// An alarm chart could not be made or delivered.
    pub fn chart_failed(&self) {
        self.inner.charts_failed.inc();
    }

    /// A reply was posted (MessageDeliverySuccess) or could not be (MessageDeliveryFailure).
    pub fn message_delivery(&self, delivered: bool) {
        if delivered {
            self.inner.delivery_success.inc();
        } else {
            self.inner.delivery_failure.inc();
        }
    }

    /// A command that called AWS took `elapsed`, from arrival to reply.
    pub fn observe_command(&self, service: &str, elapsed: Duration) {
        self.inner
            .command_duration
            .get_or_create(&ServiceLabel {
                service: service.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Questions waiting for an answer now (`Conversations::pending_count`).
    pub fn set_pending_questions(&self, count: u64) {
        self.inner
            .pending_questions
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// An audit record was written (the [`crate::audit::Auditor`] calls this).
    pub fn audit_record(&self) {
        self.inner.audit_records.inc();
    }

    /// Reads AssumeRole calls and credential cache hits from this executor at each scrape.
    pub fn watch_executor(&self, executor: Arc<Executor>) {
        self.inner
            .watched
            .executors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(executor);
    }

    /// Reads this CloudWatch Logs sink's deliveries and drops at each scrape.
    pub fn watch_audit_sink(&self, sink: &CloudWatchSink) {
        self.inner
            .watched
            .sinks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(sink.stats().clone());
    }

    /// `/readyz` answers 200 while this is true: the Slack transport sets it when its socket
    /// connects and clears it when the socket drops.
    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Relaxed);
    }

    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Relaxed)
            && !self.inner.store_unreachable.load(Ordering::Relaxed)
    }

    /// Whether the state store answered its last call: while it does not, `/readyz` answers
    /// 503 and says so (commands that need no question still run).
    pub fn set_store_reachable(&self, reachable: bool) {
        self.inner
            .store_unreachable
            .store(!reachable, Ordering::Relaxed);
    }

    /// The metrics as OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        text
    }

    /// Serves `/metrics`, `/healthz` and `/readyz` on `addr` from a background task; returns
    /// the address bound (useful with port 0).
    pub async fn serve(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let metrics = self.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = match listener.accept().await {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics endpoint: accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let metrics = metrics.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let response = metrics.respond(&request);
                        async move { Ok::<_, std::convert::Infallible>(response) }
                    });
                    if let Err(e) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        tracing::debug!(error = %e, "metrics endpoint: connection ended");
                    }
                });
            }
        });
        Ok(bound)
    }

    fn respond(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        let (status, content_type, body) = match (request.method(), request.uri().path()) {
            (&hyper::Method::GET, "/metrics") => (StatusCode::OK, CONTENT_TYPE, self.encode()),
            (&hyper::Method::GET, "/healthz") => (StatusCode::OK, "text/plain", "ok\n".to_owned()),
            (&hyper::Method::GET, "/readyz") if self.is_ready() => {
                (StatusCode::OK, "text/plain", "ready\n".to_owned())
            }
            (&hyper::Method::GET, "/readyz") => (
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                if self.inner.store_unreachable.load(Ordering::Relaxed) {
                    "the state store is unreachable\n".to_owned()
                } else {
                    "the Slack socket is not connected\n".to_owned()
                },
            ),
            (&hyper::Method::GET, _) => (
                StatusCode::NOT_FOUND,
                "text/plain",
                "not found: /metrics, /healthz, /readyz\n".to_owned(),
            ),
            _ => (
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "GET only\n".to_owned(),
            ),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        if let Ok(value) = http::HeaderValue::from_str(content_type) {
            response
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_the_histogram_show_in_the_text() {
        let m = Metrics::new();
        m.event_processed();
        m.event_processed();
        m.message_delivery(true);
        m.message_delivery(false);
        m.observe_command("lambda", Duration::from_millis(30));
        m.set_pending_questions(3);
        let text = m.encode();
        for line in [
            "aws_chatops_events_processed_total 2",
            "aws_chatops_message_delivery_success_total 1",
            "aws_chatops_message_delivery_failure_total 1",
            "aws_chatops_events_throttled_total 0",
            "aws_chatops_unsupported_events_total 0",
            "aws_chatops_pending_questions 3",
            "aws_chatops_command_duration_seconds_count{service=\"lambda\"} 1",
            "aws_chatops_assume_role_calls_total 0",
            "aws_chatops_credential_cache_hits_total 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
