//! `cloudwatch describe-alarms` "in chart form", as AWS Chatbot shows it: the chat reply
//! carries each metric alarm's chart, fetched with GetMetricData in the same account and
//! region as the channel's role (and allowed by the same guard), drawn by [`crate::chart`].
//!
//! Up to [`MAX_IMAGES`] charts travel as separate images; more become one tall picture, so a
//! long list is one file rather than a flood. Only the chat rendering gets charts: `--output`
//! and `--query` answers stay exactly what the AWS CLI prints.

use futures_util::future::join_all;
use serde_json::Value;

use crate::chart::alarm::{self, Charter, NoChart, Watched};
use crate::chart::{self as charts, ChartError, Image};
use crate::config::AccountConfig;
use crate::parse::{Output, Request};

use super::{Inbound, Pipeline};

/// Charts sent as images of their own at most; beyond, all of them in one file.
pub const MAX_IMAGES: usize = 5;
/// Alarms charted at most in one reply (each chart is a GetMetricData call).
pub const MAX_CHARTED: usize = 20;

/// Whether a reply to this request shows charts.
pub fn wants_charts(request: &Request) -> bool {
    request.service.service == "cloudwatch"
        && request.operation.api == "DescribeAlarms"
        && request.output == Output::Chat
        && request.query.is_none()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Pipeline {
    /// The charts of the metric alarms in a describe-alarms answer, and lines saying which
    /// alarms have none and why.
    pub(super) async fn alarm_charts(
        &self,
        inbound: &Inbound,
        answer: &Value,
        account: &AccountConfig,
        region: &str,
    ) -> (Vec<Image>, Vec<String>) {
        let alarms: Vec<&Value> = answer
            .get("MetricAlarms")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let Some(channel) = self.channel_of(inbound) else {
            return (vec![], vec![]);
        };
        if alarms.is_empty() {
            return (vec![], vec![]);
        }
        let mut notes = Vec::new();
        if alarms.len() > MAX_CHARTED {
            notes.push(format!(
                "Charts for the first {MAX_CHARTED} of {} alarms.",
                alarms.len()
            ));
        }
        let charter = Charter {
            executor: &self.executor,
            guard: &self.guard,
            channel,
        };
        let at = now();
        let fetched = join_all(alarms.iter().take(MAX_CHARTED).map(|a| async {
            let name = a
                .get("AlarmName")
                .and_then(Value::as_str)
                .unwrap_or("alarm");
            let watched = Watched::from_alarm(name, a)?;
            let state = a.get("StateValue").and_then(Value::as_str).unwrap_or("");
            let change = a
                .get("StateUpdatedTimestamp")
                .and_then(Value::as_f64)
                .map(|t| (t as i64, state));
            charter
                .chart(&watched, &account.id, region, &inbound.user, at, change)
                .await
        }))
        .await;
        let mut ready = Vec::new();
        for (alarm, result) in alarms.iter().zip(fetched) {
            let name = alarm
                .get("AlarmName")
                .and_then(Value::as_str)
                .unwrap_or("alarm");
            match result {
                Ok(chart) => ready.push(chart),
                Err(why) => {
                    self.metrics.chart_failed();
                    tracing::warn!(alarm = name, reason = %why, "describe-alarms: no chart");
                    notes.push(format!("{name}: {why}"));
                }
            }
        }
        let images = if ready.len() <= MAX_IMAGES {
            let drawn = join_all(ready.into_iter().map(|chart| {
                let name = chart.title.split(':').next().unwrap_or("chart").to_owned();
                async move { alarm::image(&name, chart).await }
            }))
            .await;
            let mut images = Vec::new();
            for image in drawn {
                match image {
                    Ok(image) => images.push(image),
                    Err(why) => {
                        self.metrics.chart_failed();
                        notes.push(why.to_string());
                    }
                }
            }
            images
        } else {
            let count = ready.len();
            let stacked = tokio::task::spawn_blocking(move || charts::png_stacked(&ready))
                .await
                .map_err(|e| NoChart::Draw(ChartError::Draw(e.to_string())))
                .and_then(|r| r.map_err(NoChart::Draw));
            match stacked {
                Ok(png) => vec![Image::new(
                    "describe-alarms-charts",
                    format!("Charts of {count} alarms"),
                    png,
                )],
                Err(why) => {
                    self.metrics.chart_failed();
                    notes.push(why.to_string());
                    vec![]
                }
            }
        };
        (images, notes)
    }
}
