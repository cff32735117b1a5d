//! Masking of sensitive data, modelled on CloudWatch Logs data protection: managed data
//! identifiers (credentials, keys, personal data) and custom identifiers (regexes from the
//! configuration). A masked value keeps the name of the identifier that found it,
//! `****(EmailAddress)`, so a reader still knows what was there.
//!
//! Identifiers that would fire on ordinary text without help are narrowed the way CloudWatch
//! narrows them: an AWS secret key needs a keyword (or an access key id) shortly before it,
//! credit card numbers must pass the Luhn check and start like a real card, phone numbers
//! need the separators people type, IP addresses must parse. Look-alikes (git hashes,
//! account ids, timestamps, versions, Rust paths, MAC addresses) stay as they are; the
//! corpus in `tests/masking_corpus.rs` holds both sides.

use std::borrow::Cow;
use std::ops::Range;

use regex::Regex;
use serde_json::Value;

use crate::config::CustomIdentifier;

/// What a masked value is replaced with: `****(Name)`.
pub fn masked(name: &str) -> String {
    format!("****({name})")
}

/// The names of the managed data identifiers, in the order they take precedence.
pub const MANAGED: &[&str] = &[
    "OpenSshPrivateKey",
    "PgpPrivateKey",
    "PuttyPrivateKey",
    "PkcsPrivateKey",
    "SlackToken",
    "AwsSessionToken",
    "AwsSecretKey",
    "AwsAccessKeyId",
    "Secret",
    "EmailAddress",
    "CreditCardNumber",
    "IpAddress",
    "PhoneNumber",
];

/// Decides whether a candidate found by a rule's regex is the real thing, given the whole
/// text and the candidate's byte range.
type Check = fn(&str, Range<usize>) -> bool;

#[derive(Clone)]
struct Rule {
    name: String,
    regex: Regex,
    /// The capture group that is masked (0: the whole match).
    group: usize,
    check: Option<Check>,
    /// The capture group holding a `key=value` pair's key, when the key decides.
    key_group: Option<usize>,
}

/// The managed identifiers, compiled once per process and only when first needed: a one-shot
/// command that logs nothing never pays the few milliseconds they take.
static MANAGED_RULES: std::sync::LazyLock<Vec<Rule>> = std::sync::LazyLock::new(managed_rules);
static SECRET_KEY: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
    Regex::new(&format!("(?i)(?:{SECRET_WORDS}|credential)"))
        .expect("the secret keyword pattern compiles")
});

