//! An alarm's chart: what the alarm watches (from its SNS message's `Trigger`, or a
//! `describe-alarms` entry), the `GetMetricData` call that fetches it over the evaluation
//! window with some context before, and the [`Chart`] drawn from the answer.
//!
//! The call goes through the model-driven executor as the channel's role, like any command,
//! and the channel's guard decides on it first: a channel whose guardrails don't allow
//! `cloudwatch:GetMetricData` gets no chart, and says why.

use serde_json::{json, Map, Value};

use super::{Chart, ChartError, Comparison, Image};
use crate::config::{ChannelConfig, Config};
use crate::execute::{Executor, Target};
use crate::guard::{Decision, Guard, Place};
use crate::parse::{self, Request};

/// The metric an alarm watches and how it judges it.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    pub alarm_name: String,
    /// The queries GetMetricData takes (`MetricDataQueries`): one `MetricStat` for an alarm on
    /// a metric, the alarm's own `Metrics` for metric math.
    pub queries: Vec<Value>,
    /// The query whose values are charted (the one the alarm judges).
    pub charted: String,
    /// What the chart says it shows: `AWS/Lambda Errors FunctionName=myHelloWorld (Sum)`.
    pub label: String,
    pub unit: Option<String>,
    /// Seconds per period, and how many periods the alarm evaluates.
    pub period: i64,
    pub evaluation_periods: i64,
    pub threshold: Option<f64>,
    pub comparison: Option<Comparison>,
}

/// Why an alarm comes without its chart; Display is the one short line the card or reply
/// shows in its place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoChart {
    #[error("No chart: the alarm is in account {0}, which this channel is not bound to.")]
    OtherAccount(String),
    #[error("No chart: the alarm watches no single metric.")]
    NoMetric,
    #[error("No chart: this channel's rules don't allow cloudwatch:GetMetricData.")]
    Denied,
    #[error("No chart: GetMetricData failed ({0}).")]
    Fetch(String),
    #[error("No chart: {0}.")]
    Draw(#[from] ChartError),
}

/// Periods shown before the evaluation window at least (context), and at most in all.
const CONTEXT_PERIODS: i64 = 12;
const MAX_PERIODS: i64 = 1_440;

/// CloudWatch's statistic names as GetMetricData takes them: SNS messages spell them
/// `SUM`, `SAMPLE_COUNT`; describe-alarms `Sum`, `SampleCount`.
fn stat_name(statistic: &str) -> String {
    match statistic.to_ascii_uppercase().replace('_', "").as_str() {
        "SUM" => "Sum".into(),
        "AVERAGE" => "Average".into(),
        "MINIMUM" => "Minimum".into(),
        "MAXIMUM" => "Maximum".into(),
        "SAMPLECOUNT" => "SampleCount".into(),
        _ => statistic.to_owned(),
    }
}

