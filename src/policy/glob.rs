//! IAM wildcard matching for actions and ARNs.
//!
//! IAM matches a resource ARN segment by segment: the pattern and the ARN are each cut at
//! their first five `:` into partition, service, region, account and the resource part, and
//! each pattern segment must match the ARN's segment of the same rank. A wildcard therefore
//! never reaches past the `:` that closes the partition, service, region or account
//! (`arn:aws:lambda:us-*-1:...` does not match a region `us-x:y-1`, and an account `*` does
//! not swallow part of the resource). The resource part is the rest of the ARN, `:` and `/`
//! included, and is one segment: there `*` matches any run of characters, so
//! `function:my-*-x` matches `function:my-a:b-x`, and `function:*` matches the qualified
//! `function:f:PROD`. `?` matches exactly one character, `:` and `/` included.
//!
//! This is what the reference evaluator of `tests/guardrail_reference.rs`
//! (`@cloud-copilot/iam-simulate`) does, and what IAM's documentation describes: wildcards
//! work within the colon-separated segments, and a `*` that ends the (last) segment "can
//! expand to match beyond the colon boundaries". Partition, service, region and account are
//! compared ignoring ASCII case, as the reference does (their real values are lower case);
//! the resource part is case-sensitive.
//!
//! Matching is the classic greedy wildcard algorithm: on a mismatch it backtracks to the
//! most recent `*` only, so it takes O(pattern × text) steps in the worst case, with no
//! recursion and no allocation.

/// A compiled wildcard pattern: one segment for an action or for the resource `*`, six
/// for an ARN pattern.
#[derive(Debug, Clone)]
pub(super) struct Glob {
    /// The pattern as written (lower-cased for actions).
    pub(super) source: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
struct Segment {
    tokens: Vec<Token>,
    /// Compare letters ignoring ASCII case (the pattern's are stored lower-cased).
    fold_case: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
}

/// An ARN has six `:`-separated parts; the sixth (the resource part) may hold more `:`.
const ARN_PARTS: usize = 6;
/// Partition, service, region and account (after the leading `arn`) ignore case.
const CASE_FOLDED_PARTS: usize = 5;

impl Glob {
    /// Action patterns: matched case-insensitively, so the pattern is lower-cased
    /// here and the action at evaluation. `*` matches anything, `:` included.
    pub(super) fn action(pattern: &str) -> Glob {
        Glob::compile(&pattern.to_lowercase(), false)
    }

    /// Resource patterns: `*`, or an ARN matched segment by segment (see the module doc).
    pub(super) fn resource(pattern: &str) -> Glob {
        Glob::compile(pattern, true)
    }

    /// `arn`: cut the pattern into ARN segments if it is an ARN (starts with `arn:`);
    /// otherwise, or if `arn` is false, the pattern is one case-sensitive segment.
    pub(super) fn compile(pattern: &str, arn: bool) -> Glob {
        let segments = if arn && pattern.starts_with("arn:") {
            pattern
                .splitn(ARN_PARTS, ':')
                .enumerate()
                .map(|(i, part)| Segment::compile(part, i < CASE_FOLDED_PARTS))
                .collect()
        } else {
            vec![Segment::compile(pattern, false)]
        };
        Glob {
            source: pattern.to_string(),
            segments,
        }
    }

    /// Whether `text` matches. An ARN pattern matches only an ARN cut into as many
    /// segments, each matching its own.
    pub(super) fn matches(&self, text: &str) -> bool {
        if let [only] = self.segments.as_slice() {
            return only.matches(text);
        }
        let mut parts = text.splitn(self.segments.len(), ':');
        self.segments
            .iter()
            .all(|segment| parts.next().is_some_and(|part| segment.matches(part)))
    }
}

impl Segment {
    fn compile(pattern: &str, fold_case: bool) -> Segment {
        let tokens = pattern
            .chars()
            .map(|c| match c {
                '*' => Token::AnyRun,
                '?' => Token::AnyOne,
                c if fold_case => Token::Literal(c.to_ascii_lowercase()),
                c => Token::Literal(c),
            })
            .collect();
        Segment { tokens, fold_case }
    }

