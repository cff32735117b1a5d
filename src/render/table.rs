//! The AWS CLI's `--output table`, ported from awscli 1.45 (`awscli/formatter.py`
//! `TableFormatter` builds the sections, `awscli/table.py` `MultiTable` sizes and draws them)
//! so that `exec … --output table` prints what `aws … --output table` prints, byte for byte.
//!
//! Where the AWS CLI raises instead of printing (rows of different lengths in one section, a
//! list that starts with an object and goes on with something else), this port prints the
//! table anyway, short rows padded with empty cells: there is no output to match, and a reply
//! beats a traceback. Where the AWS CLI prints less than it was given (a single scalar shows
//! only the title; an object in a list that starts with a scalar shows only its keys), this
//! port prints the same, as `--output table` is asked for to get what the AWS CLI shows.

use icu_properties::props::{EastAsianWidth, GeneralCategory, GeneralCategoryGroup};
use icu_properties::CodePointMapData;
use serde_json::{Map, Value};

use super::python_str;

/// The width the AWS CLI assumes when standard output is not a terminal
/// (`determine_terminal_width(default_width=80)`: its ioctl fails on a pipe). The bot never
/// writes to a terminal, so its tables are always laid out for this width.
pub const WIDTH: usize = 80;

/// The AWS CLI's table of `value`, titled with the operation's API name (`ListFunctions`),
/// without the final newline. Empty when the AWS CLI prints nothing (an empty or false
/// result).
pub fn table(operation: &str, value: &Value) -> String {
    let mut builder = Builder::default();
    if !builder.build(Some(operation), value, 0) {
        return String::new();
    }
    let mut out = render(builder.sections, WIDTH);
    out.pop();
    out
}

/// A titled block of rows, as `awscli.table.Section`.
#[derive(Default)]
struct Section {
    /// `None` is Python's `None`: not drawn, yet four wide ("None") when sizing the table.
    title: Option<String>,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    indent: usize,
    max_widths: Vec<usize>,
}

impl Section {
    fn titled(title: Option<&str>, indent: usize) -> Section {
        Section {
            title: title.map(str::to_owned),
            indent,
            ..Section::default()
        }
    }

    fn add_header(&mut self, headers: Vec<String>) {
        self.update_max_widths(&headers);
        self.headers = headers;
    }

    fn add_row(&mut self, row: Vec<String>) {
        self.update_max_widths(&row);
        self.rows.push(row);
    }

    fn update_max_widths(&mut self, row: &[String]) {
        for (i, cell) in row.iter().enumerate() {
            let width = text_length(cell);
            match self.max_widths.get_mut(i) {
                Some(w) => *w = (*w).max(width),
                None => self.max_widths.push(width),
            }
        }
    }

    fn title_length(&self) -> usize {
        self.title.as_deref().map_or(4, text_length)
    }

    /// `Section.total_width(padding=4, with_border=True, outer_padding=indent_level)`.
    fn total_width(&self) -> i64 {
        let outer = 2 * self.indent as i64;
        let columns: i64 = self.max_widths.iter().map(|w| *w as i64 + 4).sum();
        (self.title_length() as i64 + 2 + outer).max(columns + 2 + outer)
    }

    /// `Section.calculate_column_widths(padding=4, max_width)`: the columns scaled to fill
    /// `max_width`, rounded half to even as Python's `round`, then evened out one by one.
    fn column_widths(&self, max_width: i64) -> Vec<i64> {
        let unscaled: Vec<i64> = self.max_widths.iter().map(|w| *w as i64 + 4).collect();
        if unscaled.is_empty() {
            return unscaled;
        }
        let scale = max_width as f64 / unscaled.iter().sum::<i64>() as f64;
        let mut scaled: Vec<i64> = unscaled
            .iter()
            .map(|w| (scale * *w as f64).round_ties_even() as i64)
            .collect();
        let mut off_by = scaled.iter().sum::<i64>() - max_width;
        while off_by != 0 {
            let order: Vec<usize> = if off_by < 0 {
                (0..scaled.len()).rev().collect()
            } else {
                (0..scaled.len()).collect()
            };
            for i in order {
                if off_by > 0 {
                    scaled[i] -= 1;
                    off_by -= 1;
                } else {
                    scaled[i] += 1;
                    off_by += 1;
                }
                if off_by == 0 {
                    break;
                }
            }
        }
        scaled
    }
}

