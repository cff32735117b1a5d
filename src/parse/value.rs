//! Option values in the AWS CLI's syntaxes: scalars, JSON, and shorthand
//! (`Name=FunctionName,Value=myHelloWorld`, `Variables={A=B}`, `Ids=[a,b]`), checked against
//! the API model's shape and turned into the JSON the executor serializes.

use std::fmt;

use aws_smithy_types::date_time::{DateTime, Format};
use serde_json::{Map, Number, Value};

use crate::catalog::{Service, Shape};
use crate::limits::{self, MAX_NESTING};

/// A value that does not fit its option. Display is the message the user reads; for syntax
/// errors it shows the input with a caret under the spot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValueError {
    pub option: String,
    pub message: String,
    /// The input and the character offset of the problem, for the caret line.
    pub at: Option<(String, usize)>,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid value for --{}: {}", self.option, self.message)?;
        if let Some((input, offset)) = &self.at {
            let line_start = input[..*offset].rfind('\n').map_or(0, |i| i + 1);
            let line_end = input[*offset..]
                .find('\n')
                .map_or(input.len(), |i| offset + i);
            // A window of the line around the spot: a 40,000-character value must not come
            // back whole in the reply.
            let before: Vec<char> = input[line_start..*offset].chars().collect();
            let skip = before.len().saturating_sub(CONTEXT_CHARS);
            let shown_before: String = before[skip..].iter().collect();
            let after = &input[*offset..line_end];
            let shown_after: String = after.chars().take(CONTEXT_CHARS).collect();
            let (lead, trail) = (
                if skip > 0 { "…" } else { "" },
                if shown_after.len() < after.len() {
                    "…"
                } else {
                    ""
                },
            );
            write!(
                f,
                "\n{lead}{shown_before}{shown_after}{trail}\n{}^",
                " ".repeat(before.len() - skip + lead.chars().count())
            )?;
        }
        Ok(())
    }
}

/// Characters of the input shown on each side of the spot an error points at.
const CONTEXT_CHARS: usize = 60;

impl ValueError {
    fn new(option: &str, message: impl Into<String>) -> ValueError {
        ValueError {
            option: option.to_owned(),
            message: message.into(),
            at: None,
        }
    }
}

/// Converts the raw strings given for one option into a value of the member's shape.
pub fn from_cli(
    service: &Service,
    shape_name: &str,
    raw: &[String],
    option: &str,
) -> Result<Value, ValueError> {
    let shape = service.shape(shape_name);
    let value = match shape {
        Shape::List { member, .. } => {
            if let [one] = raw {
                if one.trim_start().starts_with('[') {
                    return check(service, shape_name, parse_json(one, option)?, option, "");
                }
            }
            let member_shape = service.shape(&member.shape);
            let items = raw
                .iter()
                .map(|r| document(member_shape, r, option))
                .collect::<Result<Vec<_>, _>>()?;
            Value::Array(items)
        }
        Shape::Boolean {} => Value::Bool(true),
        _ => {
            let [one] = raw else {
                return Err(ValueError::new(option, "takes one value"));
            };
            document(shape, one, option)?
        }
    };
    check(service, shape_name, value, option, "")
}

/// What the AWS CLI reads as a file (`file://`, `fileb://`) or, in v1, fetches (`http://`,
/// `https://`) when a parameter value starts with it. The bot does neither, and refuses such
/// values rather than pass the text on as if it were the value meant.
const FILE_OR_URL_PREFIXES: [&str; 4] = ["file://", "fileb://", "http://", "https://"];

/// Whether `text` starts (after spaces and quotes, in any case) with a file or URL prefix.
pub fn is_file_or_url(text: &str) -> bool {
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\'' || c == '"');
    FILE_OR_URL_PREFIXES.iter().any(|prefix| {
        start
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    })
}

