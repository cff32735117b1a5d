//! `logs start-query` in chat shows the query's log entries, not just its id: what Show logs
//! and Show error logs send, and the command their reply offers to re-run.
//!
//! The plan got here like any command (parsed, guarded with the channel's guardrails on the
//! log group, in the account and region chosen). Before any AWS call, the guard is asked
//! about `logs:GetQueryResults` too, so a channel that may start queries but not read them
//! hears so instead of starting one. Then: StartQuery as the channel's role, GetQueryResults
//! until the query completes or the command timeout passes (a query still running by then
//! gets a reply that says so), every line masked by the audit masker, the filters the bot
//! understands applied again (an emulator may ignore `filter`), and the command to re-run.
//! With `--output json|yaml|text|table` or `--query`, start-query answers as the AWS CLI does.

use std::borrow::Cow;
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde_json::{Map, Value};

use crate::audit::{AuditDecision, AuditOutcome, AuditRecord};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::config::AccountConfig;
use crate::guard::Decision;
use crate::parse::{Output, Paging, Request};

use super::{Inbound, Outcome, Pipeline, Reply};

/// How often GetQueryResults is asked while the query runs.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// Entries shown at most (a query typed without a `limit` may return 10,000).
pub const MAX_SHOWN: usize = 100;
/// A log line shown is cut past this many characters.
const LINE_CHARS: usize = 500;

/// Whether this request's reply is the query's log entries.
pub(super) fn shows_entries(request: &Request) -> bool {
    request.service.service == "logs"
        && request.operation.api == "StartQuery"
        && request.output == Output::Chat
        && request.query.is_none()
}

/// One log entry of a query's results: its time and its message (or the fields the query
/// selected, `name=value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub timestamp: Option<String>,
    pub text: String,
}

/// Where a query stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryState {
    /// Scheduled or running: ask again.
    Running,
    Complete(Vec<Entry>),
    /// Failed, Cancelled, Timeout or Unknown, as CloudWatch Logs says.
    Ended(String),
}

/// What waiting for something ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited<T, E> {
    Done(T),
    Failed(E),
    /// Still not done when the deadline came.
    TimedOut,
}

/// Asks `ask` until it answers `Some` or an error, waiting `every` in between with `wait`,
/// and gives up once the next ask would start at `deadline` or later (by `clock`). Time is
/// injected: production waits with tokio's timer, tests move a manual clock.
pub async fn poll<T, E, A, AF, W, WF>(
    clock: &dyn Clock,
    deadline: Duration,
    every: Duration,
    mut ask: A,
    mut wait: W,
) -> Waited<T, E>
where
    A: FnMut() -> AF,
    AF: Future<Output = Result<Option<T>, E>>,
    W: FnMut(Duration) -> WF,
    WF: Future<Output = ()>,
{
    let started = clock.now();
    loop {
        match ask().await {
            Ok(Some(done)) => return Waited::Done(done),
            Err(e) => return Waited::Failed(e),
            Ok(None) => {}
        }
        if clock.now().saturating_duration_since(started) + every >= deadline {
            return Waited::TimedOut;
        }
        wait(every).await;
    }
}

/// GetQueryResults' answer as a [`QueryState`].
pub fn query_state(value: &Value) -> QueryState {
    match value
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("Unknown")
    {
        "Scheduled" | "Running" => QueryState::Running,
        "Complete" => QueryState::Complete(
            value
                .get("results")
                .and_then(Value::as_array)
                .map(|rows| rows.iter().map(entry).collect())
                .unwrap_or_default(),
        ),
        other => QueryState::Ended(other.to_owned()),
    }
}

/// How far a running query got, from GetQueryResults' `statistics`: "scanned 12,000
/// records, 34 matched".
pub fn scanned(value: &Value) -> Option<String> {
    let statistics = value.get("statistics")?;
    let records = |k: &str| statistics.get(k).and_then(Value::as_f64).map(|n| n as u64);
    let scanned = records("recordsScanned")?;
    let unit = if scanned == 1 { "record" } else { "records" };
    Some(match records("recordsMatched") {
        Some(matched) => format!(
            "scanned {} {unit}, {} matched",
            crate::progress::count(scanned),
            crate::progress::count(matched)
        ),
        None => format!("scanned {} {unit}", crate::progress::count(scanned)),
    })
}