    /// Greedy matching with backtracking to the last `*` only: when a `*` is followed by
    /// a mismatch, that `*` takes one more character and matching resumes after it. An
    /// earlier `*` never needs to take more, since the later one can absorb anything.
    fn matches(&self, text: &str) -> bool {
        let tokens = &self.tokens;
        let (mut t, mut at) = (0, 0); // next token; byte offset in text
                                      // After the last `*` seen: the token after it, and where its run ends in text.
        let mut last_star: Option<(usize, usize)> = None;
        loop {
            let next = text[at..].chars().next();
            match (tokens.get(t), next) {
                (None, None) => return true,
                (Some(Token::AnyRun), _) => {
                    t += 1;
                    last_star = Some((t, at));
                    continue;
                }
                (Some(Token::AnyOne), Some(c)) => {
                    t += 1;
                    at += c.len_utf8();
                    continue;
                }
                (Some(Token::Literal(l)), Some(c)) if self.same(*l, c) => {
                    t += 1;
                    at += c.len_utf8();
                    continue;
                }
                _ => {}
            }
            // Mismatch: let the last `*` take one more character, or fail.
            let Some((after_star, run_end)) = last_star else {
                return false;
            };
            let Some(c) = text[run_end..].chars().next() else {
                return false;
            };
            let run_end = run_end + c.len_utf8();
            last_star = Some((after_star, run_end));
            t = after_star;
            at = run_end;
        }
    }

    fn same(&self, pattern: char, c: char) -> bool {
        pattern == c || (self.fold_case && pattern == c.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_wildcards() {
        let cases = [
            ("*", "", true),
            ("*", "anything:at:all", true),
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            ("a*", "a", true),
            ("*a", "ba", true),
            ("*a", "ab", false),
            ("a**b", "ab", true),
            ("?", "", false),
            ("?", "é", true),
            ("??", "é", false),
            ("a?c", "a:c", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXcYb", false),
            ("*ab", "aab", true),
            ("a*ab", "aaab", true),
            ("*a?b*", "xxa:bc", true),
            ("Ab", "ab", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(
                Glob::compile(pattern, false).matches(text),
                want,
                "{pattern} vs {text}"
            );
        }
    }

    #[test]
    fn pathological_patterns_finish_at_once() {
        let text = "a".repeat(5000);
        assert!(!Glob::compile("*a*a*a*a*a*a*a*a*a*b", false).matches(&text));
        assert!(Glob::compile("*a*a*a*a*a*a*a*a*a*", false).matches(&text));
        let arn = format!("arn:aws:s3:::{text}");
        assert!(!Glob::resource("arn:aws:s3:::*a*a*a*a*a*a*a*a*b").matches(&arn));
    }

    #[test]
    fn arn_segments() {
        let cases = [
            // A wildcard in partition, region or account stays within its segment...
            (
                "arn:aws:logs:us-*-1:111111111111:log-group:app",
                "arn:aws:logs:us-x:y-1:111111111111:log-group:app",
                false,
            ),
            (
                "arn:aws:lambda:us-east-1:*:function:x",
                "arn:aws:lambda:us-east-1:111111111111:function:y:function:x",
                false,
            ),
            (
                "arn:*:lambda:*:*:function:x",
                "arn:aws:lambda:us-east-1:111111111111:function:x",
                true,
            ),
            (
                "arn:aws:lambda:us-east-?:11111111111?:function:x",
                "arn:aws:lambda:us-east-1:111111111111:function:x",
                true,
            ),
            // ...and ignores case there.
            (
                "arn:AWS:Lambda:US-*-1:111111111111:function:x",
                "arn:aws:lambda:us-east-1:111111111111:function:x",
                true,
            ),
            // The resource part is one segment: `*` crosses `:` and `/` wherever it stands.
            (
                "arn:aws:lambda:*:111111111111:function:my-*-x",
                "arn:aws:lambda:us-east-1:111111111111:function:my-a:b-x",
                true,
            ),
            (
                "arn:aws:lambda:*:111111111111:function:my-*",
                "arn:aws:lambda:us-east-1:111111111111:function:my-api:PROD",
                true,
            ),
            (
                "arn:aws:lambda:*:*:function*",
                "arn:aws:lambda:us-east-1:111111111111:function:f:PROD",
                true,
            ),
            (
                "arn:aws:lambda:*:*:*",
                "arn:aws:lambda:us-east-1:111111111111:function:f:PROD",
                true,
            ),
            (
                "arn:aws:s3:::bucket-?/*/k",
                "arn:aws:s3:::bucket-a/x/y:z/k",
                true,
            ),
            // It is case-sensitive.
            (
                "arn:aws:lambda:*:*:function:x",
                "arn:aws:lambda:us-east-1:111111111111:function:X",
                false,
            ),
            (
                "arn:aws:lambda:*:*:function:x",
                "arn:aws:lambda:us-east-1:111111111111:function:x:PROD",
                false,
            ),
            // A text with fewer segments than the pattern does not match.
            ("arn:aws:s3:::*", "arn:aws:s3", false),
            ("arn:aws:s3:::*", "arn:aws:s3:::", true),
            // The pattern `*` is one segment and matches anything.
            ("*", "arn:aws:s3:::b/k", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(
                Glob::resource(pattern).matches(text),
                want,
                "{pattern} vs {text}"
            );
        }
    }
}
