//! Credential formats beyond CloudWatch's, from gitleaks' default ruleset (MIT), vendored as
//! data in `src/audit/rules/gitleaks.toml` with its version pinned there. Each rule keeps
//! gitleaks' regex, keywords (a prefilter: a rule runs only when one of its keywords is in
//! the text), entropy floor, secret group and allowlists; its masked name is its id in
//! camel case (`github-pat` → `****(GithubPat)`).
//!
//! gitleaks speaks Go's RE2 syntax, which the `regex` crate shares but for one thing: RE2's
//! `\w`, `\d`, `\s` and `\b` are ASCII, Rust's Unicode. [`re2_classes`] spells them out in
//! ASCII, which keeps each rule's meaning and keeps the big ones (`generic-api-key`) within
//! the regex size limit and on the fast engines. Rules that cannot apply to text are skipped,
//! each with its reason, in [`SKIPPED`]. A test compiles every rule.

use std::sync::{Arc, LazyLock, OnceLock};

use regex::Regex;
use serde::Deserialize;

use super::{Group, Near, Rule};

/// The vendored ruleset.
const RULESET: &str = include_str!("../rules/gitleaks.toml");

/// Rules left out on purpose, with the reason (reviewed when the ruleset is updated).
pub const SKIPPED: &[(&str, &str)] = &[(
    "pkcs12-file",
    "matches file names (*.p12, *.pfx), not text; there is no file path in a log line",
)];

/// gitleaks ends most rules with this terminator (the secret must be followed by a quote,
/// space, `;` or the end); in prose a secret is as often followed by `,`, `.` or a bracket,
/// so those end it too. The terminator is outside the secret group, so nothing else changes.
const TERMINATOR: &str = r#"(?:[\x60'"\s;]|\\[nr]|$)"#;
const PROSE_TERMINATOR: &str = r#"(?:[\x60'"\s;,.)\]}>]|\\[nr]|$)"#;

/// Keys the generic rule must not take for secrets in AWS requests: pagination and
/// idempotency tokens, and names of things about a secret (`SecretId`, `key_arn`).
const GENERIC_ALLOWED_KEYS: &str = r"(?i)(?:next|pagination|continuation|starting|client|idempotency|page|sync)[_-]?token|(?:secret|key|token|password|access|auth|credential)s?[_-]?(?:id|ids|arn|name|type|version|length|count|mode|policy|rotation|expir\w*|ttl|enabled|set|present)\b|\bkey[_-]?(?:name|pair|id|usage|state|spec|manager|alias)";

/// gitleaks' rule that catches any high-entropy value after a secret-sounding key: applied
/// after the bot's own `key=value` rule, so known keys keep the name `Secret`.
const GENERIC: &str = "generic-api-key";

#[derive(Deserialize)]
struct Ruleset {
    allowlist: Option<RawAllowlist>,
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: String,
    regex: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    entropy: Option<f32>,
    secret_group: Option<usize>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAllowlist {
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    condition: Option<String>,
}

/// What an allowlist's regexes are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Secret,
    Match,
    Line,
}

/// Values that are not secrets after all (placeholders, examples, stop words).
pub(super) struct Allowlist {
    target: Target,
    patterns: Vec<String>,
    regexes: OnceLock<Vec<Regex>>,
    /// Lower case; a secret containing one is allowed.
    stopwords: Vec<String>,
    /// The stop words as one automaton (the generic rule has some 1,500), built on first use.
    stopword_finder: OnceLock<Option<aho_corasick::AhoCorasick>>,
}

impl Allowlist {
    /// `None` when the allowlist can never apply to text: it needs a file path (`paths`
    /// with `condition = "AND"`, or paths only).
    fn from_raw(raw: RawAllowlist) -> Option<Allowlist> {
        let and = raw.condition.as_deref() == Some("AND");
        if (and && !raw.paths.is_empty()) || (raw.regexes.is_empty() && raw.stopwords.is_empty()) {
            return None;
        }
        Some(Allowlist {
            target: match raw.regex_target.as_deref() {
                Some("match") => Target::Match,
                Some("line") => Target::Line,
                _ => Target::Secret,
            },
            patterns: raw.regexes,
            regexes: OnceLock::new(),
            stopwords: raw.stopwords.iter().map(|s| s.to_lowercase()).collect(),
            stopword_finder: OnceLock::new(),
        })
    }

    fn regexes(&self) -> &[Regex] {
        self.regexes.get_or_init(|| {
            self.patterns
                .iter()
                .filter_map(|p| Regex::new(&re2_classes(p)).ok())
                .collect()
        })
    }

