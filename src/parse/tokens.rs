//! Splits a normalized message into words the way a shell would, with two differences that
//! chat needs:
//!
//! * a JSON value may be typed without quotes, spaces and all (`--payload {"a": 1}`): a word
//!   that starts with `{` or `[` runs to its matching bracket;
//! * shell operators (`;`, `|`, `&`, backticks, `$(`, redirections, a second command line) are
//!   kept as [`Token::Operator`] so the guard can refuse the whole message instead of running
//!   part of it.
//!
//! `shell-words` does the quoting but neither of these, so this is written out here.

use crate::limits::{self, LimitError, MAX_NESTING};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Word(String),
    Operator(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the quote {quote} opened at character {at} is never closed")]
    UnclosedQuote { quote: char, at: usize },
    #[error(transparent)]
    Limit(#[from] LimitError),
}

/// Splits `text` into words and operators. Nothing here recurses; the message's length and
/// the nesting of an unquoted JSON word are still bounded, so that the parsers after this one
/// never see more than [`limits`](super::limits) allows.
pub fn tokenize(text: &str) -> Result<Vec<Token>, TokenError> {
    limits::check_message(text)?;
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            // A new line that starts an option continues the command (phones wrap long
            // commands); anything else is a second command.
            let next = chars[i + 1..].iter().position(|c| !c.is_whitespace());
            match next.map(|n| chars[i + 1 + n]) {
                None | Some('-') => {}
                Some(_) => tokens.push(Token::Operator("a new line".into())),
            }
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if let Some((op, len)) = operator_at(&chars, i) {
            tokens.push(Token::Operator(op));
            i += len;
            continue;
        }
        if c == '{' || c == '[' {
            if let Some(end) = matching_bracket(&chars, i)? {
                let mut word: String = chars[i..=end].iter().collect();
                i = end + 1;
                // `{..}x` is not JSON; read the rest as an ordinary word.
                if i < chars.len() && !chars[i].is_whitespace() {
                    let (rest, next) = shell_word(&chars, i)?;
                    word.push_str(&rest);
                    i = next;
                }
                tokens.push(Token::Word(word));
                continue;
            }
        }
        let (word, next) = shell_word(&chars, i)?;
        tokens.push(Token::Word(word));
        i = next;
    }
    Ok(tokens)
}

fn operator_at(chars: &[char], i: usize) -> Option<(String, usize)> {
    let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
    for op in ["&&", "||", "$(", ">>"] {
        if two == op {
            return Some((op.into(), 2));
        }
    }
    match chars[i] {
        c @ (';' | '|' | '&' | '`' | '>' | '<') => Some((c.to_string(), 1)),
        _ => None,
    }
}

/// The index of the bracket closing the one at `start`, skipping brackets inside JSON strings.
/// Nesting deeper than [`MAX_NESTING`] is refused here: no JSON value may be that deep, and
/// stopping early keeps a message of 20,000 open brackets from being scanned once per bracket.
fn matching_bracket(chars: &[char], start: usize) -> Result<Option<usize>, LimitError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate().skip(start) {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(LimitError::TooDeep {
                        what: "The message".into(),
                    });
                }
            }
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(i));
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// One shell word from `start`: quotes group, backslash escapes, whitespace and operators end it.
fn shell_word(chars: &[char], start: usize) -> Result<(String, usize), TokenError> {
    let mut word = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || (i > start && operator_at(chars, i).is_some()) {
            break;
        }
        match c {
            '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&q| q == '\'')
                    .ok_or(TokenError::UnclosedQuote { quote: c, at: i })?;
                word.extend(&chars[i + 1..i + 1 + end]);
                i += end + 2;
            }
            '"' => {
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(TokenError::UnclosedQuote { quote: c, at: i }),
                        Some('"') => break,
                        Some('\\') if matches!(chars.get(j + 1), Some('"' | '\\' | '$' | '`')) => {
                            word.push(chars[j + 1]);
                            j += 2;
                        }
                        Some(&other) => {
                            word.push(other);
                            j += 1;
                        }
                    }
                }
                i = j + 1;
            }
            '\\' if i + 1 < chars.len() => {
                word.push(chars[i + 1]);
                i += 2;
            }
            _ if operator_at(chars, i).is_some() => break,
            _ => {
                word.push(c);
                i += 1;
            }
        }
    }
    Ok((word, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| match t {
                Token::Word(w) => w,
                Token::Operator(o) => format!("<{o}>"),
            })
            .collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("lambda list-functions", &["lambda", "list-functions"]),
            ("a 'b c' \"d e\" f\\ g", &["a", "b c", "d e", "f g"]),
            (
                "invoke f --payload {\"summary\": \"looks good\", \"n\": [1, 2]}",
                &[
                    "invoke",
                    "f",
                    "--payload",
                    "{\"summary\": \"looks good\", \"n\": [1, 2]}",
                ],
            ),
            ("--p '{\"a\": 1}'", &["--p", "{\"a\": 1}"]),
            ("--p {\"a\": \"}\"} x", &["--p", "{\"a\": \"}\"}", "x"]),
            ("--v Variables={A=B}", &["--v", "Variables={A=B}"]),
            ("x; y", &["x", "<;>", "y"]),
            ("x && y", &["x", "<&&>", "y"]),
            ("x || y", &["x", "<||>", "y"]),
            ("x | y", &["x", "<|>", "y"]),
            ("x `id`", &["x", "<`>", "id", "<`>"]),
            ("x $(id)", &["x", "<$(>", "id)"]),
            ("x > out", &["x", "<>>", "out"]),
            ("x 'a;b' \"c|d\"", &["x", "a;b", "c|d"]),
            ("x\n--y 1", &["x", "--y", "1"]),
            (
                "x\nlambda list-functions",
                &["x", "<a new line>", "lambda", "list-functions"],
            ),
            ("--q {unbalanced", &["--q", "{unbalanced"]),
        ];
        for (input, expected) in cases {
            assert_eq!(words(input), *expected, "{input}");
        }
    }

    #[test]
    fn unclosed_quotes_are_errors() {
        assert_eq!(
            tokenize("x 'abc"),
            Err(TokenError::UnclosedQuote { quote: '\'', at: 2 })
        );
        assert!(tokenize("x \"abc").is_err());
    }

    #[test]
    fn nesting_and_length_are_bounded() {
        let deep = format!("--p {}", "[".repeat(20_000));
        assert!(matches!(
            tokenize(&deep),
            Err(TokenError::Limit(LimitError::TooDeep { .. }))
        ));
        // Spaced out, each bracket starts a word of its own: still refused at the first.
        let spaced = format!("--p {}", "[ ".repeat(19_000));
        assert!(matches!(
            tokenize(&spaced),
            Err(TokenError::Limit(LimitError::TooDeep { .. }))
        ));
        let ok = format!(
            "--p {}1{}",
            "[".repeat(MAX_NESTING),
            "]".repeat(MAX_NESTING)
        );
        assert_eq!(tokenize(&ok).unwrap().len(), 2);
        assert!(matches!(
            tokenize(&"a ".repeat(20_001)),
            Err(TokenError::Limit(LimitError::MessageTooLong {
                chars: 40_002
            }))
        ));
        // Brackets inside JSON strings don't count.
        let in_string = format!("--p {{\"a\": \"{}\"}}", "[".repeat(100));
        assert_eq!(tokenize(&in_string).unwrap().len(), 2);
    }
}
