//! `cloudwatch describe-alarms` "in chart form", as AWS Chatbot shows it: the chat reply
//! carries each metric alarm's chart, fetched with GetMetricData in the same account and
//! region as the channel's role (and allowed by the same guard), drawn by [`crate::chart`].
//!
//! Up to [`MAX_IMAGES`] charts travel as separate images; more become one tall picture, so a
//! long list is one file rather than a flood. Only the chat rendering gets charts: `--output`
//! and `--query` answers stay exactly what the AWS CLI prints.
//!
//! `get-metric-statistics` and `get-metric-data` replies carry charts of the values they
//! returned ([`crate::chart::metrics`], no call of their own), on the same terms; a
//! `get-metric-widget-image` reply carries CloudWatch's PNG as an image instead of its base64.

use futures_util::future::join_all;
use serde_json::Value;

use crate::chart::alarm::{self, Charter, NoChart, Watched};
use crate::chart::{self as charts, metrics, Chart, ChartError, Image};
use crate::config::AccountConfig;
use crate::parse::{Output, Request};

use super::{Inbound, Pipeline};

/// Charts sent as images of their own at most; beyond, all of them in one file.
pub const MAX_IMAGES: usize = 5;
/// Alarms charted at most in one reply (each chart is a GetMetricData call).
pub const MAX_CHARTED: usize = 20;

/// The pictures a reply to this request carries beside its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pictures {
    /// describe-alarms: each alarm's chart, fetched.
    Alarms,
    /// get-metric-statistics, get-metric-data: charts of the answer's own values.
    Metrics,
    /// get-metric-widget-image: the answer is the picture.
    Widget,
}

/// What pictures a reply to this request carries, if any: chat replies without `--query` of
/// the CloudWatch operations that have them.
pub fn pictures(request: &Request) -> Option<Pictures> {
    if request.service.service != "cloudwatch"
        || request.output != Output::Chat
        || request.query.is_some()
    {
        return None;
    }
    match request.operation.api.as_str() {
        "DescribeAlarms" => Some(Pictures::Alarms),
        "GetMetricStatistics" | "GetMetricData" => Some(Pictures::Metrics),
        "GetMetricWidgetImage" => Some(Pictures::Widget),
        _ => None,
    }
}

/// The images of charts ready to draw: each its own up to [`MAX_IMAGES`], beyond that one
/// tall picture named `stacked`; and a line for each that could not be drawn.
async fn draw(ready: Vec<Chart>, stacked: &str) -> (Vec<Image>, Vec<String>) {
    let mut notes = Vec::new();
    if ready.len() <= MAX_IMAGES {
        let drawn = join_all(ready.into_iter().map(|chart| {
            let name = chart.title.split(':').next().unwrap_or("chart").to_owned();
            async move { alarm::image(&name, chart).await }
        }))
        .await;
        let mut images = Vec::new();
        for image in drawn {
            match image {
                Ok(image) => images.push(image),
                Err(why) => notes.push(why.to_string()),
            }
        }
        return (images, notes);
    }
    let count = ready.len();
    let drawn = tokio::task::spawn_blocking(move || charts::png_stacked(&ready))
        .await
        .map_err(|e| NoChart::Draw(ChartError::Draw(e.to_string())))
        .and_then(|r| r.map_err(NoChart::Draw));
    match drawn {
        Ok(png) => (
            vec![Image::new(stacked, format!("{count} charts"), png)],
            notes,
        ),
        Err(why) => (vec![], vec![why.to_string()]),
    }
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
        let (images, failed) = draw(ready, "describe-alarms-charts").await;
        for _ in &failed {
            self.metrics.chart_failed();
        }
        notes.extend(failed);
        (images, notes)
    }
}

impl Pipeline {
    /// Charts of a get-metric-statistics or get-metric-data answer: one per statistic or
    /// query with values, at most [`MAX_CHARTED`].
    pub(super) async fn metric_charts(
        &self,
        request: &Request,
        answer: &Value,
    ) -> (Vec<Image>, Vec<String>) {
        let mut ready = if request.operation.api == "GetMetricData" {
            metrics::data_charts(answer)
        } else {
            metrics::statistics_charts(answer)
        };
        let mut notes = Vec::new();
        if ready.len() > MAX_CHARTED {
            notes.push(format!(
                "Charts for the first {MAX_CHARTED} of {} series.",
                ready.len()
            ));
            ready.truncate(MAX_CHARTED);
        }
        let stacked = format!("{}-charts", request.operation.name);
        let (images, failed) = draw(ready, &stacked).await;
        for why in &failed {
            self.metrics.chart_failed();
            tracing::warn!(operation = %request.operation.name, reason = %why, "no chart");
        }
        notes.extend(failed);
        (images, notes)
    }
}