/// `Name`/`Value` whatever the case of the member names (SNS writes `name`/`value`).
fn dimensions(list: Option<&Value>) -> Vec<(String, String)> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|d| {
                    let get = |k: &str, l: &str| {
                        d.get(k)
                            .or_else(|| d.get(l))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    };
                    Some((get("Name", "name")?, get("Value", "value")?))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn dimension_json(dims: &[(String, String)]) -> Value {
    Value::Array(
        dims.iter()
            .map(|(n, v)| json!({"Name": n, "Value": v}))
            .collect(),
    )
}

/// A metric-math query as GetMetricData takes it: dimensions spelled `Name`/`Value`, members
/// GetMetricData doesn't take (`AccountId` of another account is kept) left as they are.
fn normalize_query(query: &Value) -> Value {
    let mut query = query.clone();
    if let Some(metric) = query.pointer_mut("/MetricStat/Metric") {
        let dims = dimensions(metric.get("Dimensions"));
        if let Some(m) = metric.as_object_mut() {
            m.insert("Dimensions".into(), dimension_json(&dims));
        }
    }
    if let Some(stat) = query.pointer_mut("/MetricStat/Stat") {
        if let Some(s) = stat.as_str() {
            *stat = Value::String(stat_name(s));
        }
    }
    query
}

impl Watched {
    /// From an alarm's description: the SNS message's `Trigger` (with the alarm's name) or an
    /// entry of describe-alarms' `MetricAlarms`; both use the same member names.
    pub fn from_alarm(alarm_name: &str, alarm: &Value) -> Result<Watched, NoChart> {
        let text = |k: &str| alarm.get(k).and_then(Value::as_str).map(str::to_owned);
        let number = |k: &str| alarm.get(k).and_then(Value::as_f64);
        let threshold = number("Threshold");
        let comparison = text("ComparisonOperator")
            .as_deref()
            .and_then(Comparison::from_operator);
        let evaluation_periods = number("EvaluationPeriods").unwrap_or(1.0).max(1.0) as i64;
        if let Some(metrics) = alarm
            .get("Metrics")
            .and_then(Value::as_array)
            .filter(|m| !m.is_empty())
        {
            let queries: Vec<Value> = metrics.iter().map(normalize_query).collect();
            let charted = queries
                .iter()
                .find(|q| q.get("ReturnData").and_then(Value::as_bool) == Some(true))
                .or(queries.last())
                .and_then(|q| q.get("Id").and_then(Value::as_str))
                .ok_or(NoChart::NoMetric)?
                .to_owned();
            let chosen = queries
                .iter()
                .find(|q| q.get("Id").and_then(Value::as_str) == Some(charted.as_str()));
            let period = chosen
                .and_then(|q| {
                    q.pointer("/MetricStat/Period")
                        .or_else(|| q.get("Period"))
                        .and_then(Value::as_f64)
                })
                .or_else(|| {
                    queries
                        .iter()
                        .find_map(|q| q.pointer("/MetricStat/Period").and_then(Value::as_f64))
                })
                .unwrap_or(60.0) as i64;
            let label = chosen
                .and_then(|q| {
                    q.get("Label")
                        .or_else(|| q.get("Expression"))
                        .and_then(Value::as_str)
                })
                .unwrap_or(&charted)
                .to_owned();
            // Queries that only feed the expression are fetched, not returned.
            let queries = queries
                .into_iter()
                .map(|mut q| {
                    let id = q.get("Id").and_then(Value::as_str) == Some(charted.as_str());
                    if let Some(m) = q.as_object_mut() {
                        m.insert("ReturnData".into(), Value::Bool(id));
                    }
                    q
                })
                .collect();
            return Ok(Watched {
                alarm_name: alarm_name.to_owned(),
                queries,
                charted,
                label,
                unit: text("Unit"),
                period: period.max(1),
                evaluation_periods,
                threshold,
                comparison,
            });
        }
        let (Some(namespace), Some(metric)) = (text("Namespace"), text("MetricName")) else {
            return Err(NoChart::NoMetric);
        };
        let stat = text("ExtendedStatistic")
            .filter(|s| !s.is_empty())
            .or_else(|| text("Statistic").map(|s| stat_name(&s)))
            .unwrap_or_else(|| "Average".into());
        let period = number("Period").unwrap_or(60.0).max(1.0) as i64;
        let dims = dimensions(alarm.get("Dimensions"));
        let mut label = format!("{namespace} {metric}");
        for (n, v) in &dims {
            label.push_str(&format!(" {n}={v}"));
        }
        label.push_str(&format!(" ({stat})"));
        Ok(Watched {
            alarm_name: alarm_name.to_owned(),
            queries: vec![json!({
                "Id": "m0",
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimension_json(&dims)},
                    "Period": period,
                    "Stat": stat,
                },
                "ReturnData": true,
            })],
            charted: "m0".into(),
            label,
            unit: text("Unit").filter(|u| u != "None"),
            period,
            evaluation_periods,
            threshold,
            comparison,
        })
    }

    /// The times a chart at `at` (the state change, or now) shows: the evaluation window
    /// ending at the period boundary after `at`, [`CONTEXT_PERIODS`] (or three windows)
    /// before it, one period after.
    pub fn span(&self, at: i64) -> Span {
        let p = self.period;
        let window_end = at.div_euclid(p) * p + if at.rem_euclid(p) == 0 { 0 } else { p };
        let window_start = window_end - self.evaluation_periods * p;
        let context = (self.evaluation_periods * 3).max(CONTEXT_PERIODS) * p;
        let from = (window_start - context).max(window_end - MAX_PERIODS * p);
        Span {
            from,
            to: window_end + p,
            window: (window_start, window_end),
        }
    }

    /// The GetMetricData request for `span`, as the executor runs it.
    pub fn request(&self, span: &Span) -> Request {
        let Ok(parse::Parsed::Command(request)) = parse::parse("cloudwatch get-metric-data") else {
            unreachable!("cloudwatch get-metric-data is in commands/ (tested)")
        };
        let mut request = *request;
        let mut params = Map::new();
        params.insert(
            "MetricDataQueries".into(),
            Value::Array(self.queries.clone()),
        );
        params.insert("StartTime".into(), Value::String(iso(span.from)));
        params.insert("EndTime".into(), Value::String(iso(span.to)));
        params.insert("ScanBy".into(), Value::String("TimestampAscending".into()));
        request.params = params;
        request.missing.clear();
        request
    }

    /// The points of the charted query in a GetMetricData answer (pages merged).
    pub fn points(&self, answer: &Value) -> Vec<(i64, f64)> {
        let mut points = Vec::new();
        for result in answer
            .get("MetricDataResults")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|r| r.get("Id").and_then(Value::as_str) == Some(self.charted.as_str()))
        {
            let times = result.get("Timestamps").and_then(Value::as_array);
            let values = result.get("Values").and_then(Value::as_array);
            if let (Some(times), Some(values)) = (times, values) {
                points.extend(times.iter().zip(values).filter_map(|(t, v)| {
                    let t = match t {
                        Value::Number(n) => n.as_f64()? as i64,
                        Value::String(s) => crate::parse::value::parse_timestamp(s)?.secs(),
                        _ => return None,
                    };
                    Some((t, v.as_f64()?))
                }));
            }
        }
        points.sort_by_key(|p| p.0);
        points
    }

    /// The chart of `points` over `span`.
    pub fn chart(
        &self,
        points: Vec<(i64, f64)>,
        span: &Span,
        change: Option<(i64, &str)>,
    ) -> Chart {
        Chart {
            title: format!("{}: {}", self.alarm_name, self.label),
            unit: self.unit.clone(),
            points,
            threshold: self.threshold,
            comparison: self.comparison,
            from: span.from,
            to: span.to,
            window: Some(span.window),
            state_change: change.map(|(t, s)| (t, s.to_owned())),
        }
    }
}

