//! IAM wildcard matching for actions and ARNs.

/// A compiled wildcard pattern: `*` matches any run of characters (including none),
/// `?` exactly one.
///
/// For resources, IAM documents that wildcards work within an ARN segment and that
/// a `*` may match beyond the segment's `:` boundaries only when it is the last
/// character of its segment. So `arn:aws:lambda:*:111111111111:function:my-*` matches
/// `...:function:my-fn:PROD` (the last `*` spans the qualifier), while in
/// `arn:aws:lambda:us-*-1:...` the `*` cannot swallow a `:`.
#[derive(Debug, Clone)]
pub(super) struct Glob {
    /// The pattern as written (lower-cased for actions).
    pub(super) source: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun { crosses_colon: bool },
}

impl Glob {
    /// Action patterns: matched case-insensitively, so the pattern is lower-cased
    /// here and the action at evaluation. `*` matches anything, `:` included.
    pub(super) fn action(pattern: &str) -> Glob {
        Glob::compile(&pattern.to_lowercase(), false)
    }

    /// Resource patterns: case-sensitive, with IAM's segment rule for `*`.
    pub(super) fn resource(pattern: &str) -> Glob {
        Glob::compile(pattern, true)
    }

    pub(super) fn compile(pattern: &str, segment_rule: bool) -> Glob {
        let chars: Vec<char> = pattern.chars().collect();
        let tokens = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| match c {
                '*' => Token::AnyRun {
                    crosses_colon: !segment_rule || matches!(chars.get(i + 1), None | Some(':')),
                },
                '?' => Token::AnyOne,
                c => Token::Literal(c),
            })
            .collect();
        Glob {
            source: pattern.to_string(),
            tokens,
        }
    }

    /// Simulates the pattern as a set of states (one per token position), so the cost
    /// is O(pattern × text) whatever the pattern, with no recursion or backtracking.
    pub(super) fn matches(&self, text: &str) -> bool {
        let n = self.tokens.len();
        let mut current = vec![false; n + 1];
        let mut next = vec![false; n + 1];
        current[0] = true;
        self.close(&mut current);
        for c in text.chars() {
            next.iter_mut().for_each(|s| *s = false);
            let mut any = false;
            for i in 0..n {
                if !current[i] {
                    continue;
                }
                match self.tokens[i] {
                    Token::Literal(l) if l == c => {
                        next[i + 1] = true;
                        any = true;
                    }
                    Token::AnyOne => {
                        next[i + 1] = true;
                        any = true;
                    }
                    Token::AnyRun { crosses_colon } if crosses_colon || c != ':' => {
                        next[i] = true;
                        any = true;
                    }
                    _ => {}
                }
            }
            if !any {
                return false;
            }
            self.close(&mut next);
            std::mem::swap(&mut current, &mut next);
        }
        current[n]
    }

    /// A `*` may match nothing: whoever stands before it also stands after it.
    fn close(&self, states: &mut [bool]) {
        for i in 0..self.tokens.len() {
            if states[i] && matches!(self.tokens[i], Token::AnyRun { .. }) {
                states[i + 1] = true;
            }
        }
    }
}