/// A result row (`[{"field": "@timestamp", "value": …}, …]`) as an entry; `@ptr` is an
/// internal pointer and never shown.
fn entry(row: &Value) -> Entry {
    let mut timestamp = None;
    let mut message = None;
    let mut others = Vec::new();
    for cell in row.as_array().into_iter().flatten() {
        let field = cell
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let value = cell
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match field {
            "@ptr" => {}
            "@timestamp" => timestamp = Some(time(value)),
            "@message" => message = Some(value.trim_end().to_owned()),
            other => others.push(format!("{other}={value}")),
        }
    }
    Entry {
        timestamp,
        text: message.unwrap_or_else(|| others.join(" ")),
    }
}

/// A result's time as CloudWatch Logs writes it (`2026-11-30 07:52:07.473`); an emulator's
/// milliseconds since 1970 are written the same way.
fn time(value: &str) -> String {
    match value.parse::<i64>() {
        Ok(millis) => {
            let t = aws_smithy_types::DateTime::from_millis(millis);
            t.fmt(aws_smithy_types::date_time::Format::DateTime)
                .map(|s| {
                    let s = s.trim_end_matches('Z').replace('T', " ");
                    match s.split_once('.') {
                        Some((whole, fraction)) => format!("{whole}.{fraction:0<3}"),
                        None => format!("{s}.000"),
                    }
                })
                .unwrap_or_else(|_| value.to_owned())
        }
        Err(_) => value.to_owned(),
    }
}

/// A filter on `@message` the bot applies itself.
#[derive(Debug)]
enum MessageFilter {
    Matches(Regex),
    Contains(String),
}

impl MessageFilter {
    fn keeps(&self, message: &str) -> bool {
        match self {
            MessageFilter::Matches(re) => re.is_match(message),
            MessageFilter::Contains(text) => message.contains(text.as_str()),
        }
    }
}

/// The `filter @message like /regex/` and `filter @message like "text"` commands of a
/// Logs Insights query. CloudWatch Logs applies them; the bot applies them again, which
/// changes nothing there and keeps Show error logs right where `filter` is ignored (moto).
/// A pattern Rust's regex engine can't read is left to CloudWatch Logs.
fn message_filters(query: &str) -> Vec<MessageFilter> {
    static FILTER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:^|\|)\s*filter\s+@message\s+like\s+(?:/((?:\\.|[^/\\])*)/|"([^"]*)"|'([^']*)')\s*(?:\||$)"#)
            .expect("the filter pattern compiles")
    });
    FILTER
        .captures_iter(query)
        .filter_map(|c| match (c.get(1), c.get(2).or(c.get(3))) {
            (Some(re), _) => regex::RegexBuilder::new(re.as_str())
                .size_limit(1 << 20)
                .build()
                .ok()
                .map(MessageFilter::Matches),
            (None, Some(text)) => Some(MessageFilter::Contains(text.as_str().to_owned())),
            _ => None,
        })
        .collect()
}

/// `logs get-query-results --query-id <id>` in `region`.
fn results_request(query_id: &str, region: &str) -> Option<Request> {
    let service = Catalog::builtin().service("logs")?;
    let operation = service.operation("get-query-results")?;
    let mut params = Map::new();
    params.insert("queryId".into(), Value::String(query_id.to_owned()));
    Some(Request {
        service,
        operation,
        params,
        region: Some(region.to_owned()),
        output: Output::Json,
        query: None,
        paging: Paging::default(),
        refused_options: vec![],
        file_values: vec![],
        missing: vec![],
        notes: vec![],
        alias: None,
    })
}

/// The log groups a start-query names, for the reply.
fn log_groups(request: &Request) -> Vec<String> {
    ["logGroupName", "logGroupNames", "logGroupIdentifiers"]
        .iter()
        .filter_map(|m| request.params.get(*m))
        .flat_map(|v| match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        })
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// A `startTime`/`endTime` (seconds since 1970) as `2026-11-30 07:51:07 UTC`.
fn when(request: &Request, member: &str) -> String {
    match request.params.get(member).and_then(Value::as_i64) {
        Some(secs) => aws_smithy_types::DateTime::from_secs(secs)
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .map(|s| format!("{} UTC", s.trim_end_matches('Z').replace('T', " ")))
            .unwrap_or_else(|_| secs.to_string()),
        None => "?".into(),
    }
}