/// `TableFormatter._build_table` and its helpers: the response walked into sections.
#[derive(Default)]
struct Builder {
    sections: Vec<Section>,
}

impl Builder {
    fn current(&mut self) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        self.sections.last_mut().expect("a section was just added")
    }

    fn new_section(&mut self, title: Option<&str>, indent: usize) {
        self.sections.push(Section::titled(title, indent));
    }

    fn build(&mut self, title: Option<&str>, current: &Value, indent: usize) -> bool {
        if !truthy(current) {
            return false;
        }
        if title.is_some() {
            self.new_section(title, indent);
        }
        match current {
            Value::Array(items) if items[0].is_object() => {
                self.sub_table_from_list(items, indent, title)
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Array(list) if !list.iter().all(is_scalar) => {
                            // Nested lists go on in the same section, from indent 0 as in
                            // the AWS CLI.
                            self.build(None, item, 0);
                        }
                        Value::Array(list) => {
                            let row = list.iter().map(python_str).collect();
                            self.current().add_row(row);
                        }
                        // `all(... for el in item)` walks an object's keys: its row is them.
                        Value::Object(map) => {
                            let row = map.keys().cloned().collect();
                            self.current().add_row(row);
                        }
                        scalar => self.current().add_row(vec![python_str(scalar)]),
                    }
                }
            }
            Value::Object(map) => self.sub_table_from_dict(map, indent),
            _ => {}
        }
        true
    }

    /// `_build_sub_table_from_dict`: one row under its keys (two cells when there is one
    /// scalar), then a section per nested value.
    fn sub_table_from_dict(&mut self, map: &Map<String, Value>, indent: usize) {
        let (headers, more) = scalar_keys(map);
        if headers.len() == 1 {
            let row = vec![headers[0].clone(), python_str(&map[&headers[0]])];
            self.current().add_row(row);
        } else if !headers.is_empty() {
            let row = headers.iter().map(|k| python_str(&map[k])).collect();
            let section = self.current();
            section.add_header(headers);
            section.add_row(row);
        }
        for key in more {
            self.build(Some(&key), &map[&key], indent + 1);
        }
    }

    /// `_build_sub_table_from_list`: one column per scalar key of any item, one row per
    /// item; when items nest, each item gets a section of its own followed by its nested ones.
    fn sub_table_from_list(&mut self, items: &[Value], indent: usize, title: Option<&str>) {
        let mut headers: Vec<String> = Vec::new();
        let mut more: Vec<String> = Vec::new();
        for item in items.iter().filter_map(Value::as_object) {
            let (h, m) = scalar_keys(item);
            headers.extend(h);
            more.extend(m);
        }
        headers.sort();
        headers.dedup();
        more.sort();
        more.dedup();
        self.current().add_header(headers.clone());
        for (i, item) in items.iter().enumerate() {
            if i > 0 && !more.is_empty() {
                self.new_section(title, indent);
                self.current().add_header(headers.clone());
            }
            let Value::Object(map) = item else {
                if headers.is_empty() && matches!(item, Value::String(s) if s.is_empty())
                    || matches!(item, Value::Array(list) if list.is_empty())
                {
                    // What the AWS CLI does with "" and [] (when no item has scalars).
                    self.current().add_row(Vec::new());
                    continue;
                }
                // The AWS CLI raises here; show the item in a section of its own, then go
                // on with the list's columns in another.
                self.new_section(title, indent);
                match item {
                    Value::Array(_) => {
                        self.build(None, item, indent);
                    }
                    scalar => self.current().add_row(vec![python_str(scalar)]),
                }
                self.new_section(title, indent);
                self.current().add_header(headers.clone());
                continue;
            };
            let row = headers
                .iter()
                .map(|h| map.get(h).map(python_str).unwrap_or_default())
                .collect();
            self.current().add_row(row);
            for key in &more {
                if let Some(v) = map.get(key) {
                    self.build(Some(key), v, indent + 1);
                }
            }
        }
    }
}

