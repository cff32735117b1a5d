//! Size and depth limits for everything in a message that is parsed recursively: the message
//! itself, shorthand and JSON values, and the `--query` JMESPath expression.
//!
//! The parsers recurse once per nesting level (and the `jmespath` crate once per operator), on
//! a tokio worker's stack. Without a bound, a 3 KB message (`--query` of 3,200 `!`, 2,000 `[`,
//! `A={A={…`) overflowed that stack and aborted the whole process. Each limit is checked by
//! a flat scan before the recursive parser sees the text, and names itself in its error.

/// Slack's own limit for a message; the shell and `exec` take no more either.
pub const MAX_MESSAGE_CHARS: usize = 40_000;
/// Brackets (`{`, `[`, `(`) nested in one value or query, and levels of shorthand. The AWS
/// APIs the bot runs nest their structures a handful of levels deep.
pub const MAX_NESTING: usize = 32;
/// The longest `--query`. Real ones are a line or two.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Operators in a `--query` (`.`, `|`, `!`, `&`, comparisons, opening brackets): each can add
/// one level to the expression tree that jmespath builds, walks and drops recursively, at up
/// to 8 KiB of stack a level in a debug build. Real queries use a dozen or two.
pub const MAX_QUERY_OPERATORS: usize = 64;

/// A limit a message went over. Display is the message the user reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("The message is {chars} characters long; I read at most {MAX_MESSAGE_CHARS}.")]
    MessageTooLong { chars: usize },
    #[error(
        "{what} nests brackets more than {MAX_NESTING} levels deep; I read at most {MAX_NESTING}."
    )]
    TooDeep { what: String },
    #[error("The --query is {chars} characters long; I read at most {MAX_QUERY_CHARS}.")]
    QueryTooLong { chars: usize },
    #[error("The --query has {operators} operators (`.`, `|`, `!`, `&`, comparisons, brackets); I read at most {MAX_QUERY_OPERATORS}.")]
    QueryTooComplex { operators: usize },
}

/// The message as a whole.
pub fn check_message(text: &str) -> Result<(), LimitError> {
    // Bytes first: no need to count the characters of a short message.
    if text.len() > MAX_MESSAGE_CHARS {
        let chars = text.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(LimitError::MessageTooLong { chars });
        }
    }
    Ok(())
}

/// The deepest bracket nesting in `text`, counting every `{`, `[` and `(` (also inside
/// strings: an overestimate is safe) and stopping as soon as it exceeds `max`.
pub fn nesting_exceeds(text: &str, max: usize) -> bool {
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '{' | '[' | '(' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// A JSON value: no deeper than [`MAX_NESTING`] (serde_json's own limit is 128).
pub fn check_json(text: &str, what: &str) -> Result<(), LimitError> {
    if nesting_exceeds(text, MAX_NESTING) {
        return Err(LimitError::TooDeep { what: what.into() });
    }
    Ok(())
}

/// A `--query` expression: its length, nesting and number of operators, checked before
/// `jmespath::compile` sees it.
pub fn check_query(expression: &str) -> Result<(), LimitError> {
    let chars = expression.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(LimitError::QueryTooLong { chars });
    }
    if nesting_exceeds(expression, MAX_NESTING) {
        return Err(LimitError::TooDeep {
            what: "The --query".into(),
        });
    }
    let operators = expression
        .chars()
        .filter(|c| ".|!&<>=[{(".contains(*c))
        .count();
    if operators > MAX_QUERY_OPERATORS {
        return Err(LimitError::QueryTooComplex { operators });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_names_itself() {
        let long = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            check_message(&long).unwrap_err().to_string(),
            "The message is 40001 characters long; I read at most 40000."
        );
        // Multi-byte characters count as one.
        assert!(check_message(&"é".repeat(MAX_MESSAGE_CHARS)).is_ok());
        assert_eq!(
            check_query(&"!".repeat(3_200)).unwrap_err(),
            LimitError::QueryTooLong { chars: 3_200 }
        );
        assert_eq!(
            check_query(&"[".repeat(33)).unwrap_err().to_string(),
            "The --query nests brackets more than 32 levels deep; I read at most 32."
        );
        assert_eq!(
            check_query(&"!".repeat(65)).unwrap_err(),
            LimitError::QueryTooComplex { operators: 65 }
        );
        assert!(check_json(&"[".repeat(33), "The value").is_err());
        assert!(check_json(&format!("{}{}", "[".repeat(32), "]".repeat(32)), "v").is_ok());
    }

    #[test]
    fn ordinary_queries_pass() {
        for q in [
            "Functions[].FunctionName",
            "Functions[?Runtime=='python3.12'].{Name: FunctionName, Arn: FunctionArn} | sort_by(@, &Name)",
            "MetricAlarms[?StateValue=='ALARM' && !(ActionsEnabled)].AlarmName",
        ] {
            assert!(check_query(q).is_ok(), "{q}");
        }
    }

    #[test]
    fn sequential_brackets_do_not_add_up() {
        let flat = "[1],".repeat(5_000);
        assert!(!nesting_exceeds(&flat, MAX_NESTING));
    }
}