/// Entries as a code block: time, two spaces, the line; a fence inside a line is broken up
/// so it can't end the block.
fn entries_block(entries: &[Entry]) -> String {
    let lines: Vec<String> = entries
        .iter()
        .map(|e| {
            let mut text: String = e.text.chars().take(LINE_CHARS).collect();
            if e.text.chars().count() > LINE_CHARS {
                text.push('…');
            }
            let text = text.replace("```", "`\u{200b}``");
            match &e.timestamp {
                Some(t) => format!("{t}  {text}"),
                None => text,
            }
        })
        .collect();
    format!("```\n{}\n```", lines.join("\n"))
}

impl Pipeline {
    /// Runs a start-query the guard let through and answers with its entries (see the
    /// module's documentation). `header` names the command, account and region.
    pub(super) async fn show_entries(
        &self,
        inbound: &Inbound,
        request: &Request,
        account: &AccountConfig,
        region: &str,
        header: &str,
        record: &mut AuditRecord,
    ) -> Reply {
        // Reading the results is an action of its own: ask the guard before starting.
        let Some(check) = results_request("(the query's id)", region) else {
            return Reply::new(
                Outcome::InternalError,
                format!("{header}\nget-query-results is missing from the catalog."),
            );
        };
        let decision = match self.channel_of(inbound) {
            Some(channel) => self.decide(channel, &check, Some((account, region))),
            None => Decision::Deny(crate::guard::Refusal::new(
                crate::guard::Rule::ChannelNotConfigured,
            )),
        };
        if let Decision::Deny(refusal) = decision {
            record.decision = AuditDecision::Deny;
            record.rule = Some(refusal.rule_name().to_owned());
            record.reason = Some(refusal.to_string());
            return Reply::new(Outcome::Refused, refusal.to_string());
        }
        let rerun = format!("`@aws {}`", request.command_line());
        let started = match self.execute(inbound, request, account, region).await {
            Ok(started) => started,
            Err(e) => {
                record.outcome = AuditOutcome::AwsError(e.code().to_owned());
                record.reason = Some(e.to_string());
                return Reply::new(Outcome::AwsError, format!("{header}\n{e}"));
            }
        };
        record.request_id = started.request_id;
        let Some(query_id) = started.value.get("queryId").and_then(Value::as_str) else {
            return Reply::new(
                Outcome::AwsError,
                format!("{header}\nCloudWatch Logs started no query (its answer has no queryId)."),
            );
        };
        let Some(results) = results_request(query_id, region) else {
            return Reply::new(Outcome::InternalError, header.to_owned());
        };
        let deadline = Duration::from_secs(self.config.command_timeout_secs);
        let clock = self.clock.clone();
        let waited = poll(
            &*self.clock,
            deadline,
            POLL_EVERY,
            || async {
                let got = self.execute(inbound, &results, account, region).await?;
                Ok(match query_state(&got.value) {
                    QueryState::Running => {
                        // Another GetQueryResults follows, so whoever shows this sees it.
                        if let Some(how_far) = scanned(&got.value) {
                            crate::progress::report(how_far);
                        }
                        None
                    }
                    done => Some(done),
                })
            },
            // Logs Insights says nothing when a query completes: GetQueryResults is asked
            // again after each pause, until the command timeout, both by the pipeline's clock
            // (a manual one in tests moves on instead of waiting).
            |every| clock.pause(every),
        )
        .await;
        let entries = match waited {
            Waited::Done(QueryState::Complete(entries)) => entries,
            Waited::Done(state) => {
                let status = match state {
                    QueryState::Ended(status) => status,
                    _ => "Running".to_owned(),
                };
                record.outcome = AuditOutcome::AwsError(format!("Query{status}"));
                return Reply::new(
                    Outcome::AwsError,
                    format!("{header}\nThe query {query_id} ended with status {status}, so there are no entries to show. Run it again: {rerun}"),
                );
            }
            Waited::Failed(e) => {
                let e: crate::execute::ExecError = e;
                record.outcome = AuditOutcome::AwsError(e.code().to_owned());
                record.reason = Some(e.to_string());
                return Reply::new(Outcome::AwsError, format!("{header}\n{e}"));
            }
            Waited::TimedOut => {
                record.outcome = AuditOutcome::AwsError("QueryStillRunning".into());
                return Reply::new(
                    Outcome::AwsError,
                    timed_out(header, query_id, deadline, &rerun),
                );
            }
        };
        Reply::new(
            Outcome::Ok,
            self.entries_reply(header, request, entries, &rerun),
        )
    }