/// The values among `raw` (given for a member of shape `shape_name`) that name a file or a
/// URL: the raw values themselves, and for structures, maps and lists of them every string
/// inside the shorthand or JSON (list items, inner values, `key@=file://…`). A blob or string
/// is only looked at as a whole: a Lambda payload may well mention a URL.
pub fn file_or_url_values(service: &Service, shape_name: &str, raw: &[String]) -> Vec<String> {
    let mut found: Vec<String> = raw.iter().filter(|r| is_file_or_url(r)).cloned().collect();
    let structured = |shape: &Shape| {
        matches!(
            shape,
            Shape::Structure { .. } | Shape::Map { .. } | Shape::List { .. }
        )
    };
    let shape = service.shape(shape_name);
    let items_structured = match shape {
        Shape::List { member, .. } => structured(service.shape(&member.shape)),
        other => structured(other),
    };
    if items_structured || matches!(raw, [one] if one.trim_start().starts_with('[')) {
        for r in raw {
            let doc = if r.trim_start().starts_with(['{', '[']) {
                parse_json(r, "").ok()
            } else {
                Shorthand::new(r, "").parse().ok()
            };
            if let Some(doc) = doc {
                strings_in(&doc, &mut |s| {
                    if is_file_or_url(s) {
                        found.push(s.to_owned());
                    }
                });
            }
        }
    }
    found
}

/// Calls `f` with every key and string in `value` (no deeper than the parsers allow).
fn strings_in(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, f)),
        Value::Object(map) => {
            for (k, v) in map {
                f(k);
                strings_in(v, f);
            }
        }
        _ => {}
    }
}

/// One raw value as a JSON document: JSON or shorthand for structures and maps, the text itself
/// for scalars (checked and converted by [`check`]).
fn document(shape: &Shape, raw: &str, option: &str) -> Result<Value, ValueError> {
    match shape {
        Shape::Structure { .. } | Shape::Map { .. } | Shape::List { .. } => {
            let trimmed = raw.trim_start();
            if trimmed.starts_with('{') || trimmed.starts_with('[') {
                parse_json(raw, option)
            } else {
                Shorthand::new(raw, option).parse()
            }
        }
        _ => Ok(Value::String(raw.to_owned())),
    }
}

/// Every JSON value given in a message comes through here (or is a blob that stays text).
fn parse_json(raw: &str, option: &str) -> Result<Value, ValueError> {
    if limits::nesting_exceeds(raw, MAX_NESTING) {
        return Err(too_deep(option));
    }
    serde_json::from_str(raw).map_err(|e| {
        let offset = offset_of(raw, e.line(), e.column());
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        ValueError {
            option: option.to_owned(),
            message: format!("invalid JSON: {message}"),
            at: Some((raw.to_owned(), offset)),
        }
    })
}

