//! JMESPath (`--query`, views, notification formats), compiled within the limits every
//! recursive parser keeps, and run without letting the library's panics out. Both parse
//! (which checks a `--query` when it reads it) and render use it, so neither imports the other.

use serde_json::Value;

use crate::limits::{self, LimitError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("--query failed: {0}")]
    Query(String),
    #[error(transparent)]
    Limit(#[from] LimitError),
}

/// Compiles a `--query` expression. The jmespath crate panics on some inputs (a number too
/// large for its lexer, found by the fuzzer), so numbers are checked first and a panic that
/// still escapes is turned into an error: bad input must never take the bot down. It also
/// recurses once per nesting level and operator, which no `catch_unwind` survives (a stack
/// overflow aborts the process), so the expression's size is checked before it compiles.
pub fn compile(expression: &str) -> Result<jmespath::Expression<'static>, QueryError> {
    limits::check_query(expression)?;
    let too_long_number = expression
        .split(|c: char| !c.is_ascii_digit())
        .any(|digits| digits.len() > 9);
    if too_long_number {
        return Err(QueryError::Query(
            "numbers in a query can have at most 9 digits".into(),
        ));
    }
    let owned = expression.to_owned();
    std::panic::catch_unwind(move || jmespath::compile(&owned))
        .map_err(|_| QueryError::Query("the expression cannot be read".into()))?
        .map_err(|e| QueryError::Query(first_line(&e.to_string())))
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

/// Applies `--query` the way the AWS CLI does (JMESPath over the response).
pub fn search(value: Value, expression: &str) -> Result<Value, QueryError> {
    let expr = compile(expression)?;
    let data = jmespath::Variable::from_json(&value.to_string())
        .map_err(|e| QueryError::Query(e.to_string()))?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| expr.search(data)))
        .map_err(|_| QueryError::Query("the expression failed on this result".into()))?
        .map_err(|e| QueryError::Query(first_line(&e.to_string())))?;
    serde_json::to_value(&*result).map_err(|e| QueryError::Query(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The worst queries within the limits compile, run and drop on 768 KiB of stack in a
    /// debug build (a tokio worker has 2 MiB; debug frames of the jmespath parser take about
    /// 8 KiB a level, so 132 levels overflowed 1 MiB when this was measured).
    #[test]
    fn the_largest_queries_allowed_fit_on_a_small_stack() {
        use crate::limits::{MAX_NESTING, MAX_QUERY_OPERATORS};
        let n = MAX_QUERY_OPERATORS;
        let nested = |open: &str, close: &str| {
            format!("{}@{}", open.repeat(MAX_NESTING), close.repeat(MAX_NESTING))
        };
        let worst = [
            format!("{}a", "!".repeat(n)),
            vec!["a"; n + 1].join("."),
            vec!["a"; n + 1].join("|"),
            vec!["a"; n / 2 + 1].join("||"),
            vec!["a"; n / 2 + 1].join("&&"),
            format!("a{}", "[]".repeat(n / 2)),
            format!("a{}", "[*].b".repeat(n / 3)),
            format!("{}@", "&".repeat(n)),
            nested("(", ")"),
            nested("[", "]"),
            nested("{a: ", "}"),
            format!("`{}1{}`", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING)),
        ];
        let mut data = json!("x");
        for _ in 0..100 {
            data = json!({"a": [data]});
        }
        let handle = std::thread::Builder::new()
            .stack_size(768 * 1024)
            .spawn(move || {
                for q in &worst {
                    assert!(crate::limits::check_query(q).is_ok(), "{q}");
                    let _ = search(data.clone(), q);
                }
            })
            .unwrap();
        handle.join().expect("no stack overflow");
        assert!(compile(&"!".repeat(3_200)).is_err());
        assert!(compile(&"[".repeat(2_000)).is_err());
    }

    #[test]
    fn query_uses_jmespath() {
        let v = json!({"Functions": [{"FunctionName": "a"}, {"FunctionName": "b"}]});
        assert_eq!(
            search(v, "Functions[].FunctionName").unwrap(),
            json!(["a", "b"])
        );
    }
}