/// The times a chart shows, in seconds since 1970.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: i64,
    pub to: i64,
    /// The periods the alarm evaluated.
    pub window: (i64, i64),
}

fn iso(secs: i64) -> String {
    aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

/// Fetches and draws alarms' charts in a channel's account, as the channel's role.
pub struct Charter<'a> {
    pub executor: &'a Executor,
    pub guard: &'a Guard,
    pub channel: &'a ChannelConfig,
}

impl Charter<'_> {
    /// The chart of `watched` at `at`, for an alarm in `account` in `region`. `user` names the
    /// session in CloudTrail (`chatbot-<user>`).
    pub async fn chart(
        &self,
        watched: &Watched,
        account: &str,
        region: &str,
        user: &str,
        at: i64,
        change: Option<(i64, &str)>,
    ) -> Result<Chart, NoChart> {
        let Some(account) = self.channel.accounts.iter().find(|a| a.id == account) else {
            return Err(NoChart::OtherAccount(account.to_owned()));
        };
        let span = watched.span(at);
        let request = watched.request(&span);
        let place = Place {
            account: &account.id,
            region,
        };
        if matches!(
            self.guard.check(self.channel, &request, Some(place)),
            Decision::Deny(_)
        ) {
            return Err(NoChart::Denied);
        }
        let target = Target {
            role_arn: account.role_arn.clone(),
            user: user.to_owned(),
            region: region.to_owned(),
        };
        let answer = self
            .executor
            .run(&target, &request)
            .await
            .map_err(|e| NoChart::Fetch(e.code().to_owned()))?;
        Ok(watched.chart(watched.points(&answer), &span, change))
    }
}

/// Draws `chart` as an [`Image`] named after `name`, off the async worker threads (a few
/// milliseconds of CPU each).
pub async fn image(name: &str, chart: Chart) -> Result<Image, NoChart> {
    let title = chart.title.clone();
    let png = tokio::task::spawn_blocking(move || super::png(&chart))
        .await
        .map_err(|e| ChartError::Draw(e.to_string()))??;
    Ok(Image::new(name, title, png))
}

