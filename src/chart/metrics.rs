//! Pictures in the answers of CloudWatch's metric reads, for the chat reply:
//!
//! * `get-metric-statistics` and `get-metric-data`: a chart beside the numbers, one per metric
//!   query (GetMetricData's `MetricDataResults`) or per statistic asked (GetMetricStatistics'
//!   `Datapoints`), drawn from the values AWS returned, nothing fetched again;
//! * `get-metric-widget-image`: the PNG CloudWatch drew, as an image rather than its base64.
//!
//! Pure: an answer in, charts or an image out. `--output` and `--query` answers never get
//! here; they print what the AWS CLI prints.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{Chart, Image};
use crate::render::view::parse_time;

/// The statistics GetMetricStatistics answers with, in the order they are charted.
const STATISTICS: [&str; 5] = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

/// A chart shows this much time at least (a single datapoint still has a width).
const MIN_SPAN: i64 = 60;

/// The first bytes of every PNG file.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Why a widget image can't be shown; Display is the line the reply shows instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WidgetImageError {
    #[error("The answer has no MetricWidgetImage.")]
    Missing,
    #[error("MetricWidgetImage is not base64 ({0}).")]
    NotBase64(String),
    #[error("MetricWidgetImage is not a PNG (`--output-format png` asks for one; `--output json` shows what came).")]
    NotPng,
}

/// GetMetricWidgetImage's `MetricWidgetImage` (base64, as the AWS CLI prints the blob) as an
/// image named `name`.
pub fn widget_image(answer: &Value, name: &str) -> Result<Image, WidgetImageError> {
    let encoded = answer
        .get("MetricWidgetImage")
        .and_then(Value::as_str)
        .ok_or(WidgetImageError::Missing)?;
    let png = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| WidgetImageError::NotBase64(e.to_string()))?;
    if !png.starts_with(PNG_SIGNATURE) {
        return Err(WidgetImageError::NotPng);
    }
    Ok(Image::new(name, "CloudWatch metric widget", png))
}

/// One chart per statistic in a GetMetricStatistics answer (`Label`, `Datapoints`), for the
/// statistics present in its datapoints, in CloudWatch's order, then the extended ones
/// (`p99`). No datapoints, no chart.
pub fn statistics_charts(answer: &Value) -> Vec<Chart> {
    let label = answer
        .get("Label")
        .and_then(Value::as_str)
        .unwrap_or("metric");
    let datapoints: &[Value] = answer
        .get("Datapoints")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let unit = datapoints
        .iter()
        .find_map(|d| d.get("Unit").and_then(Value::as_str))
        .filter(|u| *u != "None")
        .map(str::to_owned);
    let mut names: Vec<String> = STATISTICS
        .iter()
        .filter(|s| datapoints.iter().any(|d| d.get(**s).is_some()))
        .map(|s| (*s).to_owned())
        .collect();
    let mut extended: Vec<String> = datapoints
        .iter()
        .filter_map(|d| d.get("ExtendedStatistics").and_then(Value::as_object))
        .flat_map(Map::keys)
        .cloned()
        .collect();
    extended.sort();
    extended.dedup();
    names.extend(extended.iter().cloned());
    names
        .into_iter()
        .filter_map(|stat| {
            let points: Vec<(i64, f64)> = datapoints
                .iter()
                .filter_map(|d| {
                    let t = parse_time(d.get("Timestamp")?)?.timestamp();
                    let v = d
                        .get(&stat)
                        .or_else(|| d.get("ExtendedStatistics")?.get(&stat))?
                        .as_f64()?;
                    Some((t, v))
                })
                .collect();
            series(format!("{label} · {stat}"), unit.clone(), points)
        })
        .collect()
}

/// One chart per query of a GetMetricData answer (`MetricDataResults`: `Label` or `Id`,
/// `Timestamps` and `Values` side by side). A query without values has no chart.
pub fn data_charts(answer: &Value) -> Vec<Chart> {
    answer
        .get("MetricDataResults")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|result| {
            let title = result
                .get("Label")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
                .or_else(|| result.get("Id").and_then(Value::as_str))
                .unwrap_or("metric")
                .to_owned();
            let times = result.get("Timestamps").and_then(Value::as_array)?;
            let values = result.get("Values").and_then(Value::as_array)?;
            let points = times
                .iter()
                .zip(values)
                .filter_map(|(t, v)| Some((parse_time(t)?.timestamp(), v.as_f64()?)))
                .collect();
            series(title, None, points)
        })
        .collect()
}