    fn allows(&self, secret: &str, whole: &str, line: &str) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => whole,
            Target::Line => line,
        };
        if self.regexes().iter().any(|r| r.is_match(target)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let finder = self.stopword_finder.get_or_init(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&self.stopwords)
                .ok()
        });
        match finder {
            Some(finder) => finder.is_match(secret),
            None => {
                let lower = secret.to_lowercase();
                self.stopwords.iter().any(|w| lower.contains(w.as_str()))
            }
        }
    }
}

/// Whether one of a rule's allowlists lets this value through.
pub(super) fn allowed(allow: &[Arc<Allowlist>], secret: &str, whole: &str, line: &str) -> bool {
    allow.iter().any(|a| a.allows(secret, whole, line))
}

/// A gitleaks (RE2) pattern with its Perl classes spelled out in ASCII, as RE2 reads them:
/// `\w` → `[0-9A-Za-z_]`, `\d` → `[0-9]`, `\s` → `[\t\n\f\r ]`, `\b` → `(?-u:\b)`, in and
/// out of bracketed classes.
pub(super) fn re2_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 32);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    // Just after `[` or `[^`, where a `]` is a literal.
    let mut class_start = false;
    while let Some(c) = chars.next() {
        let at_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push(c);
                    break;
                };
                let (inside, outside) = match e {
                    'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]"),
                    'd' => ("0-9", "[0-9]"),
                    's' => ("\\t\\n\\f\\r ", "[\\t\\n\\f\\r ]"),
                    'W' if !in_class => ("", "[^0-9A-Za-z_]"),
                    'D' if !in_class => ("", "[^0-9]"),
                    'S' if !in_class => ("", "[^\\t\\n\\f\\r ]"),
                    'b' if !in_class => ("", "(?-u:\\b)"),
                    'B' if !in_class => ("", "(?-u:\\B)"),
                    _ => {
                        out.push(c);
                        out.push(e);
                        continue;
                    }
                };
                out.push_str(if in_class { inside } else { outside });
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push(c);
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class inside a bracket, `[[:alpha:]]`: copy it whole.
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == ']' {
                        break;
                    }
                }
            }
            // RE2 reads a `{` that opens no repetition (`{{…}}` in templates) as a literal.
            '{' if !in_class && !opens_repetition(chars.clone()) => out.push_str("\\{"),
            ']' if in_class && !at_start => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Whether the text after a `{` is a repetition's `n}`, `n,}` or `n,m}`.
fn opens_repetition(rest: impl Iterator<Item = char>) -> bool {
    let inner: String = rest.take_while(|c| *c != '}').take(12).collect();
    let mut parts = inner.splitn(2, ',');
    let min = parts.next().unwrap_or("");
    let max = parts.next();
    !min.is_empty()
        && min.bytes().all(|b| b.is_ascii_digit())
        && max.is_none_or(|m| m.bytes().all(|b| b.is_ascii_digit()))
}