    /// The reply with the entries: filtered again, masked, at most [`MAX_SHOWN`].
    fn entries_reply(
        &self,
        header: &str,
        request: &Request,
        entries: Vec<Entry>,
        rerun: &str,
    ) -> String {
        let query = request
            .params
            .get("queryString")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let filters = message_filters(query);
        let returned = entries.len();
        let kept: Vec<Entry> = entries
            .into_iter()
            .filter(|e| filters.iter().all(|f| f.keeps(&e.text)))
            .map(|e| Entry {
                text: match self.auditor.mask(&e.text) {
                    Cow::Borrowed(_) => e.text,
                    Cow::Owned(masked) => masked,
                },
                ..e
            })
            .collect();
        let groups = log_groups(request).join(", ");
        let span = format!(
            "from {} to {}",
            when(request, "startTime"),
            when(request, "endTime")
        );
        let mut text = format!("{header}\n");
        if kept.is_empty() {
            text.push_str(&format!("No log entries in {groups} {span}"));
            if returned > 0 {
                text.push_str(&format!(
                    " match the query's filter ({returned} without it)"
                ));
            }
            text.push('.');
        } else {
            let shown = &kept[..kept.len().min(MAX_SHOWN)];
            let count = match kept.len() {
                1 => "1 log entry".to_owned(),
                n => format!("{n} log entries"),
            };
            text.push_str(&format!("{count} in {groups} {span}:\n"));
            text.push_str(&entries_block(shown));
            if kept.len() > shown.len() {
                text.push_str(&format!(
                    "\n_{} more not shown; narrow the time range or add a `limit` to the query._",
                    kept.len() - shown.len()
                ));
            }
        }
        text.push_str(&format!("\nRe-run or edit: {rerun}"));
        text
    }
}

