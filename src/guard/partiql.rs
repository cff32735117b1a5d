//! PartiQL statements (`dynamodb execute-statement`), read as far as IAM needs them. IAM
//! authorizes a statement by its kind, not by the API operation that carries it: a SELECT
//! needs `dynamodb:PartiQLSelect` on the table (or index) it reads, an INSERT
//! `dynamodb:PartiQLInsert`, and so on. So the guard needs the statement's first keyword and
//! the table it names.
//!
//! Only what two PartiQL readers would read alike is accepted: anything the bot can't read
//! for certain (an unknown first keyword, a table it can't find, a comment inside a comment,
//! a line break other than a newline ending a line comment, a backslash in quotes, a second
//! statement) is a [`StatementError`], and the guard refuses the command with it.

use thiserror::Error;

/// What a statement does, by its first keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Select,
    Insert,
    Update,
    Delete,
}

impl Kind {
    /// The key of the kind's IAM action in `commands/` (`select` → `dynamodb:PartiQLSelect`).
    pub fn key(self) -> &'static str {
        match self {
            Kind::Select => "select",
            Kind::Insert => "insert",
            Kind::Update => "update",
            Kind::Delete => "delete",
        }
    }
}

/// What IAM needs to know about one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub kind: Kind,
    /// The table it reads or writes, unquoted.
    pub table: String,
    /// The index a SELECT reads (`FROM "table"."index"`).
    pub index: Option<String>,
}

/// Why the bot can't tell what a statement asks for; Display is what the user reads.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StatementError {
    #[error("the statement is empty")]
    Empty,
    #[error("a `/*` comment is not closed")]
    UnclosedComment,
    #[error("it has a comment inside a comment (`/*` within `/* … */`), which PartiQL readers don't all read alike")]
    NestedComment,
    #[error("a `--` comment ends in a line break other than a newline, which PartiQL readers don't all read alike")]
    LineBreak,
    #[error("a quoted name or string is not closed")]
    Unclosed,
    #[error("it has a backslash inside quotes, which PartiQL readers don't all read alike")]
    Backslash,
    #[error(
        "it starts with `{0}`, and only SELECT, INSERT, UPDATE and DELETE statements are known"
    )]
    Kind(String),
    #[error("the bot can't find the table it {0}")]
    NoTable(&'static str),
    #[error(
        "`{0}` is not a DynamoDB table or index name (3 to 255 letters, digits, `_`, `-` or `.`)"
    )]
    BadName(String),
    #[error("it holds more than one statement (`;`)")]
    Several,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Letters, digits and `_`: a keyword or an unquoted name.
    Word(String),
    /// `"name"`, unquoted (`""` is one `"`).
    Quoted(String),
    /// `'text'`.
    Text,
    /// Anything else, one character.
    Mark(char),
}