/// An object's keys split into those of scalars and the rest, each sorted.
fn scalar_keys(map: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let (mut headers, mut more): (Vec<String>, Vec<String>) =
        map.keys().cloned().partition(|k| is_scalar(&map[k]));
    headers.sort();
    more.sort();
    (headers, more)
}

fn is_scalar(value: &Value) -> bool {
    !value.is_object() && !value.is_array()
}

/// Python's truth value of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

/// `MultiTable.render`: as wide as the widest section; when that is wider than the
/// terminal, every one-row section turns into `header | value` rows first.
fn render(mut sections: Vec<Section>, terminal_width: usize) -> String {
    let widest = |sections: &[Section]| sections.iter().map(Section::total_width).max();
    let mut max_width = widest(&sections).unwrap_or(0);
    if max_width > terminal_width as i64 {
        for section in &mut sections {
            if section.rows.len() == 1 && !section.headers.is_empty() {
                let mut vertical = Section::titled(section.title.as_deref(), section.indent);
                for (header, cell) in section.headers.iter().zip(&section.rows[0]) {
                    vertical.add_row(vec![header.clone(), cell.clone()]);
                }
                *section = vertical;
            }
        }
        max_width = widest(&sections).unwrap_or(0);
    }
    let mut out = String::new();
    out.push_str(&repeat('-', max_width));
    out.push('\n');
    for section in &sections {
        render_section(section, max_width, &mut out);
    }
    out
}

fn render_section(section: &Section, max_width: i64, out: &mut String) {
    let edge = "|".repeat(section.indent);
    let mut line = |text: String| {
        out.push_str(&edge);
        out.push_str(&text);
        out.push_str(&edge);
        out.push('\n');
    };
    let max_width = max_width - 2 * section.indent as i64;
    if let Some(title) = section.title.as_deref().filter(|t| !t.is_empty()) {
        line(center_text(title, max_width, "|", "|"));
        if section.headers.is_empty() && section.rows.is_empty() {
            line(format!("+{}+", repeat('-', max_width - 2)));
        }
    }
    if !section.headers.is_empty() {
        let widths = section.column_widths(max_width);
        line(line_break(&widths));
        let cells = widths.iter().enumerate().map(|(i, w)| {
            let header = section.headers.get(i).map_or("", String::as_str);
            center_text(header, *w, if i == 0 { "|" } else { "" }, "|")
        });
        line(cells.collect());
    }
    if !section.rows.is_empty() {
        let widths = section.column_widths(max_width);
        if widths.is_empty() {
            return;
        }
        line(line_break(&widths));
        for row in &section.rows {
            let cells = widths.iter().enumerate().map(|(i, w)| {
                let cell = row.get(i).map_or("", String::as_str);
                align_left(cell, *w, if i == 0 { "|" } else { "" }, "|")
            });
            line(cells.collect());
        }
        line(line_break(&widths));
    }
}

/// `+-----+------+`: the first cell has both edges, the others their right one.
fn line_break(widths: &[i64]) -> String {
    let mut out = String::new();
    for (i, w) in widths.iter().enumerate() {
        if i == 0 {
            out.push('+');
            out.push_str(&repeat('-', w - 2));
        } else {
            out.push_str(&repeat('-', w - 1));
        }
        out.push('+');
    }
    out
}

/// `awscli.table.center_text`: the text starts at `length // 2 - text // 2 - 1`.
fn center_text(text: &str, length: i64, left: &str, right: &str) -> String {
    let text_length = text_length(text) as i64;
    let start = length / 2 - text_length / 2 - 1;
    let so_far = text_length_of_edge(left) + start + text_length;
    let rest = length - text_length_of_edge(right) - so_far;
    format!(
        "{left}{}{text}{}{right}",
        repeat(' ', start),
        repeat(' ', rest)
    )
}

