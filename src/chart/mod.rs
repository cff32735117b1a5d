//! Alarm charts as PNG images, drawn in-process: CloudWatch's own `GetMetricWidgetImage` is
//! not available everywhere the bot runs (moto answers 500), and a picture made here looks the
//! same in Slack and in the terminal's saved files.
//!
//! [`png`] is pure: a metric series, the alarm's threshold and comparison, its evaluation
//! window and state-change time in, PNG bytes out. The line is the metric; the threshold is a
//! red line with the side beyond it tinted; points beyond the threshold are red dots; the
//! evaluation window is shaded and the state change is an orange line. Times are UTC.
//! [`alarm`] is the other half: what an alarm watches, fetched with `GetMetricData`.
//!
//! Drawing is plotters on an RGB buffer with an embedded font (DejaVu Sans, its licence in
//! `assets/fonts/LICENSE.DejaVu`), so no system font or fontconfig is needed; the buffer is
//! encoded by `png`.

pub mod alarm;
pub mod metrics;

use std::sync::Once;

use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Each chart's size in pixels: readable in a Slack thread without opening it.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 340;

/// The colours a reader (and the tests) tell the parts apart by.
pub const LINE: RGBColor = RGBColor(0, 115, 187);
pub const THRESHOLD: RGBColor = RGBColor(214, 39, 40);
pub const BREACH: RGBColor = RGBColor(209, 50, 18);
pub const STATE_CHANGE: RGBColor = RGBColor(255, 153, 0);
const WINDOW: RGBColor = RGBColor(255, 228, 220);
const BEYOND: RGBColor = RGBColor(253, 243, 241);
const MESH: RGBColor = RGBColor(225, 225, 225);
const TEXT: RGBColor = RGBColor(40, 40, 40);

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// A picture a card or reply carries: transports show it their way (Slack uploads it into
/// the conversation, the shell saves it to a file and prints the path).
#[derive(Clone, PartialEq)]
pub struct Image {
    /// A file name to save or upload it as: `myHelloWorld-errors.png`.
    pub filename: String,
    /// What it shows, in words (the upload's title, the image's alt text).
    pub title: String,
    pub png: bytes::Bytes,
}

impl Image {
    /// An image named after `name` (anything but letters, digits, `-`, `_` and `.` becomes
    /// `-`, so the name is a safe file name).
    pub fn new(name: &str, title: impl Into<String>, png: Vec<u8>) -> Image {
        let stem: String = name
            .chars()
            .take(80)
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        // `Errors · Sum` → `Errors-Sum`, not `Errors---Sum`.
        let mut stem = stem;
        while stem.contains("--") {
            stem = stem.replace("--", "-");
        }
        let stem = stem.trim_start_matches('.');
        Image {
            filename: format!("{}.png", if stem.is_empty() { "chart" } else { stem }),
            title: title.into(),
            png: png.into(),
        }
    }
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("filename", &self.filename)
            .field("title", &self.title)
            .field("png_bytes", &self.png.len())
            .finish()
    }
}

/// Which side of the threshold breaches (CloudWatch's `ComparisonOperator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    GreaterThanOrEqual,
    GreaterThan,
    LessThan,
    LessThanOrEqual,
}

impl Comparison {
    /// CloudWatch's operator name; `None` for the anomaly-detection bands, which have no fixed
    /// threshold.
    pub fn from_operator(operator: &str) -> Option<Comparison> {
        Some(match operator {
            "GreaterThanOrEqualToThreshold" => Comparison::GreaterThanOrEqual,
            "GreaterThanThreshold" => Comparison::GreaterThan,
            "LessThanThreshold" => Comparison::LessThan,
            "LessThanOrEqualToThreshold" => Comparison::LessThanOrEqual,
            _ => return None,
        })
    }

    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqual => value >= threshold,
            Comparison::GreaterThan => value > threshold,
            Comparison::LessThan => value < threshold,
            Comparison::LessThanOrEqual => value <= threshold,
        }
    }

    fn above(self) -> bool {
        matches!(
            self,
            Comparison::GreaterThanOrEqual | Comparison::GreaterThan
        )
    }
}

/// One chart: what [`png`] draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    /// The metric's unit (`Count`, `Percent`), shown beside the values.
    pub unit: Option<String>,
    /// (seconds since 1970, value), in any order.
    pub points: Vec<(i64, f64)>,
    pub threshold: Option<f64>,
    pub comparison: Option<Comparison>,
    /// The times shown, in seconds since 1970 (UTC).
    pub from: i64,
    pub to: i64,
    /// The periods the alarm evaluated, shaded.
    pub window: Option<(i64, i64)>,
    /// When the alarm changed state, and to which state.
    pub state_change: Option<(i64, String)>,
}