/// The chat text of a get-metric-widget-image reply: what the image shows, never its base64;
/// or why there is no image.
pub fn widget_reply(header: &str, answer: &Value) -> (String, Vec<Image>) {
    match metrics::widget_image(answer, "metric-widget") {
        Ok(image) => (
            format!(
                "{header}\nThe widget's image: {} ({} KB).",
                image.filename,
                image.png.len().div_ceil(1024)
            ),
            vec![image],
        ),
        Err(why) => (format!("{header}\n{why}"), vec![]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Outcome, Reply};
    use crate::transport::slack::api::UploadFile;
    use crate::transport::slack::message::{reply_message, Outgoing};
    use base64::Engine as _;
    use serde_json::json;

    const HEADER: &str = "cloudwatch get-metric-widget-image · dev (111111111111) · us-east-1";

    /// A small real PNG (4 × 2, grey), as CloudWatch's blob would be after base64.
    fn tiny_png() -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = ::png::Encoder::new(&mut out, 4, 2);
        encoder.set_color(::png::ColorType::Rgb);
        encoder.set_depth(::png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[128u8; 4 * 2 * 3]).unwrap();
        writer.finish().unwrap();
        out
    }

    /// A reply with pictures as both transports show it: Slack's Block Kit, then the files
    /// uploaded after it; the shell's text, then the lines naming the saved files.
    async fn both_forms(reply: &Reply) -> (String, String) {
        let Outgoing::Message(body) = reply_message(reply, "U0DEMO", None) else {
            panic!("expected a message")
        };
        let uploads: Vec<Value> = reply
            .images
            .iter()
            .map(UploadFile::image)
            .map(|u| {
                json!({"filename": u.filename, "title": u.title, "content_type": u.content_type,
                    "png": u.content.starts_with(b"\x89PNG")})
            })
            .collect();
        let slack = serde_json::to_string_pretty(&json!({
            "blocks": serde_json::to_value(&body.blocks).unwrap(),
            "uploads": uploads,
        }))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = crate::transport::shell::ImageFiles::new(dir.path().to_owned());
        let shell = files
            .reply_text(reply)
            .await
            .replace(&dir.path().display().to_string(), "<image dir>")
            .replace(&format!("/{}-", std::process::id()), "/<pid>-");
        (slack, shell)
    }

    fn reply_with(text: String, images: Vec<Image>) -> Reply {
        Reply {
            images,
            ..Reply::new(Outcome::Ok, text)
        }
    }

    #[tokio::test]
    async fn a_widget_image_in_block_kit_and_shell_form() {
        let png = tiny_png();
        let answer = json!({
            "MetricWidgetImage": base64::engine::general_purpose::STANDARD.encode(&png)
        });
        let (text, images) = widget_reply(HEADER, &answer);
        assert_eq!(&images[0].png[..], &png[..]);
        let (slack, shell) = both_forms(&reply_with(text, images)).await;
        assert!(!slack.contains(&answer["MetricWidgetImage"].as_str().unwrap()[..16]));
        insta::assert_snapshot!("widget_image_slack", slack);
        insta::assert_snapshot!("widget_image_shell", shell);
        // Not a PNG: said so, no picture, no base64.
        let (text, images) = widget_reply(HEADER, &json!({"MetricWidgetImage": "PHN2Zy8+"}));
        assert!(images.is_empty());
        insta::assert_snapshot!("widget_image_not_png", text);
    }

    #[tokio::test]
    async fn metric_charts_in_block_kit_and_shell_form() {
        let statistics = json!({"Label": "Errors", "Datapoints": [
            {"Timestamp": "2026-11-30T07:50:00Z", "Sum": 3.0, "Maximum": 2.0, "Unit": "Count"},
            {"Timestamp": "2026-11-30T07:51:00Z", "Sum": 5.0, "Maximum": 4.0, "Unit": "Count"},
        ]});
        let (images, notes) = draw(
            metrics::statistics_charts(&statistics),
            "get-metric-statistics-charts",
        )
        .await;
        assert!(notes.is_empty(), "{notes:?}");
        let text =
            "cloudwatch get-metric-statistics · dev (111111111111) · us-east-1\nErrors".into();
        let (slack, shell) = both_forms(&reply_with(text, images)).await;
        insta::assert_snapshot!("metric_statistics_charts_slack", slack);
        insta::assert_snapshot!("metric_statistics_charts_shell", shell);

        // Seven queries: one tall picture rather than seven files.
        let results: Vec<Value> = (0..7)
            .map(|i| json!({"Id": format!("q{i}"), "Label": format!("Query {i}"),
                "Timestamps": ["2026-11-30T07:50:00Z", "2026-11-30T07:51:00Z"], "Values": [i, i + 1]}))
            .collect();
        let (images, _) = draw(
            metrics::data_charts(&json!({ "MetricDataResults": results })),
            "get-metric-data-charts",
        )
        .await;
        let text = "cloudwatch get-metric-data · dev (111111111111) · us-east-1".into();
        let (slack, shell) = both_forms(&reply_with(text, images)).await;
        insta::assert_snapshot!("metric_data_stacked_slack", slack);
        insta::assert_snapshot!("metric_data_stacked_shell", shell);
    }
}