/// `awscli.table.align_left`: two spaces of padding when they fit.
fn align_left(text: &str, length: i64, left: &str, right: &str) -> String {
    let text_length = text_length(text) as i64;
    let edges = left.len() as i64 + right.len() as i64;
    let padding = if length - (text_length + 2 + edges) >= 0 {
        2
    } else {
        0
    };
    let rest = length - (left.len() as i64 + padding + text_length) - right.len() as i64;
    format!(
        "{left}{}{text}{}{right}",
        repeat(' ', padding),
        repeat(' ', rest)
    )
}

/// Python's `c * n`: empty for a count below one.
fn repeat(c: char, n: i64) -> String {
    std::iter::repeat_n(c, usize::try_from(n).unwrap_or(0)).collect()
}

fn text_length_of_edge(edge: &str) -> i64 {
    text_length(edge) as i64
}

/// `awscli.table.get_text_length`: East Asian wide, fullwidth and ambiguous characters
/// count two columns, every other character one.
pub(super) fn text_length(text: &str) -> usize {
    let widths = CodePointMapData::<EastAsianWidth>::new();
    text.chars()
        .map(|c| match widths.get(c) {
            EastAsianWidth::Wide | EastAsianWidth::Fullwidth | EastAsianWidth::Ambiguous => 2,
            _ => 1,
        })
        .sum()
}

/// Python's `str.isprintable()` for one character, as `repr` uses it.
pub(super) fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let category: GeneralCategory = CodePointMapData::<GeneralCategory>::new().get(c);
    !GeneralCategoryGroup::Other.contains(category)
        && !GeneralCategoryGroup::Separator.contains(category)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Outputs of awscli 1.45.11's TableFormatter (color off, stdout not a terminal).
    #[test]
    fn matches_the_aws_cli_for_each_layout() {
        let cases: &[(Value, &str)] = &[
            // A single scalar: the title alone.
            (
                json!("abc"),
                "---------------\n|ListFunctions|\n+-------------+",
            ),
            // Items without scalars: the title, no rows.
            (json!([{}, {}]), "---------------\n|ListFunctions|"),
            // An object in a list led by a scalar shows its keys.
            (
                json!(["a", {"k": "v"}]),
                "---------------\n|ListFunctions|\n+-------------+\n|  a          |\n|  k          |\n+-------------+",
            ),
            (
                json!({"a": 1, "b": "x"}),
                "---------------\n|ListFunctions|\n+-----+-------+\n|  a  |   b   |\n+-----+-------+\n|  1  |  x    |\n+-----+-------+",
            ),
            (
                json!({"a": 1}),
                "---------------\n|ListFunctions|\n+-----+-------+\n|  a  |  1    |\n+-----+-------+",
            ),
            (
                json!([["a", "b"], ["c", "d"]]),
                "---------------\n|ListFunctions|\n+-----+-------+\n|  a  |  b    |\n|  c  |  d    |\n+-----+-------+",
            ),
            // Issue 9: rows without scalar columns, their nested tables indented.
            (
                json!([{"d": [{"Name": "F", "Value": "x"}]}, {"d": []}, {}]),
                "---------------------\n|   ListFunctions   |\n||        d        ||\n|+-------+---------+|\n|| Name  |  Value  ||\n|+-------+---------+|\n||  F    |  x      ||\n|+-------+---------+|\n|   ListFunctions   |\n|   ListFunctions   |",
            ),
            (json!(0), ""),
            (json!([]), ""),
            (json!({}), ""),
        ];
        for (value, expected) in cases {
            assert_eq!(table("ListFunctions", value), *expected, "{value}");
        }
    }

    #[test]
    fn wide_and_ambiguous_characters_count_two_columns() {
        // As Python 3.11's unicodedata.east_asian_width: ß and é are ambiguous.
        assert_eq!(text_length("a漢ß"), 5);
        assert_eq!(text_length("é"), 2);
        assert_eq!(text_length("°"), 2);
    }

    #[test]
    fn columns_round_half_to_even_and_fill_the_width() {
        let mut s = Section::default();
        s.add_row(vec!["ab".into(), "c".into(), "defg".into()]);
        for width in 17..40 {
            assert_eq!(s.column_widths(width).iter().sum::<i64>(), width);
        }
    }
}
