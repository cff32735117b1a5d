//! Replies read at a glance: the compact table of an operation's view (`commands/views.json`),
//! one page of a long list, empty members left out, and times people read
//! (`2026-11-30 07:52 UTC (5 min ago)`). The full rendering stays one **Details** away.
//!
//! Pure: the caller hands in the (redacted) response and the time; nothing here calls AWS or
//! keeps state, so every view is snapshot tested from a fixture.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::catalog::{Operation, Service, Shape};

/// Rows of a list shown per page in chat.
pub const PAGE_ROWS: usize = 20;
/// A page without a view holds as many of its [`PAGE_ROWS`] items as fit in this many
/// characters (at least one), so it stays a message rather than a file.
pub const PAGE_CHARS: usize = 10_000;
/// A cell longer than this is cut in the monospace table (the full value is in Details).
const CELL_CHARS: usize = 48;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    pub service: String,
    pub operation: String,
    /// JMESPath from the output to the rows: a list, or one object.
    pub rows: String,
    /// What the rows are, for "Showing 1–20 of 143 functions".
    pub noun: Option<String>,
    pub columns: Vec<Column>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub title: String,
    /// JMESPath relative to a row.
    pub expr: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Views {
    #[allow(dead_code)]
    about: String,
    timestamp_strings: HashMap<String, Vec<String>>,
    views: Vec<View>,
}

static VIEWS: LazyLock<Views> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../commands/views.json"))
        .expect("commands/views.json is valid")
});

/// Every view, for the whole-table tests.
pub fn all() -> &'static [View] {
    &VIEWS.views
}

/// The view of an operation, if it has one.
pub fn view(service: &str, operation: &str) -> Option<&'static View> {
    VIEWS
        .views
        .iter()
        .find(|v| v.service == service && v.operation == operation)
}

/// String shapes of a service that hold timestamps (the model says so in their docs only).
fn timestamp_strings(service: &str) -> &'static [String] {
    VIEWS
        .timestamp_strings
        .get(service)
        .map_or(&[], Vec::as_slice)
}

/// Whether a shape holds a time: the model's timestamp type, or a string shape listed in
/// `timestamp_strings`.
pub fn is_time(service: &Service, shape_name: &str) -> bool {
    match service.shape(shape_name) {
        Shape::Timestamp { .. } => true,
        Shape::String { .. } => timestamp_strings(&service.service)
            .iter()
            .any(|s| s == shape_name),
        _ => false,
    }
}

/// Replaces every time in an operation's output, as its output shape says where they are,
/// with what people read: `2026-11-30 07:52 UTC (5 min ago)`. Epoch seconds (query-protocol
/// services) and ISO 8601 strings alike; a value that doesn't read as a time is left as is.
pub fn readable_times(service: &Service, op: &Operation, value: &mut Value, now: SystemTime) {
    if let Some(output) = op.output.as_deref() {
        times_in(service, output, value, now.into(), 0);
    }
}

fn times_in(service: &Service, shape_name: &str, value: &mut Value, now: DateTime<Utc>, depth: u8) {
    // Shapes can be recursive; responses are not deep. Stop well before the stack could care.
    if depth > 64 {
        return;
    }
    if is_time(service, shape_name) {
        if let Some(t) = parse_time(value) {
            *value = Value::String(readable(t, now));
        }
        return;
    }
    match (service.shape(shape_name), value) {
        (Shape::Structure { members, .. }, Value::Object(map)) => {
            for member in members {
                if let Some(v) = map.get_mut(&member.name) {
                    times_in(service, &member.shape, v, now, depth + 1);
                }
            }
        }
        (Shape::List { member, .. }, Value::Array(items)) => {
            for item in items {
                times_in(service, &member.shape, item, now, depth + 1);
            }
        }
        (Shape::Map { value: v, .. }, Value::Object(entries)) => {
            for x in entries.values_mut() {
                times_in(service, &v.shape, x, now, depth + 1);
            }
        }
        _ => {}
    }
}

/// What a `--query` selected, its times readable: `raw` is the query over the response,
/// `readable` the same query over the response with its times made readable (by the model,
/// [`readable_times`]). A value of `raw` is replaced only where `readable` holds, at the same
/// place, that very time made readable, so a query that filters or sorts by time (and may
/// select differently over the readable strings) never swaps one value for another: what
/// differs stays as AWS gave it.
pub fn readable_selected(raw: &Value, readable: &Value, now: SystemTime) -> Value {
    selected(raw, readable, now.into(), 0)
}