/// Reads a statement: its kind and the table (and index) it names.
pub fn read(statement: &str) -> Result<Statement, StatementError> {
    let tokens = tokens(statement)?;
    // One statement: a `;` only at the end.
    if let Some(at) = tokens.iter().position(|t| *t == Token::Mark(';')) {
        if tokens[at..].iter().any(|t| *t != Token::Mark(';')) {
            return Err(StatementError::Several);
        }
    }
    let mut rest = tokens.iter().take_while(|t| **t != Token::Mark(';'));
    let first = rest.next().ok_or(StatementError::Empty)?;
    let kind = match first {
        Token::Word(w) if w.eq_ignore_ascii_case("select") => Kind::Select,
        Token::Word(w) if w.eq_ignore_ascii_case("insert") => Kind::Insert,
        Token::Word(w) if w.eq_ignore_ascii_case("update") => Kind::Update,
        Token::Word(w) if w.eq_ignore_ascii_case("delete") => Kind::Delete,
        other => return Err(StatementError::Kind(shown(other))),
    };
    let verb = match kind {
        Kind::Select => "reads",
        _ => "changes",
    };
    let is_word = |t: Option<&Token>, word: &str| matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(word));
    match kind {
        // The first `FROM` outside parentheses and brackets ends the projection.
        Kind::Select => {
            let mut depth = 0usize;
            loop {
                match rest.next() {
                    None => return Err(StatementError::NoTable(verb)),
                    Some(Token::Mark('(' | '[' | '{')) => depth += 1,
                    Some(Token::Mark(')' | ']' | '}')) => depth = depth.saturating_sub(1),
                    Some(Token::Word(w)) if depth == 0 && w.eq_ignore_ascii_case("from") => break,
                    Some(_) => {}
                }
            }
        }
        Kind::Insert if !is_word(rest.next(), "into") => return Err(StatementError::NoTable(verb)),
        Kind::Delete if !is_word(rest.next(), "from") => return Err(StatementError::NoTable(verb)),
        _ => {}
    }
    let table = name(rest.next()).ok_or(StatementError::NoTable(verb))?;
    let mut index = None;
    let mut next = rest.next();
    if next == Some(&Token::Mark('.')) {
        index = Some(name(rest.next()).ok_or(StatementError::NoTable(verb))?);
        next = rest.next();
    }
    // After the table, a keyword (WHERE, SET, VALUE…) or the end: anything else means the
    // name went on in a way the bot doesn't read (`my-table` unquoted, a third part).
    if !matches!(next, None | Some(Token::Word(_))) {
        return Err(StatementError::NoTable(verb));
    }
    for name in std::iter::once(&table).chain(&index) {
        if !is_dynamodb_name(name) {
            return Err(StatementError::BadName(name.clone()));
        }
    }
    Ok(Statement { kind, table, index })
}

fn name(token: Option<&Token>) -> Option<String> {
    match token? {
        Token::Word(w) | Token::Quoted(w) => Some(w.clone()),
        _ => None,
    }
}

/// DynamoDB's rule for table and index names.
fn is_dynamodb_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn shown(token: &Token) -> String {
    match token {
        Token::Word(w) => w.chars().take(40).collect(),
        Token::Quoted(q) => format!("\"{}\"", q.chars().take(40).collect::<String>()),
        Token::Text => "a string".into(),
        Token::Mark(c) => c.escape_default().to_string(),
    }
}