/// A guard for charting from `config`, or the reason there is none (a guardrail file that
/// doesn't load stops startup long before; this only keeps the notifier independent).
pub fn guard(config: &Config) -> Option<Guard> {
    Guard::new(config)
        .map_err(|e| tracing::warn!(error = %e, "no charts: the guardrails do not load"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger() -> Value {
        let message: Value = serde_json::from_str(include_str!(
            "../../fixtures/notifications/cloudwatch-alarm.json"
        ))
        .unwrap();
        message["Trigger"].clone()
    }

    #[test]
    fn an_sns_trigger_becomes_one_metric_query_with_getmetricdatas_spelling() {
        let w = Watched::from_alarm("myHelloWorld-errors", &trigger()).unwrap();
        assert_eq!(w.charted, "m0");
        assert_eq!(w.queries[0]["MetricStat"]["Stat"], "Sum");
        assert_eq!(
            w.queries[0]["MetricStat"]["Metric"]["Dimensions"],
            json!([{"Name": "FunctionName", "Value": "myHelloWorld"}])
        );
        assert_eq!(w.period, 60);
        assert_eq!(w.threshold, Some(1.0));
        assert_eq!(w.comparison, Some(Comparison::GreaterThanOrEqual));
        assert_eq!(w.label, "AWS/Lambda Errors FunctionName=myHelloWorld (Sum)");
        // The request is the model's GetMetricData with every member it needs.
        let span = w.span(1_796_025_127);
        let request = w.request(&span);
        assert_eq!(request.operation.name, "get-metric-data");
        assert!(request.missing.is_empty());
        assert_eq!(request.params["ScanBy"], "TimestampAscending");
    }

    #[test]
    fn the_span_covers_the_evaluation_window_and_context_before_it() {
        let mut w = Watched::from_alarm("a", &trigger()).unwrap();
        w.period = 300;
        w.evaluation_periods = 3;
        // 07:52:07 → the window ends at the next boundary, 07:55, and covers 3 × 5 min.
        let at = 1_796_025_127;
        let span = w.span(at);
        assert_eq!(span.window.1 % 300, 0);
        assert!(span.window.1 >= at && span.window.1 - at < 300);
        assert_eq!(span.window.1 - span.window.0, 900);
        assert_eq!(span.window.0 - span.from, 12 * 300);
        assert_eq!(span.to, span.window.1 + 300);
        // A long window is shown with three times its length before it, bounded.
        w.evaluation_periods = 10_000;
        let span = w.span(at);
        assert_eq!(span.to - span.from, (MAX_PERIODS + 1) * 300);
    }

    #[test]
    fn statistics_and_extended_statistics_are_spelled_as_getmetricdata_takes_them() {
        for (given, stat) in [
            (json!({"Statistic": "SAMPLE_COUNT"}), "SampleCount"),
            (json!({"Statistic": "Average"}), "Average"),
            (json!({"Statistic": "MAXIMUM"}), "Maximum"),
            (json!({"ExtendedStatistic": "p99"}), "p99"),
            (
                json!({"Statistic": null, "ExtendedStatistic": "tm90"}),
                "tm90",
            ),
        ] {
            let mut alarm = trigger();
            alarm.as_object_mut().unwrap().remove("Statistic");
            for (k, v) in given.as_object().unwrap() {
                alarm[k] = v.clone();
            }
            let w = Watched::from_alarm("a", &alarm).unwrap();
            assert_eq!(w.queries[0]["MetricStat"]["Stat"], stat, "{given}");
        }
    }

    #[test]
    fn metric_math_charts_the_expression_and_fetches_what_it_reads() {
        let alarm = json!({
            "Metrics": [
                {"Id": "errors", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": [{"name": "FunctionName", "value": "f"}]}, "Period": 300, "Stat": "SUM"}, "ReturnData": false},
                {"Id": "invocations", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations", "Dimensions": []}, "Period": 300, "Stat": "Sum"}, "ReturnData": false},
                {"Id": "rate", "Expression": "100 * errors / invocations", "Label": "Error rate", "ReturnData": true}
            ],
            "Threshold": 5.0, "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 2
        });
        let w = Watched::from_alarm("rate", &alarm).unwrap();
        assert_eq!(w.charted, "rate");
        assert_eq!(w.label, "Error rate");
        assert_eq!(w.period, 300);
        assert_eq!(
            w.queries[0]["MetricStat"]["Metric"]["Dimensions"],
            json!([{"Name": "FunctionName", "Value": "f"}])
        );
        assert_eq!(w.queries[0]["MetricStat"]["Stat"], "Sum");
        let returned: Vec<bool> = w
            .queries
            .iter()
            .map(|q| q["ReturnData"].as_bool().unwrap())
            .collect();
        assert_eq!(returned, [false, false, true]);
    }

    #[test]
    fn an_alarm_without_a_metric_has_no_chart_and_says_so_in_a_line() {
        let composite = json!({"AlarmRule": "ALARM(a) OR ALARM(b)"});
        let e = Watched::from_alarm("c", &composite).unwrap_err();
        assert_eq!(e, NoChart::NoMetric);
        assert!(!e.to_string().contains('\n'));
        assert_eq!(
            NoChart::OtherAccount("333333333333".into()).to_string(),
            "No chart: the alarm is in account 333333333333, which this channel is not bound to."
        );
    }

    #[test]
    fn points_come_from_the_charted_query_across_pages_in_time_order() {
        let w = Watched::from_alarm("a", &trigger()).unwrap();
        let answer = json!({"MetricDataResults": [
            {"Id": "m0", "Timestamps": [120, 60], "Values": [2.0, 1.0]},
            {"Id": "other", "Timestamps": [0], "Values": [9.0]},
            {"Id": "m0", "Timestamps": ["1970-01-01T00:03:00Z"], "Values": [3.0]}
        ]});
        assert_eq!(w.points(&answer), [(60, 1.0), (120, 2.0), (180, 3.0)]);
    }
}