/// Finds and masks sensitive values in text and JSON. Cheap to build and share: the managed
/// rules are shared by every masker, only custom identifiers are compiled per masker.
pub struct Masker {
    custom: Vec<Rule>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field(
                "identifiers",
                &self.rules().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for Masker {
    fn default() -> Masker {
        Masker::managed()
    }
}

/// Keywords that make the value after them (`key=value`, `"key": "value"`) a secret.
const SECRET_WORDS: &str = r"passw(?:or)?d|passphrase|secret|api[-_]?key|private[-_]?key|(?:auth|access|refresh|bearer|id|session|security|bot|app|slack|api|oauth)[-_]?token|^token$";

/// The base64 alphabet of AWS secret keys and session tokens, without the padding `=` (which
/// also separates keys from values).
fn is_b64(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '/' || c == '+'
}

impl Masker {
    /// The managed data identifiers only.
    pub fn managed() -> Masker {
        Masker::new(&[]).expect("the managed identifiers compile")
    }

    /// The managed data identifiers plus the configuration's custom ones (checked after the
    /// managed ones, so a custom pattern can never leave part of a credential behind).
    pub fn new(custom: &[CustomIdentifier]) -> Result<Masker, regex::Error> {
        let mut rules = Vec::new();
        for identifier in custom {
            rules.push(Rule {
                name: identifier.name.clone(),
                regex: Regex::new(&identifier.regex)?,
                group: 0,
                check: None,
                key_group: None,
            });
        }
        Ok(Masker { custom: rules })
    }

    /// Managed rules first, so a custom pattern can never leave part of a credential behind.
    fn rules(&self) -> impl Iterator<Item = &Rule> {
        MANAGED_RULES.iter().chain(&self.custom)
    }

    /// The identifier names this masker applies, managed first.
    pub fn identifiers(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for rule in self.rules() {
            if !names.contains(&rule.name.as_str()) {
                names.push(&rule.name);
            }
        }
        names
    }

    /// The sensitive values in `text`: (byte range, identifier name), in text order, without
    /// overlaps (an earlier identifier wins over a later one).
    pub fn find<'a>(&'a self, text: &str) -> Vec<(Range<usize>, &'a str)> {
        // Values masked before (`****(Name)`) stay as they are: masking twice changes nothing.
        static MASKED: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
            Regex::new(r"\*\*\*\*\([0-9A-Za-z_-]+\)").expect("the mask pattern compiles")
        });
        let mut found: Vec<(Range<usize>, &str)> =
            MASKED.find_iter(text).map(|m| (m.range(), "")).collect();
        for rule in self.rules() {
            for caps in rule.regex.captures_iter(text) {
                let Some(m) = caps.get(rule.group) else {
                    continue;
                };
                let range = m.range();
                if range.is_empty()
                    || rule.check.is_some_and(|check| !check(text, range.clone()))
                    || rule
                        .key_group
                        .and_then(|g| caps.get(g))
                        .is_some_and(|key| describes_a_secret(key.as_str()))
                {
                    continue;
                }
                if found
                    .iter()
                    .any(|(r, _)| r.start < range.end && range.start < r.end)
                {
                    continue;
                }
                found.push((range, rule.name.as_str()));
            }
        }
        found.retain(|(_, name)| !name.is_empty());
        found.sort_by_key(|(r, _)| r.start);
        found
    }

    /// `text` with every sensitive value replaced by `****(Identifier)`.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let found = self.find(text);
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (range, name) in found {
            out.push_str(&text[at..range.start]);
            out.push_str(&masked(name));
            at = range.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Whether a JSON member's name says its value is a secret (`DB_PASSWORD`, `apiKey`…).
    pub fn is_secret_key(&self, key: &str) -> bool {
        SECRET_KEY.is_match(key) && !describes_a_secret(key)
    }

    /// Masks a JSON value in place: every string is masked as text, and the whole value of a
    /// member whose name says it is a secret is replaced.
    pub fn mask_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Cow::Owned(m) = self.mask(s) {
                    *s = m;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            Value::Object(members) => {
                for (key, v) in members.iter_mut() {
                    if matches!(v, Value::String(_) | Value::Number(_)) && self.is_secret_key(key) {
                        *v = Value::String(masked("Secret"));
                    } else {
                        self.mask_json(v);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// A key that names something about a secret rather than the secret itself:
/// `session_token_mode`, `SecretId`, `password_length`, `secret_arn`.
fn describes_a_secret(key: &str) -> bool {
    const ABOUT: &[&str] = &[
        "mode",
        "name",
        "size",
        "utilization",
        "override",
        "count",
        "length",
        "len",
        "type",
        "enabled",
        "expiry",
        "expiration",
        "expires",
        "ttl",
        "file",
        "path",
        "arn",
        "id",
        "version",
        "policy",
        "rotation",
        "required",
        "set",
        "present",
    ];
    let lower = key.to_ascii_lowercase();
    let lower = lower.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    ABOUT
        .iter()
        .any(|suffix| lower.len() > suffix.len() && lower.ends_with(suffix))
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// The candidate is a whole base64 run, not a piece of a longer one.
fn b64_boundaries(text: &str, r: Range<usize>) -> bool {
    !char_before(text, r.start).is_some_and(is_b64) && !char_after(text, r.end).is_some_and(is_b64)
}

/// An AWS secret access key: exactly 40 characters of base64 with upper and lower case
/// letters and digits, and a keyword (`secret`, `credential`) or an access key id in the
/// 160 characters before it. Without that context a 40-character token is left alone, as
/// CloudWatch does.
fn aws_secret_key(text: &str, r: Range<usize>) -> bool {
    let candidate = &text[r.clone()];
    if candidate.len() != 40
        || !candidate.bytes().any(|b| b.is_ascii_uppercase())
        || !candidate.bytes().any(|b| b.is_ascii_lowercase())
        || !candidate.bytes().any(|b| b.is_ascii_digit())
        || char_after(text, r.end) == Some('=')
    {
        return false;
    }
    let mut start = r.start.saturating_sub(160);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = text[start..r.start].to_ascii_lowercase();
    if before.contains("secret") || before.contains("credential") {
        return true;
    }
    static ACCESS_KEY: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}").expect("access key id pattern")
    });
    ACCESS_KEY.is_match(&text[start..r.start])
}

/// A card number: 13 to 19 digits that pass the Luhn check and start like a card of a real
/// network (Visa, Mastercard, American Express, Discover, Diners, JCB, UnionPay).
fn credit_card(text: &str, r: Range<usize>) -> bool {
    let digits: Vec<u32> = text[r].chars().filter_map(|c| c.to_digit(10)).collect();
    let n = digits.len();
    let prefix = |len: usize| {
        digits[..len.min(n)]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + d)
    };
    let network = match digits.first() {
        Some(4) => matches!(n, 13 | 16 | 19),
        Some(5) => (51..=55).contains(&prefix(2)) && n == 16,
        Some(2) => (2221..=2720).contains(&prefix(4)) && n == 16,
        Some(3) => {
            (matches!(prefix(2), 34 | 37) && n == 15)
                || (((300..=305).contains(&prefix(3)) || matches!(prefix(2), 36 | 38))
                    && (14..=19).contains(&n))
                || ((3528..=3589).contains(&prefix(4)) && (16..=19).contains(&n))
        }
        Some(6) => {
            (prefix(4) == 6011
                || prefix(2) == 65
                || (644..=649).contains(&prefix(3))
                || prefix(2) == 62)
                && (16..=19).contains(&n)
        }
        _ => false,
    };
    network && luhn(&digits)
}

/// The Luhn checksum, as card numbers carry it.
pub fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum % 10 == 0
}

/// An IPv4 address, not four parts of a longer dotted number (`1.3.6.1.4.1`, a version).
fn ipv4(text: &str, r: Range<usize>) -> bool {
    let dotted = |c: Option<char>, next: Option<char>| {
        c == Some('.') && next.is_some_and(|n| n.is_ascii_digit())
    };
    let before = char_before(text, r.start);
    let before2 = text[..r.start]
        .strip_suffix('.')
        .and_then(|t| t.chars().next_back());
    let after = char_after(text, r.end);
    let after2 = text[r.end..]
        .strip_prefix('.')
        .and_then(|t| t.chars().next());
    !dotted(before, before2) && !dotted(after, after2)
}

/// An IPv6 address: the candidate parses, stands alone (not `aws_chatops::audit`, not a time
/// of day or a MAC address, which don't parse) and has at least one digit.
fn ipv6(text: &str, r: Range<usize>) -> bool {
    let candidate = &text[r.clone()];
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.';
    !char_before(text, r.start).is_some_and(word)
        && !char_after(text, r.end).is_some_and(word)
        && candidate.bytes().any(|b| b.is_ascii_hexdigit())
        && candidate.parse::<std::net::Ipv6Addr>().is_ok()
}

/// An international number (`+44 20 7946 0958`): 8 to 15 digits (E.164), not glued to a
/// word or another number.
fn international_phone(text: &str, r: Range<usize>) -> bool {
    let digits = text[r.clone()].bytes().filter(u8::is_ascii_digit).count();
    (8..=15).contains(&digits) && not_inside_number(text, r)
}

/// The candidate is not part of a longer token of digits, letters or dots.
fn not_inside_number(text: &str, r: Range<usize>) -> bool {
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let dotted_digit = |c: Option<char>, next: Option<char>| {
        matches!(c, Some('.' | '-')) && next.is_some_and(|n| n.is_ascii_digit())
    };
    let after = char_after(text, r.end);
    let after2 = text[r.end..].chars().nth(1);
    let before = char_before(text, r.start);
    let before2 = text[..r.start].chars().rev().nth(1);
    !glued(before)
        && !glued(after)
        && !dotted_digit(after, after2)
        && !dotted_digit(before, before2)
}

/// The managed data identifiers, in the order they are applied.
fn managed_rules() -> Vec<Rule> {
    let rule = |name: &str, pattern: &str, group: usize, check: Option<Check>| Rule {
        name: name.to_owned(),
        regex: Regex::new(pattern).expect("managed identifier patterns compile"),
        group,
        check,
        key_group: None,
    };
    vec![
        rule(
            "OpenSshPrivateKey",
            r"-----BEGIN OPENSSH PRIVATE KEY-----(?s:.*?)(?:-----END OPENSSH PRIVATE KEY-----|\z)",
            0,
            None,
        ),
        rule(
            "PgpPrivateKey",
            r"-----BEGIN PGP PRIVATE KEY BLOCK-----(?s:.*?)(?:-----END PGP PRIVATE KEY BLOCK-----|\z)",
            0,
            None,
        ),
        rule(
            "PuttyPrivateKey",
            r"PuTTY-User-Key-File-\d+:(?s:.*?)(?:Private-MAC: ?[0-9A-Fa-f]+|\z)",
            0,
            None,
        ),
        rule(
            "PkcsPrivateKey",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?s:.*?)(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\z)",
            0,
            None,
        ),
        rule(
            "SlackToken",
            r"\b(?:xox[a-z](?:\.xox[a-z])?-\d[0-9A-Za-z-]{8,}|xapp-\d-[0-9A-Za-z-]{8,})|https://hooks\.slack\.com/(?:services|workflows|triggers)/[0-9A-Za-z_/-]{8,}",
            0,
            None,
        ),
        // STS session tokens: by their fixed prefixes, or any long base64 run right after
        // a session-token keyword. URL-encoded tokens (%2F, %2B, %3D) are covered too.
        rule(
            "AwsSessionToken",
            r"(?:FQoGZXIvYXdzE|FwoGZXIvYXdzE|IQoJb3JpZ2luX2Vj)(?:[0-9A-Za-z/+=]|%[0-9A-Fa-f]{2}){16,}",
            0,
            Some(b64_boundaries),
        ),
        rule(
            "AwsSessionToken",
            r#"(?i:session[-_ ]?token|security[-_ ]?token)[\\"'\s:=>]{1,8}((?:[0-9A-Za-z/+=]|%[0-9A-Fa-f]{2}){100,})"#,
            1,
            None,
        ),
        rule(
            "AwsSecretKey",
            r"[0-9A-Za-z/+]{40,}",
            0,
            Some(aws_secret_key),
        ),
        rule(
            "AwsAccessKeyId",
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b",
            0,
            None,
        ),
        Rule {
            key_group: Some(1),
            ..rule(
                "Secret",
                &format!(
                    r#"(?i)((?:{SECRET_WORDS_TEXT})[0-9A-Za-z_.-]*)[\\"'\s]*(?:=>|=|:)[\\"'\s]*([^\s"'\\,;&}}<>\])]{{3,}})"#,
                    SECRET_WORDS_TEXT = SECRET_WORDS.trim_end_matches("|^token$")
                ),
                2,
                None,
            )
        },
        rule(
            "Secret",
            r"(?i)\bbearer\s+([0-9A-Za-z._~+/-]{16,}=*)",
            1,
            None,
        ),
        rule("Secret", r"://[^\s:/@]+:([^\s@/]{3,})@", 1, None),
        rule(
            "EmailAddress",
            r"[0-9A-Za-z._%+-]+@[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*\.[A-Za-z]{2,}\b",
            0,
            None,
        ),
        rule(
            "CreditCardNumber",
            r"\b(?:\d{13,19}|\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}(?:[ -]\d{3})?|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{4}[ -]\d{4}[ -]\d{4}[ -]\d)\b",
            0,
            Some(credit_card),
        ),
        rule(
            "IpAddress",
            r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b",
            0,
            Some(ipv4),
        ),
        rule(
            "IpAddress",
            r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}",
            0,
            Some(ipv6),
        ),
        rule(
            "PhoneNumber",
            r"\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,5}",
            0,
            Some(international_phone),
        ),
        rule(
            "PhoneNumber",
            r"(?:\b1[ .-])?(?:\(\d{3}\) ?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b",
            0,
            Some(not_inside_number),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_keep_the_identifier_name() {
        let m = Masker::managed();
        assert_eq!(
            m.mask("mail jane.doe@example.com now"),
            "mail ****(EmailAddress) now"
        );
        assert_eq!(m.mask("nothing here"), "nothing here");
        let once = m
            .mask("DB_PASSWORD: \"hunter2\", ip 192.0.2.1")
            .into_owned();
        assert_eq!(once, "DB_PASSWORD: \"****(Secret)\", ip ****(IpAddress)");
        assert_eq!(m.mask(&once), once, "masking twice changes nothing");
    }

    #[test]
    fn luhn_check() {
        let digits = |s: &str| -> Vec<u32> { s.chars().filter_map(|c| c.to_digit(10)).collect() };
        assert!(luhn(&digits("4111111111111111")));
        assert!(!luhn(&digits("4111111111111112")));
        assert!(luhn(&digits("378282246310005")));
    }

    #[test]
    fn secret_members_are_masked_whole() {
        let m = Masker::managed();
        let mut v = serde_json::json!({
            "Environment": {"Variables": {"DB_PASSWORD": "hunter2", "GREETING": "hi"}},
            "NextToken": "abc",
            "apiKey": 12345,
        });
        m.mask_json(&mut v);
        assert_eq!(v["Environment"]["Variables"]["DB_PASSWORD"], "****(Secret)");
        assert_eq!(v["Environment"]["Variables"]["GREETING"], "hi");
        assert_eq!(v["NextToken"], "abc");
        assert_eq!(v["apiKey"], "****(Secret)");
        assert!(!m.is_secret_key("SecretId") && !m.is_secret_key("session_token_mode"));
        assert_eq!(
            m.mask("session_token_mode: Enabled, password: hunter2"),
            "session_token_mode: Enabled, password: ****(Secret)"
        );
    }

    #[test]
    fn custom_identifiers_come_after_the_managed_ones() {
        let m = Masker::new(&[CustomIdentifier {
            name: "EmployeeId".into(),
            regex: r"EMP-\d{6}".into(),
        }])
        .unwrap();
        assert_eq!(m.mask("by EMP-123456"), "by ****(EmployeeId)");
        assert_eq!(m.identifiers().last(), Some(&"EmployeeId"));
    }
}