/// Line breaks some readers end a `--` comment with; only `\n` (or `\r\n`) is accepted.
fn is_other_line_break(c: char) -> bool {
    matches!(
        c,
        '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// The statement's tokens, without whitespace (ASCII only) and comments.
fn tokens(text: &str) -> Result<Vec<Token>, StatementError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_ascii_whitespace() => {}
            '-' if text[at..].starts_with("--") => {
                let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
                let mut comment = &text[at..end];
                if end < text.len() {
                    comment = comment.strip_suffix('\r').unwrap_or(comment);
                }
                if comment.chars().any(is_other_line_break) {
                    return Err(StatementError::LineBreak);
                }
                while chars.next_if(|(i, _)| *i < end).is_some() {}
            }
            '/' if text[at..].starts_with("/*") => {
                let body = &text[at + 2..];
                let close = body.find("*/").ok_or(StatementError::UnclosedComment)?;
                if body[..close].contains("/*") {
                    return Err(StatementError::NestedComment);
                }
                let end = at + 2 + close + 2;
                while chars.next_if(|(i, _)| *i < end).is_some() {}
            }
            '"' | '\'' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err(StatementError::Unclosed),
                        Some((_, '\\')) => return Err(StatementError::Backslash),
                        Some((_, q)) if q == c => {
                            // A doubled quote is one quote inside.
                            if chars.next_if(|(_, n)| *n == c).is_some() {
                                value.push(c);
                            } else {
                                break;
                            }
                        }
                        Some((_, other)) => value.push(other),
                    }
                }
                tokens.push(if c == '"' {
                    Token::Quoted(value)
                } else {
                    Token::Text
                });
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let mut word = String::from(c);
                while let Some((_, n)) =
                    chars.next_if(|(_, n)| n.is_ascii_alphanumeric() || *n == '_')
                {
                    word.push(n);
                }
                tokens.push(Token::Word(word));
            }
            other => tokens.push(Token::Mark(other)),
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (Kind, String, Option<String>) {
        let s = read(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        (s.kind, s.table, s.index)
    }

    #[test]
    fn kinds_and_tables() {
        for (text, kind, table, index) in [
            ("SELECT * FROM Music", Kind::Select, "Music", None),
            (
                "select * from \"Music\" where Artist='No One'",
                Kind::Select,
                "Music",
                None,
            ),
            (
                "  \n\tSeLeCt a, b FROM \"my-table\".\"by-artist\"",
                Kind::Select,
                "my-table",
                Some("by-artist"),
            ),
            (
                "-- why\nSELECT \"FROM\", 'FROM x' FROM \"t.1\" WHERE a IN [1,2]",
                Kind::Select,
                "t.1",
                None,
            ),
            (
                "/* a */ SELECT size(\"from\") FROM tbl;",
                Kind::Select,
                "tbl",
                None,
            ),
            ("SELECT*FROM\"Music\"", Kind::Select, "Music", None),
            ("SELECT * FROM \"a\"\"b\" ", Kind::Select, "a\"b", None),
            (
                "INSERT INTO \"Music\" VALUE {'Artist': 'x'}",
                Kind::Insert,
                "Music",
                None,
            ),
            ("update Music SET a = 1", Kind::Update, "Music", None),
            (
                "DELETE FROM Music WHERE Artist = 'x'",
                Kind::Delete,
                "Music",
                None,
            ),
            ("-- a\r\nSELECT * FROM Music", Kind::Select, "Music", None),
        ] {
            if table.contains('"') {
                assert_eq!(read(text), Err(StatementError::BadName(table.into())));
                continue;
            }
            assert_eq!(
                ok(text),
                (kind, table.into(), index.map(Into::into)),
                "{text}"
            );
        }
    }

    #[test]
    fn what_the_bot_cant_read_for_certain_is_an_error() {
        for (text, error) in [
            ("", StatementError::Empty),
            ("  -- nothing\n /* at all */ ", StatementError::Empty),
            ("/* SELECT", StatementError::UnclosedComment),
            (
                "/* /* */ SELECT * FROM t */ DELETE FROM t",
                StatementError::NestedComment,
            ),
            (
                "-- x\rDELETE FROM Music\nSELECT * FROM Music",
                StatementError::LineBreak,
            ),
            ("-- x\u{2028}SELECT * FROM Music", StatementError::LineBreak),
            ("SELECT * FROM \"Music", StatementError::Unclosed),
            ("SELECT 'a\\' FROM Music", StatementError::Backslash),
            (
                "EXISTS(SELECT * FROM Music)",
                StatementError::Kind("EXISTS".into()),
            ),
            ("(SELECT * FROM Music)", StatementError::Kind("(".into())),
            (
                "\u{a0}SELECT * FROM Music",
                StatementError::Kind("\\u{a0}".into()),
            ),
            (
                "ſelect * FROM Music",
                StatementError::Kind("\\u{17f}".into()),
            ),
            (
                "SELECTX * FROM Music",
                StatementError::Kind("SELECTX".into()),
            ),
            ("SELECT * FROM my-table", StatementError::NoTable("reads")),
            ("SELECT * FROM ?", StatementError::NoTable("reads")),
            ("SELECT * FROM a.b.c", StatementError::NoTable("reads")),
            ("SELECT 1", StatementError::NoTable("reads")),
            ("SELECT (x FROM y) ", StatementError::NoTable("reads")),
            ("DELETE Music", StatementError::NoTable("changes")),
            (
                "SELECT * FROM \"a/b\"",
                StatementError::BadName("a/b".into()),
            ),
            ("SELECT * FROM ab", StatementError::BadName("ab".into())),
            (
                "SELECT * FROM Music; DELETE FROM Music",
                StatementError::Several,
            ),
        ] {
            assert_eq!(read(text), Err(error), "{text:?}");
        }
    }
}