/// A chart of a series over the time its points span, or nothing without points.
fn series(title: String, unit: Option<String>, points: Vec<(i64, f64)>) -> Option<Chart> {
    let first = points.iter().map(|p| p.0).min()?;
    let last = points.iter().map(|p| p.0).max()?;
    let pad = ((last - first) / 20).max(MIN_SPAN / 2);
    Some(Chart {
        title,
        unit,
        points,
        threshold: None,
        comparison: None,
        from: first - pad,
        to: last + pad,
        window: None,
        state_change: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_statistics_answer_charts_each_statistic_in_it() {
        let answer = json!({
            "Label": "Errors",
            "Datapoints": [
                {"Timestamp": "2026-11-30T07:50:00+00:00", "Sum": 3.0, "Maximum": 2.0, "Unit": "Count"},
                {"Timestamp": "2026-11-30T07:48:00+00:00", "Sum": 1.0, "Maximum": 1.0, "Unit": "Count"},
                {"Timestamp": 1796025120.0, "Sum": 0.0, "Maximum": 0.0, "Unit": "Count",
                 "ExtendedStatistics": {"p99": 0.5}},
            ],
        });
        let charts = statistics_charts(&answer);
        let titles: Vec<&str> = charts.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["Errors · Sum", "Errors · Maximum", "Errors · p99"]);
        let sum = &charts[0];
        assert_eq!(sum.unit.as_deref(), Some("Count"));
        let mut points = sum.points.clone();
        points.sort_by_key(|p| p.0);
        assert_eq!(
            points,
            [(1796024880, 1.0), (1796025000, 3.0), (1796025120, 0.0)]
        );
        assert!(sum.from < 1796024880 && sum.to > 1796025120);
        assert_eq!(charts[2].points, [(1796025120, 0.5)]);
        assert!(statistics_charts(&json!({"Label": "Errors", "Datapoints": []})).is_empty());
    }

    #[test]
    fn a_data_answer_charts_each_query_with_values() {
        let answer = json!({"MetricDataResults": [
            {"Id": "e", "Label": "Errors", "Timestamps": ["2026-11-30T07:50:00Z", "2026-11-30T07:49:00Z"],
             "Values": [5.0, 3.0], "StatusCode": "Complete"},
            {"Id": "empty", "Label": "", "Timestamps": [], "Values": [], "StatusCode": "Complete"},
            {"Id": "d", "Timestamps": ["2026-11-30T07:50:00Z"], "Values": [7.0]},
        ]});
        let charts = data_charts(&answer);
        let titles: Vec<&str> = charts.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["Errors", "d"]);
        assert_eq!(charts[0].points, [(1796025000, 5.0), (1796024940, 3.0)]);
        // One point still spans a minute, so it can be drawn.
        assert_eq!(charts[1].to - charts[1].from, MIN_SPAN);
        assert!(crate::chart::png(&charts[1]).is_ok());
    }

    #[test]
    fn a_widget_image_is_its_png_and_nothing_else_is() {
        let chart = statistics_charts(&json!({"Label": "Errors", "Datapoints": [
            {"Timestamp": "2026-11-30T07:50:00Z", "Sum": 3.0}]}))
        .remove(0);
        let png = crate::chart::png(&chart).unwrap();
        let encoded = base64::engine::general_purpose::STANDARD.encode(&png);
        let image = widget_image(&json!({ "MetricWidgetImage": encoded }), "widget").unwrap();
        assert_eq!(image.filename, "widget.png");
        assert_eq!(&image.png[..], &png[..]);
        let decoded = ::png::Decoder::new(std::io::Cursor::new(image.png.to_vec()))
            .read_info()
            .unwrap();
        assert_eq!(
            (decoded.info().width, decoded.info().height),
            (super::super::WIDTH, super::super::HEIGHT)
        );
        assert_eq!(
            widget_image(&json!({}), "w"),
            Err(WidgetImageError::Missing)
        );
        assert!(matches!(
            widget_image(&json!({"MetricWidgetImage": "not base64!"}), "w"),
            Err(WidgetImageError::NotBase64(_))
        ));
        let svg = base64::engine::general_purpose::STANDARD.encode("<svg/>");
        assert_eq!(
            widget_image(&json!({ "MetricWidgetImage": svg }), "w"),
            Err(WidgetImageError::NotPng)
        );
    }
}