fn selected(raw: &Value, shown_by: &Value, now: DateTime<Utc>, depth: u8) -> Value {
    match (raw, shown_by) {
        (Value::Object(r), Value::Object(q)) if depth < 64 => Value::Object(
            r.iter()
                .map(|(k, v)| {
                    let v = match q.get(k) {
                        Some(w) => selected(v, w, now, depth + 1),
                        None => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        (Value::Array(r), Value::Array(q)) if depth < 64 && r.len() == q.len() => Value::Array(
            r.iter()
                .zip(q)
                .map(|(v, w)| selected(v, w, now, depth + 1))
                .collect(),
        ),
        (Value::Number(_) | Value::String(_), Value::String(shown)) if raw != shown_by => {
            match parse_time(raw) {
                Some(t) if readable(t, now) == *shown => Value::String(shown.clone()),
                _ => raw.clone(),
            }
        }
        _ => raw.clone(),
    }
}

/// A time as the AWS CLI prints it: epoch seconds, or an ISO 8601 string (with `Z`, `+00:00`
/// or Lambda's `+0000`).
pub fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => {
            let secs = n.as_f64()?;
            if !secs.is_finite() {
                return None;
            }
            let whole = secs.floor();
            let nanos = ((secs - whole) * 1e9).round().min(999_999_999.0) as u32;
            DateTime::from_timestamp(whole as i64, nanos)
        }
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        _ => None,
    }
}

/// `2026-11-30 07:52 UTC (5 min ago)`.
pub fn readable(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    // Rounded to the second: 07:47:00.427 is five minutes before 07:52, not four.
    let secs = ((now - t).num_milliseconds() as f64 / 1000.0).round() as i64;
    let ago = |n: i64, unit: &str| {
        if secs >= 0 {
            format!("{n} {unit} ago")
        } else {
            format!("in {n} {unit}")
        }
    };
    let abs = secs.abs();
    let relative = if abs < 60 {
        "just now".to_owned()
    } else if abs < 3600 {
        ago(abs / 60, "min")
    } else if abs < 48 * 3600 {
        ago(abs / 3600, "h")
    } else {
        ago(abs / 86_400, "days")
    };
    format!("{} UTC ({relative})", t.format("%Y-%m-%d %H:%M"))
}

/// The value without empty members (`Layers: []`, `OKActions: []`, `""`, `null`, `{}`), at
/// every depth: what the chat rendering shows of an operation without a view.
pub fn prune(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter_map(|(k, v)| {
                    let v = prune(v);
                    (!is_empty(&v)).then(|| (k.clone(), v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(prune).collect()),
        other => other.clone(),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A table of text cells: what Slack shows as a `table` block and the shell as aligned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Grid {
    /// Aligned columns for a monospace font, cells cut at [`CELL_CHARS`].
    pub fn monospace(&self) -> String {
        let cut = |s: &str| {
            let one_line = s.replace('\n', " ");
            if one_line.chars().count() > CELL_CHARS {
                let mut out: String = one_line.chars().take(CELL_CHARS - 1).collect();
                out.push('…');
                out
            } else {
                one_line
            }
        };
        let lines: Vec<Vec<String>> = std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|row| row.iter().map(|c| cut(c)).collect())
            .collect();
        let mut widths = vec![0; self.headers.len()];
        for row in &lines {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(super::table::text_length(cell));
            }
        }
        let mut out = Vec::new();
        for row in &lines {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths[i] - super::table::text_length(cell) + 2;
                    line.push_str(&" ".repeat(pad));
                }
            }
            out.push(line.trim_end().to_owned());
        }
        out.join("\n")
    }
}

/// The text of one cell: scalars as they read, lists joined, nothing as `–`.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => "–".into(),
        Value::String(s) if s.is_empty() => "–".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "–".into(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// One row of a view: each column's expression over the row.
fn view_row(view: &View, row: &Value) -> Vec<String> {
    view.columns
        .iter()
        .map(|c| {
            crate::query::search(row.clone(), &c.expr)
                .map(|v| cell(&v))
                .unwrap_or_else(|_| "–".into())
        })
        .collect()
}

/// The list member of a response that pages: the view's rows when they name a top-level
/// list, else the paginator's first result key.
pub fn paged_member(service: &Service, op: &Operation, value: &Value) -> Option<String> {
    let is_list = |k: &str| value.get(k).is_some_and(Value::is_array);
    if let Some(v) = view(&service.service, &op.name) {
        if is_identifier(&v.rows) && is_list(&v.rows) {
            return Some(v.rows.clone());
        }
    }
    op.paginator
        .as_ref()
        .and_then(|p| p.result_key.first())
        .filter(|k| is_list(k))
        .cloned()
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A reply's body in chat: a summary line when the list pages, then a table (a view over a
/// list), `title: value` lines (a view of one object), or the response's lines less its
/// empty members (no view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// "Showing 1–20 of 143 functions." when not everything is shown.
    pub summary: Option<String>,
    pub grid: Option<Grid>,
    /// The lines when there is no grid.
    pub lines: String,
    /// The rows of the paged member shown, and how many there are in all.
    pub shown: Range<usize>,
    pub total: usize,
    /// Whether there are rows after `shown` (here or still in AWS).
    pub more: bool,
    /// How many rows of the kept response the next page shows (0 when only AWS has more).
    pub next_rows: usize,
    /// Whether a view made it.
    pub viewed: bool,
    /// Whether it shows a view's summary of something (Details would show all of it).
    pub details: bool,
}

impl Body {
    /// As plain text: the grid as aligned text in a code block.
    pub fn plain(&self) -> String {
        let mut parts = Vec::new();
        if let Some(summary) = &self.summary {
            parts.push(summary.clone());
        }
        match &self.grid {
            Some(grid) => parts.push(format!("```\n{}\n```", grid.monospace())),
            None => parts.push(self.lines.clone()),
        }
        parts.join("\n")
    }
}

/// The chat body of `value` (redacted, times already readable) from row `start` of the paged
/// member on; `more_in_aws` says the response was cut (a NextToken).
pub fn body(
    service: &Service,
    op: &Operation,
    value: &Value,
    start: usize,
    more_in_aws: bool,
) -> Body {
    let view = view(&service.service, &op.name);
    let member = paged_member(service, op, value);
    let all: &[Value] = member
        .as_deref()
        .and_then(|m| value.get(m))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let total = all.len();
    let start = start.min(total);
    let (shown, lines) = page_rows(view.is_some(), value, member.as_deref(), start, total);
    let more = shown.end < total || more_in_aws;
    let next_rows = if shown.end >= total {
        0
    } else {
        let (next, _) = page_rows(view.is_some(), value, member.as_deref(), shown.end, total);
        next.len()
    };
    let summary = (member.is_some() && (start > 0 || more)).then(|| {
        let noun = view.and_then(|v| v.noun.as_deref()).unwrap_or("items");
        let of = if more_in_aws {
            format!("{total}+")
        } else {
            total.to_string()
        };
        if shown.is_empty() {
            format!("No more {noun} (of {of}).")
        } else if shown == (0..1) {
            format!("Showing 1 of {of} {noun}.")
        } else {
            format!("Showing {}–{} of {of} {noun}.", shown.start + 1, shown.end)
        }
    });
    let mut body = Body {
        summary,
        grid: None,
        lines: String::new(),
        shown: shown.clone(),
        total,
        more,
        next_rows,
        viewed: view.is_some(),
        details: false,
    };
    if let Some(view) = view {
        let rows = match (&member, crate::query::search(value.clone(), &view.rows)) {
            (Some(_), _) => Some(all[shown.clone()].to_vec()),
            (None, Ok(Value::Array(rows))) => Some(rows),
            (None, Ok(one @ Value::Object(_))) => {
                body.lines = one_row(view, &one);
                body.details = true;
                None
            }
            _ => {
                body.lines = "none".into();
                None
            }
        };
        if let Some(rows) = rows {
            if rows.is_empty() {
                body.lines = format!("No {}.", view.noun.as_deref().unwrap_or("items"));
            } else {
                body.details = true;
                body.grid = Some(Grid {
                    headers: view.columns.iter().map(|c| c.title.clone()).collect(),
                    rows: rows.iter().map(|r| view_row(view, r)).collect(),
                });
            }
        }
        return body;
    }
    body.lines = lines.unwrap_or_else(|| full(value, member.as_deref(), shown));
    body
}

/// The rows of a page from `start`: [`PAGE_ROWS`] of a view's table; without a view, as
/// many as fit in [`PAGE_CHARS`] (at least one), with their lines.
fn page_rows(
    viewed: bool,
    value: &Value,
    member: Option<&str>,
    start: usize,
    total: usize,
) -> (Range<usize>, Option<String>) {
    let most = (start + PAGE_ROWS).min(total);
    if viewed || member.is_none() || start >= total {
        return (start..most, None);
    }
    let mut end = most;
    loop {
        let lines = full(value, member, start..end);
        if end == start + 1 || lines.chars().count() <= PAGE_CHARS {
            return (start..end, Some(lines));
        }
        end -= 1;
    }
}

/// A view of one object: `title: value` lines, empty cells left out.
fn one_row(view: &View, row: &Value) -> String {
    view.columns
        .iter()
        .zip(view_row(view, row))
        .filter(|(_, v)| v != "–")
        .map(|(c, v)| format!("{}: {v}", c.title))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Today's full chat rendering less the empty members, the paged member cut to `shown`.
pub fn full(value: &Value, member: Option<&str>, shown: Range<usize>) -> String {
    let mut value = value.clone();
    if let (Some(m), Value::Object(map)) = (member, &mut value) {
        if let Some(Value::Array(items)) = map.get_mut(m) {
            let end = shown.end.min(items.len());
            let start = shown.start.min(end);
            *items = items[start..end].to_vec();
            if items.is_empty() {
                map.insert(m.to_owned(), Value::String("none".into()));
            }
        }
    }
    let pruned = prune(&value);
    match (&pruned, &value) {
        // Everything was empty: say so rather than "Done (no output)".
        (Value::Object(p), Value::Object(v)) if p.is_empty() && !v.is_empty() => {
            let keys: Vec<&str> = v.keys().map(String::as_str).collect();
            format!("{}: none", keys.join(", "))
        }
        _ => super::chat(&pruned),
    }
}

#[cfg(test)]
pub(crate) mod tests;