fn too_deep(option: &str) -> ValueError {
    ValueError::new(
        option,
        format!(
            "the value nests more than {MAX_NESTING} levels deep; I read at most {MAX_NESTING}"
        ),
    )
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = column.saturating_sub(1);
            return offset
                + l.char_indices()
                    .nth(col)
                    .map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

/// Checks a value against its shape the way botocore validates parameters, converting the
/// strings that shorthand produces into numbers, booleans and lists where the shape says so.
pub fn check(
    service: &Service,
    shape_name: &str,
    value: Value,
    option: &str,
    path: &str,
) -> Result<Value, ValueError> {
    let shape = service.shape(shape_name);
    let here = if path.is_empty() {
        format!("--{option}")
    } else {
        path.to_owned()
    };
    let mismatch = |value: &Value| {
        ValueError::new(
            option,
            format!("{here} must be a {}, not {}", shape.kind(), describe(value)),
        )
    };
    match shape {
        Shape::Structure { members, .. } => {
            let Value::Object(given) = value else {
                return Err(mismatch(&value));
            };
            let mut out = Map::new();
            for (key, v) in given {
                let Some(member) = members.iter().find(|m| m.name == key) else {
                    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
                    let hint = crate::catalog::closest(&key, names.iter().copied())
                        .map(|c| format!(" Did you mean {c}?"))
                        .unwrap_or_default();
                    return Err(ValueError::new(
                        option,
                        format!(
                            "unknown key `{key}` in {here}.{hint} Valid keys: {}",
                            names.join(", ")
                        ),
                    ));
                };
                let v = check(service, &member.shape, v, option, &format!("{here}.{key}"))?;
                out.insert(key, v);
            }
            if let Some(missing) = members
                .iter()
                .find(|m| m.required && !out.contains_key(&m.name))
            {
                return Err(ValueError::new(
                    option,
                    format!("{here} needs the key {}", missing.name),
                ));
            }
            Ok(Value::Object(out))
        }
        Shape::List { member, .. } => {
            let items = match value {
                Value::Array(items) => items,
                // Shorthand writes a one-item list as a bare value (`Ids=a`).
                other => vec![other],
            };
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| check(service, &member.shape, v, option, &format!("{here}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Shape::Map {
            key: key_ref,
            value: value_ref,
            ..
        } => {
            let Value::Object(given) = value else {
                return Err(mismatch(&value));
            };
            let mut out = Map::new();
            for (k, v) in given {
                check(
                    service,
                    &key_ref.shape,
                    Value::String(k.clone()),
                    option,
                    &here,
                )?;
                let v = check(service, &value_ref.shape, v, option, &format!("{here}.{k}"))?;
                out.insert(k, v);
            }
            Ok(Value::Object(out))
        }
        Shape::String {
            enum_values: _,
            min,
            max,
            ..
        } => {
            let s = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => return Err(mismatch(&other)),
            };
            let len = s.chars().count() as i64;
            if min.is_some_and(|min| len < min) {
                return Err(ValueError::new(
                    option,
                    format!(
                        "{here} must be at least {} characters long",
                        min.unwrap_or_default()
                    ),
                ));
            }
            if max.is_some_and(|max| len > max) {
                return Err(ValueError::new(
                    option,
                    format!(
                        "{here} must be at most {} characters long",
                        max.unwrap_or_default()
                    ),
                ));
            }
            Ok(Value::String(s))
        }
        Shape::Integer { min, max } | Shape::Long { min, max } => {
            let n = match &value {
                Value::Number(n) if n.is_i64() => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            }
            .ok_or_else(|| {
                ValueError::new(
                    option,
                    format!("{here} must be a whole number, not {}", describe(&value)),
                )
            })?;
            if min.is_some_and(|min| n < min) || max.is_some_and(|max| n > max) {
                return Err(ValueError::new(
                    option,
                    format!(
                        "{here} must be between {} and {}",
                        min.map_or("-∞".into(), |v| v.to_string()),
                        max.map_or("∞".into(), |v| v.to_string())
                    ),
                ));
            }
            Ok(Value::Number(n.into()))
        }
        Shape::Double {} | Shape::Float {} => {
            let n = match &value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .and_then(Number::from_f64)
            .ok_or_else(|| {
                ValueError::new(
                    option,
                    format!("{here} must be a number, not {}", describe(&value)),
                )
            })?;
            Ok(Value::Number(n))
        }
        Shape::Boolean {} => match &value {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(mismatch(&value)),
        },
        Shape::Timestamp { .. } => {
            let text = match &value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(mismatch(&value)),
            };
            parse_timestamp(&text)
                .map(|t| Value::String(t.fmt(Format::DateTime).unwrap_or(text.clone())))
                .ok_or_else(|| {
                    ValueError::new(
                        option,
                        format!(
                            "{here}: `{text}` is not a time (use 2024-05-01T12:00:00Z, 2024-05-01 or seconds since 1970)"
                        ),
                    )
                })
        }
        Shape::Blob { .. } => match value {
            // A blob typed as JSON (a Lambda payload) must be JSON: catching the typo here
            // points at the spot, where the service would only say "invalid content".
            Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
                parse_json(&s, option)?;
                Ok(Value::String(s))
            }
            Value::String(s) => Ok(Value::String(s)),
            // A JSON document given for a blob (an unquoted Lambda payload inside a structure)
            // travels as its text.
            other => Ok(Value::String(other.to_string())),
        },
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => format!("`{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a structure".into(),
    }
}

/// The AWS CLI's time forms: ISO 8601 with or without a zone or time, or epoch seconds.
pub fn parse_timestamp(text: &str) -> Option<DateTime> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return secs.is_finite().then(|| DateTime::from_secs_f64(secs));
    }
    let candidates = [
        text.to_owned(),
        format!("{text}Z"),
        format!("{text}T00:00:00Z"),
        format!("{text}:00Z"),
    ];
    candidates
        .iter()
        .find_map(|c| DateTime::from_str(c, Format::DateTimeWithOffset).ok())
}

/// A recursive-descent parser for the AWS CLI's shorthand syntax (awscli/shorthand.py):
///
/// ```text
/// parameter = keyval *("," keyval)
/// keyval    = key "=" [values]
/// values    = csv-list | "[" [value *("," value)] "]" | "{" [keyval *("," keyval)] "}"
/// ```
struct Shorthand<'a> {
    input: &'a str,
    pos: usize,
    option: &'a str,
    /// `{` and `[` open around the current position; at most [`MAX_NESTING`].
    depth: usize,
}