/// The reply to a query still running at the deadline.
fn timed_out(header: &str, query_id: &str, deadline: Duration, rerun: &str) -> String {
    format!(
        "{header}\nThe query {query_id} was still running after {} s, so I stopped waiting for it. \
         Narrow the time range or the log groups and run it again: {rerun}",
        deadline.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use serde_json::json;
    use std::cell::Cell;

    #[test]
    fn results_read_as_entries() {
        let value = json!({
            "status": "Complete",
            "results": [
                [{"field": "@ptr", "value": "0"}, {"field": "@timestamp", "value": "1796025100473"}, {"field": "@message", "value": "START RequestId: 1\n"}],
                [{"field": "@timestamp", "value": "2026-11-30 07:51:41.000"}, {"field": "@message", "value": "[ERROR] Exception: boom"}],
                [{"field": "@timestamp", "value": "1796025102000"}, {"field": "level", "value": "INFO"}, {"field": "count", "value": "3"}],
            ],
        });
        assert_eq!(
            query_state(&value),
            QueryState::Complete(vec![
                Entry {
                    timestamp: Some("2026-11-30 07:51:40.473".into()),
                    text: "START RequestId: 1".into()
                },
                Entry {
                    timestamp: Some("2026-11-30 07:51:41.000".into()),
                    text: "[ERROR] Exception: boom".into()
                },
                Entry {
                    timestamp: Some("2026-11-30 07:51:42.000".into()),
                    text: "level=INFO count=3".into()
                },
            ])
        );
        assert_eq!(
            query_state(&json!({"status": "Running"})),
            QueryState::Running
        );
        assert_eq!(
            query_state(&json!({"status": "Scheduled"})),
            QueryState::Running
        );
        assert_eq!(
            query_state(&json!({"status": "Failed"})),
            QueryState::Ended("Failed".into())
        );
        assert_eq!(query_state(&json!({})), QueryState::Ended("Unknown".into()));
    }

    #[test]
    fn the_bot_applies_message_filters_itself() {
        let errors = message_filters(&crate::events::logs::query(true));
        assert_eq!(errors.len(), 1);
        for (line, kept) in [
            ("[ERROR] Exception: boom", true),
            ("Task timed out: FAILED", true),
            ("failure to launch", true),
            ("java.lang.NullPointerException", true),
            ("START RequestId: 1", false),
            ("all good", false),
        ] {
            assert_eq!(errors.iter().all(|f| f.keeps(line)), kept, "{line}");
        }
        assert!(message_filters(&crate::events::logs::query(false)).is_empty());
        let quoted =
            message_filters(r#"fields @message | filter @message like "timeout" | limit 5"#);
        assert!(quoted[0].keeps("a timeout here") && !quoted[0].keeps("fine"));
        // A slash escaped inside the pattern stays in it; other filters are CloudWatch's own.
        let slash = message_filters(r"filter @message like /GET \/health/");
        assert!(slash[0].keeps("GET /health 200") && !slash[0].keeps("GET /other"));
        assert!(message_filters("filter @logStream like /x/ | filter status = 500").is_empty());
        // A pattern the regex engine can't compile is left to CloudWatch Logs.
        assert!(message_filters("filter @message like /(unclosed/").is_empty());
    }

    #[tokio::test]
    async fn a_query_that_never_completes_gets_a_deadline() {
        let clock = ManualClock::new();
        let asked = Cell::new(0);
        let waited: Waited<(), ()> = poll(
            &clock,
            Duration::from_secs(30),
            Duration::from_millis(500),
            || {
                asked.set(asked.get() + 1);
                async { Ok(None) }
            },
            |d| {
                clock.advance(d);
                async {}
            },
        )
        .await;
        assert_eq!(waited, Waited::TimedOut);
        // Asked at 0, 0.5 … 29.5 s: never past the deadline.
        assert_eq!(asked.get(), 60);
        let text = timed_out(
            "logs start-query · dev · us-east-1",
            "q-1",
            Duration::from_secs(30),
            "`@aws logs start-query …`",
        );
        assert!(text.contains("still running after 30 s"), "{text}");
        assert!(text.contains("`@aws logs start-query …`"), "{text}");
    }

    #[tokio::test]
    async fn polling_stops_at_the_first_answer_or_error() {
        let clock = ManualClock::new();
        let asked = Cell::new(0);
        let done: Waited<&str, ()> = poll(
            &clock,
            Duration::from_secs(30),
            Duration::from_secs(1),
            || {
                asked.set(asked.get() + 1);
                let n = asked.get();
                async move { Ok((n == 3).then_some("done")) }
            },
            |d| {
                clock.advance(d);
                async {}
            },
        )
        .await;
        assert_eq!((done, asked.get()), (Waited::Done("done"), 3));
        let failed: Waited<(), &str> = poll(
            &clock,
            Duration::from_secs(30),
            Duration::from_secs(1),
            || async { Err("AccessDenied") },
            |_| async {},
        )
        .await;
        assert_eq!(failed, Waited::Failed("AccessDenied"));
    }

    #[test]
    fn a_running_query_says_how_far_it_got() {
        let running = json!({"status": "Running", "results": [],
            "statistics": {"recordsMatched": 34.0, "recordsScanned": 12000.0, "bytesScanned": 1.5e6}});
        assert_eq!(
            scanned(&running).as_deref(),
            Some("scanned 12,000 records, 34 matched")
        );
        assert_eq!(
            scanned(&json!({"statistics": {"recordsScanned": 1.0}})).as_deref(),
            Some("scanned 1 record")
        );
        assert_eq!(scanned(&json!({"status": "Running"})), None);
    }

    #[test]
    fn a_fence_in_a_line_cannot_end_the_block() {
        let block = entries_block(&[Entry {
            timestamp: None,
            text: "a ``` b".into(),
        }]);
        assert_eq!(block.matches("```").count(), 2, "{block}");
    }
}