/// Where the plot sits in the picture and which values its edges stand for, so a reader of
/// the pixels (the tests) can say where a value must be drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Pixel columns and rows of the plotting area, ends excluded.
    pub x: (i32, i32),
    pub y: (i32, i32),
    /// The values at the bottom and the top of the plotting area.
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChartError {
    #[error("the chart could not be drawn: {0}")]
    Draw(String),
    #[error("the chart could not be encoded as PNG: {0}")]
    Encode(String),
    #[error("the chart's time range is empty")]
    EmptyRange,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are the font file in the repository; a test draws text with it.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// The chart as a PNG of [`WIDTH`] × [`HEIGHT`].
pub fn png(chart: &Chart) -> Result<Vec<u8>, ChartError> {
    let mut buffer = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    draw_into(&mut buffer, WIDTH, HEIGHT, std::slice::from_ref(chart))?;
    encode(&buffer, WIDTH, HEIGHT)
}

/// The chart as a PNG, and where its plot is (for tests).
pub fn png_with_frame(chart: &Chart) -> Result<(Vec<u8>, Frame), ChartError> {
    let mut buffer = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    let frames = draw_into(&mut buffer, WIDTH, HEIGHT, std::slice::from_ref(chart))?;
    Ok((encode(&buffer, WIDTH, HEIGHT)?, frames[0]))
}

/// Several charts one under the other in one tall PNG ([`WIDTH`] × n·[`HEIGHT`]): what a reply
/// with more charts than a message shows carries as one file.
pub fn png_stacked(charts: &[Chart]) -> Result<Vec<u8>, ChartError> {
    if charts.is_empty() {
        return Err(ChartError::EmptyRange);
    }
    let height = HEIGHT * charts.len() as u32;
    let mut buffer = vec![255u8; (WIDTH * height * 3) as usize];
    draw_into(&mut buffer, WIDTH, height, charts)?;
    encode(&buffer, WIDTH, height)
}

fn encode(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Charts are flat colours: the fast encoder compresses them well, in a fraction of the
    // time the default level takes.
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder
        .write_header()
        .map_err(|e| ChartError::Encode(e.to_string()))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| ChartError::Encode(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| ChartError::Encode(e.to_string()))?;
    Ok(out)
}

fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

fn draw_into(
    buffer: &mut [u8],
    width: u32,
    height: u32,
    charts: &[Chart],
) -> Result<Vec<Frame>, ChartError> {
    register_font();
    let root = BitMapBackend::with_buffer(buffer, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let areas = root.split_evenly((charts.len(), 1));
    let mut frames = Vec::with_capacity(charts.len());
    for (chart, area) in charts.iter().zip(&areas) {
        frames.push(draw_one(chart, area)?);
    }
    root.present().map_err(draw_err)?;
    Ok(frames)
}

/// The values the y axis spans: the data and the threshold, zero when near, some headroom.
fn value_range(chart: &Chart) -> (f64, f64) {
    let values = chart
        .points
        .iter()
        .map(|p| p.1)
        .chain(chart.threshold)
        .filter(|v| v.is_finite());
    let (mut low, mut high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    // Counts and percentages read best from zero.
    if low > 0.0 && (low < high * 0.5 || chart.points.is_empty()) {
        low = 0.0;
    }
    let span = if high > low {
        high - low
    } else {
        high.abs().max(1.0)
    };
    high += span * 0.15;
    if low != 0.0 {
        low -= span * 0.1;
    }
    (low, high)
}

/// Tick times at a round step (1 minute … 1 day) giving 4 to 8 ticks.
fn time_ticks(from: i64, to: i64) -> Vec<i64> {
    const STEPS: [i64; 14] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
    ];
    let span = (to - from).max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 7)
        .unwrap_or(604800);
    let first = from.div_euclid(step) * step + if from.rem_euclid(step) == 0 { 0 } else { step };
    (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t <= to)
        .collect()
}

/// `07:52`, or `11-30 07:52` when the chart spans more than a day.
fn time_label(secs: i64, long: bool) -> String {
    let of_day = secs.rem_euclid(86_400);
    let hm = format!("{:02}:{:02}", of_day / 3600, of_day % 3600 / 60);
    if long {
        let date = date(secs);
        format!("{} {hm}", &date[5..])
    } else {
        hm
    }
}

/// `2026-11-30`.
fn date(secs: i64) -> String {
    aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .map(|s| s[..10].to_owned())
        .unwrap_or_default()
}

/// A value as an axis shows it: few digits, no trailing zeros.
fn value_label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn draw_one<DB: DrawingBackend>(
    chart: &Chart,
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<Frame, ChartError> {
    let (from, to) = (chart.from, chart.to);
    if to <= from {
        return Err(ChartError::EmptyRange);
    }
    let (low, high) = value_range(chart);
    let long = to - from > 86_400;
    let ticks = time_ticks(from, to);
    // Text goes on `area`, whose coordinates start at its own corner; the chart maps values to
    // the picture's.
    let base = area.get_base_pixel();
    let on_area = |(x, y): (i32, i32)| (x - base.0, y - base.1);
    let mut built = ChartBuilder::on(area)
        .caption(&chart.title, (FONT, 17).into_font().color(&TEXT))
        .margin(10)
        .margin_right(24)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d((from..to).with_key_points(ticks), low..high)
        .map_err(draw_err)?;
    let x_desc = format!("UTC, {}", date(from));
    built
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(MESH)
        .axis_style(RGBColor(150, 150, 150))
        .label_style((FONT, 12).into_font().color(&TEXT))
        .axis_desc_style((FONT, 12).into_font().color(&TEXT))
        .x_label_formatter(&|t| time_label(*t, long))
        .y_label_formatter(&|v| value_label(*v))
        .y_labels(5)
        .x_desc(x_desc)
        .y_desc(chart.unit.clone().unwrap_or_default())
        .draw()
        .map_err(draw_err)?;

    // What the alarm looked at, and the side of the threshold that breaches.
    if let Some((start, end)) = chart.window {
        let (start, end) = (start.max(from), end.min(to));
        if start < end {
            built
                .draw_series(std::iter::once(Rectangle::new(
                    [(start, low), (end, high)],
                    WINDOW.filled(),
                )))
                .map_err(draw_err)?;
        }
    }
    if let (Some(threshold), Some(comparison)) = (chart.threshold, chart.comparison) {
        let (a, b) = if comparison.above() {
            (threshold, high)
        } else {
            (low, threshold)
        };
        if a < b {
            built
                .draw_series(std::iter::once(Rectangle::new(
                    [(from, a), (to, b)],
                    BEYOND.mix(0.6).filled(),
                )))
                .map_err(draw_err)?;
        }
    }

    let mut points: Vec<(i64, f64)> = chart
        .points
        .iter()
        .copied()
        .filter(|(t, v)| (from..=to).contains(t) && v.is_finite())
        .collect();
    points.sort_by_key(|p| p.0);
    built
        .draw_series(LineSeries::new(
            points.iter().copied(),
            LINE.stroke_width(2),
        ))
        .map_err(draw_err)?;

    if let Some(threshold) = chart.threshold {
        built
            .draw_series(std::iter::once(PathElement::new(
                vec![(from, threshold), (to, threshold)],
                THRESHOLD.stroke_width(2),
            )))
            .map_err(draw_err)?;
        let label = format!("threshold {}", value_label(threshold));
        let at = on_area(built.backend_coord(&(from, threshold)));
        area.draw(&Text::new(
            label,
            (at.0 + 4, at.1 - 16),
            (FONT, 12).into_font().color(&THRESHOLD),
        ))
        .map_err(draw_err)?;
    }

    let breaches = |v: f64| match (chart.threshold, chart.comparison) {
        (Some(t), Some(c)) => c.breaches(v, t),
        _ => false,
    };
    built
        .draw_series(points.iter().map(|&(t, v)| {
            if breaches(v) {
                Circle::new((t, v), 5, BREACH.filled())
            } else {
                Circle::new((t, v), 3, LINE.filled())
            }
        }))
        .map_err(draw_err)?;

    if let Some((at, state)) = &chart.state_change {
        if (from..=to).contains(at) {
            built
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*at, low), (*at, high)],
                    STATE_CHANGE.stroke_width(2),
                )))
                .map_err(draw_err)?;
            let top = on_area(built.backend_coord(&(*at, high)));
            let label = format!("{state} {}", time_label(*at, false));
            // Right of the line, or left of it near the right edge.
            let x = if at - from > (to - from) * 3 / 4 {
                top.0 - 8 - 7 * label.chars().count() as i32
            } else {
                top.0 + 5
            };
            area.draw(&Text::new(
                label,
                (x, top.1 + 3),
                (FONT, 12).into_font().color(&STATE_CHANGE),
            ))
            .map_err(draw_err)?;
        }
    }
    if points.is_empty() {
        let centre =
            on_area(built.backend_coord(&(from + (to - from) / 2, low + (high - low) / 2.0)));
        area.draw(&Text::new(
            "No data in this period",
            (centre.0 - 75, centre.1 - 8),
            (FONT, 14).into_font().color(&TEXT),
        ))
        .map_err(draw_err)?;
    }

    let (xs, ys) = built.plotting_area().get_pixel_range();
    Ok(Frame {
        x: (xs.start, xs.end),
        y: (ys.start, ys.end),
        low,
        high,
    })
}

#[cfg(test)]
mod tests;