impl<'a> Shorthand<'a> {
    fn new(input: &'a str, option: &'a str) -> Self {
        Shorthand {
            input,
            pos: 0,
            option,
            depth: 0,
        }
    }

    fn parse(mut self) -> Result<Value, ValueError> {
        let params = self.keyvals(None)?;
        self.skip_ws();
        if self.pos < self.input.len() {
            return Err(self.error(&format!("unexpected `{}`", self.peek_char().unwrap_or(' '))));
        }
        Ok(Value::Object(params))
    }

    fn error(&self, message: &str) -> ValueError {
        ValueError {
            option: self.option.to_owned(),
            message: format!("invalid shorthand: {message}"),
            at: Some((self.input.to_owned(), self.pos)),
        }
    }

    fn peek_char(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while self.peek_char().is_some_and(char::is_whitespace) {
            self.pos += self.peek_char().map_or(0, char::len_utf8);
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ValueError> {
        self.skip_ws();
        match self.peek_char() {
            Some(found) if found == c => {
                self.pos += c.len_utf8();
                Ok(())
            }
            Some(found) => Err(self.error(&format!("expected `{c}`, found `{found}`"))),
            None => Err(self.error(&format!("expected `{c}`, found the end"))),
        }
    }

    fn keyvals(&mut self, closing: Option<char>) -> Result<Map<String, Value>, ValueError> {
        let mut params = Map::new();
        loop {
            self.skip_ws();
            if closing.is_some() && self.peek_char() == closing {
                return Ok(params);
            }
            let key_start = self.pos;
            let key = self.key()?;
            // `key@=value`: in the AWS CLI the value may then be `file://…` to read a file
            // (refused here, like every file value); otherwise the same as `key=value`.
            self.skip_ws();
            if self.input[self.pos..].starts_with("@=") {
                self.pos += 1;
            }
            self.expect('=')?;
            let value = self.values()?;
            if params.insert(key.clone(), value).is_some() {
                self.pos = key_start;
                return Err(self.error(&format!("`{key}` is given twice")));
            }
            self.skip_ws();
            if self.peek_char() == Some(',') {
                self.pos += 1;
            } else {
                return Ok(params);
            }
        }
    }

    fn key(&mut self) -> Result<String, ValueError> {
        self.skip_ws();
        let start = self.pos;
        while let Some(c) = self.peek_char() {
            if c.is_alphanumeric() || "-_.#/:".contains(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        if start == self.pos {
            return Err(self.error("expected a key"));
        }
        Ok(self.input[start..self.pos].to_owned())
    }

    fn values(&mut self) -> Result<Value, ValueError> {
        self.skip_ws();
        match self.peek_char() {
            Some('[') => self.explicit_list(),
            Some('{') => self.hash_literal(),
            _ => self.csv_list(),
        }
    }

    /// `a,b,c` up to the next `key=`: one value is a string, several a list.
    fn csv_list(&mut self) -> Result<Value, ValueError> {
        let mut items = vec![self.scalar()?];
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.peek_char() != Some(',') {
                self.pos = save;
                break;
            }
            self.pos += 1;
            self.skip_ws();
            if self.pos == self.input.len() {
                return Err(self.error("expected a value after `,`, found the end"));
            }
            if self.looks_like_keyval() {
                self.pos = save;
                break;
            }
            items.push(self.scalar()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Value::Array(items)
        })
    }

    /// Whether what follows a comma in a list of values is the next `key=` instead: as in the
    /// AWS CLI, a value there cannot hold a quote or `=`, so the item ends at one of those or
    /// at a comma (`\,` is an escaped comma, part of the value), and an `=` (or `@=`) means
    /// it was a key.
    fn looks_like_keyval(&self) -> bool {
        let rest = &self.input[self.pos..];
        if rest.starts_with(['\'', '"']) {
            return false;
        }
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.as_str().starts_with(',') => {
                    chars.next();
                }
                ',' | '\'' | '"' => return false,
                '=' => return true,
                _ => {}
            }
        }
        false
    }

    /// Counts a level of nesting before the parser recurses into it.
    fn enter(&mut self) -> Result<(), ValueError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(too_deep(self.option));
        }
        Ok(())
    }

    fn explicit_list(&mut self) -> Result<Value, ValueError> {
        self.expect('[')?;
        self.enter()?;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek_char() {
                Some(']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Array(items));
                }
                Some('[') => items.push(self.explicit_list()?),
                Some('{') => items.push(self.hash_literal()?),
                Some(_) => items.push(self.scalar()?),
                None => return Err(self.error("expected `]`, found the end")),
            }
            self.skip_ws();
            match self.peek_char() {
                Some(',') => self.pos += 1,
                Some(']') => {}
                Some(c) => return Err(self.error(&format!("expected `,` or `]`, found `{c}`"))),
                None => return Err(self.error("expected `]`, found the end")),
            }
        }
    }

    fn hash_literal(&mut self) -> Result<Value, ValueError> {
        self.expect('{')?;
        self.enter()?;
        let params = self.keyvals(Some('}'))?;
        self.expect('}')?;
        self.depth -= 1;
        Ok(Value::Object(params))
    }

    /// A quoted or unquoted value; unquoted ones end at `,`, `]` or `}`.
    fn scalar(&mut self) -> Result<Value, ValueError> {
        self.skip_ws();
        if let Some(quote @ ('"' | '\'')) = self.peek_char() {
            let start = self.pos;
            self.pos += 1;
            let mut out = String::new();
            loop {
                match self.peek_char() {
                    None => {
                        self.pos = start;
                        return Err(self.error("this quote is never closed"));
                    }
                    // `\'` in single quotes, `\"` in double quotes, and `\\` in either.
                    Some('\\') if self.input[self.pos + 1..].starts_with([quote, '\\']) => {
                        out.push(self.input[self.pos + 1..].chars().next().unwrap_or(quote));
                        self.pos += 2;
                    }
                    Some(c) if c == quote => {
                        self.pos += 1;
                        return Ok(Value::String(out));
                    }
                    Some(c) => {
                        out.push(c);
                        self.pos += c.len_utf8();
                    }
                }
            }
        }
        // A value cannot start with `=` (`foo==bar` is a mistake, as in the AWS CLI).
        if self.peek_char() == Some('=') {
            return Ok(Value::String(String::new()));
        }
        let mut out = String::new();
        while let Some(c) = self.peek_char() {
            if ",]}".contains(c) {
                break;
            }
            // `\,` is a comma inside the value.
            if c == '\\' && self.input[self.pos + 1..].starts_with(',') {
                out.push(',');
                self.pos += 2;
                continue;
            }
            out.push(c);
            self.pos += c.len_utf8();
        }
        Ok(Value::String(out.trim().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use serde_json::json;

    fn shorthand(s: &str) -> Result<Value, ValueError> {
        Shorthand::new(s, "x").parse()
    }

    #[test]
    fn shorthand_table() {
        let cases = [
            (
                "Name=FunctionName,Value=myHelloWorld",
                json!({"Name": "FunctionName", "Value": "myHelloWorld"}),
            ),
            (
                "Variables={A=B,C=D}",
                json!({"Variables": {"A": "B", "C": "D"}}),
            ),
            ("Ids=a,b,c", json!({"Ids": ["a", "b", "c"]})),
            ("Ids=[a,b],N=1", json!({"Ids": ["a", "b"], "N": "1"})),
            ("A=b,c,D=e", json!({"A": ["b", "c"], "D": "e"})),
            ("A='x,y',B=\"q=1\"", json!({"A": "x,y", "B": "q=1"})),
            ("A=", json!({"A": ""})),
            ("A=[{B=c},{B=d}]", json!({"A": [{"B": "c"}, {"B": "d"}]})),
        ];
        for (input, expected) in cases {
            assert_eq!(shorthand(input).unwrap(), expected, "{input}");
        }
    }

    /// The AWS CLI's own test vectors (tests/unit/test_shorthand.py; see the fixture's
    /// `source`): every input parses to the same structure, every bad input is refused.
    #[test]
    fn the_aws_cli_shorthand_vectors() {
        let vectors: Value =
            serde_json::from_str(include_str!("../../fixtures/awscli/shorthand-vectors.json"))
                .unwrap();
        let parses = vectors["parses"].as_array().unwrap();
        let errors = vectors["errors"].as_array().unwrap();
        assert_eq!((parses.len(), errors.len()), (90, 11));
        let mut wrong = Vec::new();
        for case in parses {
            let input = case["input"].as_str().unwrap();
            match shorthand(input) {
                Ok(v) if v == case["expected"] => {}
                other => wrong.push(format!(
                    "{input:?}: {other:?}, expected {}",
                    case["expected"]
                )),
            }
        }
        for case in errors {
            let input = case.as_str().unwrap();
            if let Ok(v) = shorthand(input) {
                wrong.push(format!("{input:?} parsed to {v}, expected an error"));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn shorthand_errors_point_at_the_spot() {
        let err = shorthand("Name=a,Value={x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value for --x: invalid shorthand: expected `=`, found the end\nName=a,Value={x\n               ^"
        );
        let err = shorthand("A={B=c").unwrap_err();
        assert!(err.to_string().contains("expected `}`"), "{err}");
        let err = shorthand("A='open").unwrap_err();
        assert!(err.to_string().contains("never closed"), "{err}");
    }

    #[test]
    fn nesting_is_bounded_before_recursion() {
        // Deep enough to overflow a 2 MiB stack if the parser recursed into it.
        let deep_hash = format!("{}x{}", "A={".repeat(20_000), "}".repeat(20_000));
        let deep_list = format!("A={}x{}", "[".repeat(20_000), "]".repeat(20_000));
        for input in [&deep_hash, &deep_list] {
            let err = shorthand(input).unwrap_err();
            assert!(
                err.to_string().contains("more than 32 levels deep"),
                "{err}"
            );
            // The reply shows a window of the input, not all of it.
            assert!(err.to_string().len() < 400, "{}", err.to_string().len());
        }
        let ok = format!("{}A=x{}", "A={".repeat(31), "}".repeat(31));
        assert!(shorthand(&ok).is_ok());
        let too_deep = format!("{}A=x{}", "A={".repeat(33), "}".repeat(33));
        assert!(shorthand(&too_deep).is_err());
        let json = format!("{}1{}", "[".repeat(33), "]".repeat(33));
        let err = parse_json(&json, "p").unwrap_err().to_string();
        assert!(err.contains("more than 32 levels deep"), "{err}");
        let json = format!("{}1{}", "[".repeat(32), "]".repeat(32));
        assert!(parse_json(&json, "p").is_ok());
    }

    #[test]
    fn long_inputs_are_shown_around_the_spot() {
        let input = format!("{}=", "a".repeat(5_000));
        let err = shorthand(&format!("{input},{input}"))
            .unwrap_err()
            .to_string();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{err}");
        assert!(
            lines[1].starts_with('…') && lines[1].ends_with('…'),
            "{err}"
        );
        // The second key is the duplicate: the caret is just after the comma.
        assert!(err.contains("given twice"), "{err}");
        let caret = lines[2].chars().count() - 1;
        assert_eq!(lines[1].chars().nth(caret - 1), Some(','), "{err}");
    }

    #[test]
    fn json_errors_point_at_the_spot() {
        let err = parse_json("{\"a\": 1 \"b\": 2}", "payload").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("Invalid value for --payload: invalid JSON: expected `,` or `}`"),
            "{text}"
        );
        assert!(text.ends_with("{\"a\": 1 \"b\": 2}\n        ^"), "{text}");
    }

    #[test]
    fn values_are_checked_against_the_model() {
        let cw = Catalog::builtin().service("cloudwatch").unwrap();
        let op = cw.operation("get-metric-statistics").unwrap();
        let members = cw.input_members(op);
        let dims = members.iter().find(|m| m.name == "Dimensions").unwrap();
        let v = from_cli(
            cw,
            &dims.shape,
            &["Name=FunctionName,Value=myHelloWorld".into()],
            "dimensions",
        )
        .unwrap();
        assert_eq!(
            v,
            json!([{"Name": "FunctionName", "Value": "myHelloWorld"}])
        );
        let err = from_cli(
            cw,
            &dims.shape,
            &["Nme=FunctionName,Value=x".into()],
            "dimensions",
        )
        .unwrap_err();
        assert!(err.to_string().contains("Did you mean Name?"), "{err}");
        let period = members.iter().find(|m| m.name == "Period").unwrap();
        assert_eq!(
            from_cli(cw, &period.shape, &["60".into()], "period").unwrap(),
            json!(60)
        );
        assert!(from_cli(cw, &period.shape, &["sixty".into()], "period").is_err());
        let start = members.iter().find(|m| m.name == "StartTime").unwrap();
        assert_eq!(
            from_cli(cw, &start.shape, &["2024-05-01".into()], "start-time").unwrap(),
            json!("2024-05-01T00:00:00Z")
        );
        assert_eq!(
            from_cli(cw, &start.shape, &["0".into()], "start-time").unwrap(),
            json!("1970-01-01T00:00:00Z")
        );
    }
}