/// `github-pat` → `GithubPat`.
fn camel_case(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn parse() -> Ruleset {
    toml::from_str(RULESET).expect("src/audit/rules/gitleaks.toml is a gitleaks ruleset")
}

/// The ruleset's rules, not compiled yet: (vendor-specific rules, the generic rule).
pub(super) fn rules() -> (Vec<Rule>, Vec<Rule>) {
    let ruleset = parse();
    let global = ruleset
        .allowlist
        .and_then(Allowlist::from_raw)
        .map(Arc::new);
    let mut specific = Vec::new();
    let mut generic = Vec::new();
    for raw in ruleset.rules {
        let Some(pattern) = raw.regex else { continue };
        if SKIPPED.iter().any(|(id, _)| *id == raw.id) {
            continue;
        }
        let mut allow: Vec<Arc<Allowlist>> = global.iter().cloned().collect();
        allow.extend(
            raw.allowlists
                .into_iter()
                .filter_map(Allowlist::from_raw)
                .map(Arc::new),
        );
        if raw.id == GENERIC {
            allow.push(Arc::new(Allowlist {
                target: Target::Match,
                patterns: vec![GENERIC_ALLOWED_KEYS.to_owned()],
                regexes: OnceLock::new(),
                stopwords: Vec::new(),
                stopword_finder: OnceLock::new(),
            }));
        }
        let pattern = re2_classes(&pattern.replace(TERMINATOR, PROSE_TERMINATOR));
        let rule = Rule {
            group: match raw.secret_group {
                Some(g) if g > 0 => Group::Index(g),
                _ => Group::FirstNonEmpty,
            },
            keywords: raw.keywords.iter().map(|k| k.to_lowercase()).collect(),
            near: Near::Anywhere,
            entropy: raw.entropy,
            allow,
            ..Rule::new(&camel_case(&raw.id), &pattern)
        };
        if raw.id == GENERIC {
            generic.push(rule);
        } else {
            specific.push(rule);
        }
    }
    (specific, generic)
}

/// What became of each rule of the vendored ruleset: compiled, or skipped and why.
#[derive(Debug, Default)]
pub struct GitleaksReport {
    /// (rule id, masked name) of every rule that compiled.
    pub compiled: Vec<(String, String)>,
    /// (rule id, reason) of every rule left out: in [`SKIPPED`], or not compiling.
    pub skipped: Vec<(String, String)>,
}

/// Compiles every rule of the vendored ruleset (for its test and for diagnostics; masking
/// compiles each rule on first use).
pub fn gitleaks_rules_report() -> GitleaksReport {
    static REPORT: LazyLock<GitleaksReport> = LazyLock::new(|| {
        let mut report = GitleaksReport::default();
        for raw in parse().rules {
            if let Some((_, why)) = SKIPPED.iter().find(|(id, _)| *id == raw.id) {
                report.skipped.push((raw.id, (*why).to_owned()));
                continue;
            }
            let Some(pattern) = raw.regex else {
                report.skipped.push((raw.id, "has no regex".into()));
                continue;
            };
            match Regex::new(&re2_classes(&pattern.replace(TERMINATOR, PROSE_TERMINATOR))) {
                Ok(_) => {
                    let name = camel_case(&raw.id);
                    report.compiled.push((raw.id, name));
                }
                Err(e) => report.skipped.push((raw.id, e.to_string())),
            }
        }
        report
    });
    GitleaksReport {
        compiled: REPORT.compiled.clone(),
        skipped: REPORT.skipped.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_or_is_skipped_for_a_reviewed_reason() {
        let report = gitleaks_rules_report();
        let unreviewed: Vec<_> = report
            .skipped
            .iter()
            .filter(|(id, _)| !SKIPPED.iter().any(|(s, _)| s == id))
            .collect();
        assert!(
            unreviewed.is_empty(),
            "rules that do not compile: {unreviewed:?}"
        );
        assert!(report.compiled.len() > 200, "{}", report.compiled.len());
        // Every allowlist regex compiles too.
        let ruleset = parse();
        let global = ruleset.allowlist.iter();
        for raw in global.chain(ruleset.rules.iter().flat_map(|r| &r.allowlists)) {
            for pattern in &raw.regexes {
                Regex::new(&re2_classes(pattern))
                    .unwrap_or_else(|e| panic!("allowlist {pattern}: {e}"));
            }
        }
        // The terminator widened for prose is gitleaks' usual one.
        let ended = ruleset
            .rules
            .iter()
            .filter(|r| r.regex.as_deref().is_some_and(|p| p.contains(TERMINATOR)))
            .count();
        assert!(ended > 100, "{ended} rules end with {TERMINATOR}");
        // Names are unique, so a masked value says which rule found it.
        let mut names: Vec<_> = report.compiled.iter().map(|(_, n)| n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), report.compiled.len());
    }

    #[test]
    fn re2_perl_classes_are_spelled_out_in_ascii() {
        assert_eq!(re2_classes(r"\w+"), "[0-9A-Za-z_]+");
        assert_eq!(re2_classes(r"[\w.-]{0,50}"), "[0-9A-Za-z_.-]{0,50}");
        assert_eq!(re2_classes(r"\b(x)\s"), r"(?-u:\b)(x)[\t\n\f\r ]");
        assert_eq!(re2_classes(r"[]\d]\\w"), r"[]0-9]\\w");
        assert_eq!(re2_classes(r"a{2,3}\$?{{x}}"), r"a{2,3}\$?\{\{x}}");
        let re = Regex::new(&re2_classes(r"^\w+$")).unwrap();
        assert!(re.is_match("abc_1") && !re.is_match("é"));
    }

    #[test]
    fn stop_words_let_a_value_through_in_any_case() {
        let allow = Allowlist::from_raw(RawAllowlist {
            regex_target: None,
            regexes: Vec::new(),
            stopwords: vec!["example".into()],
            paths: Vec::new(),
            condition: None,
        })
        .unwrap();
        assert!(allow.allows("k3yEXAMPLE9", "", ""));
        assert!(!allow.allows("k3yXAMPLE9", "", ""));
    }

    #[test]
    fn names_are_the_ids_in_camel_case() {
        assert_eq!(camel_case("github-pat"), "GithubPat");
        assert_eq!(camel_case("generic-api-key"), "GenericApiKey");
        assert_eq!(camel_case("jwt"), "Jwt");
    }
}
