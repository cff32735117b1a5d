//! Credentials (CloudWatch's credential identifiers and the bot's everyday ones: AWS keys and
//! session tokens, private keys, Slack tokens, `password=…` pairs) and contact data (email
//! addresses, IP addresses, phone numbers).
//!
//! An AWS secret key needs a keyword (or an access key id) shortly before it, phone numbers
//! need the separators people type, IP addresses must parse. Look-alikes (git hashes,
//! account ids, timestamps, versions, Rust paths, MAC addresses) stay as they are.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::{char_after, char_before, Rule};

/// Keywords that make the value after them (`key=value`, `"key": "value"`) a secret.
const SECRET_WORDS: &str = r"passw(?:or)?d|passphrase|secret|api[-_]?key|private[-_]?key|(?:auth|access|refresh|bearer|id|session|security|bot|app|slack|api|oauth)[-_]?token|^token$";

static SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("(?i)(?:{SECRET_WORDS}|credential)"))
        .expect("the secret keyword pattern compiles")
});

/// Whether a JSON member's name says its value is a secret (`DB_PASSWORD`, `apiKey`…).
pub(super) fn is_secret_key(key: &str) -> bool {
    SECRET_KEY.is_match(key) && !describes_a_secret(key)
}

/// The base64 alphabet of AWS secret keys and session tokens, without the padding `=` (which
/// also separates keys from values).
fn is_b64(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '/' || c == '+'
}

/// A key that names something about a secret rather than the secret itself:
/// `session_token_mode`, `SecretId`, `password_length`, `secret_arn`.
pub(super) fn describes_a_secret(key: &str) -> bool {
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
pub(super) fn credit_card(text: &str, r: Range<usize>) -> bool {
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
pub(super) fn not_inside_number(text: &str, r: Range<usize>) -> bool {
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let dotted_digit = |c: Option<char>, next: Option<char>| {
        matches!(c, Some('.' | '-')) && next.is_some_and(|n| n.is_ascii_digit())
    };
    let after = char_after(text, r.end);
    let after2 = text[r.end..].chars().nth(1);
    let before = char_before(text, r.start);
    let before2 = text[..r.start].chars().rev().nth(1);
    // A value masked before counts as the number it was (`****(Iban)-123-45-6789` is what
    // is left of a longer number), so masking twice changes nothing.
    let after_masked = matches!(before, Some('.' | '-')) && {
        let head = &text[..r.start - 1];
        head.ends_with(')')
            && head
                .rfind("****(")
                .is_some_and(|i| !head[i..].contains(char::is_whitespace))
    };
    !glued(before)
        && !glued(after)
        && !dotted_digit(after, after2)
        && !dotted_digit(before, before2)
        && !after_masked
}

/// The credential identifiers, in the order they are applied.
pub(super) fn rules() -> Vec<Rule> {
    let secret_words = SECRET_WORDS.trim_end_matches("|^token$");
    vec![
        Rule::new(
            "OpenSshPrivateKey",
            r"-----BEGIN OPENSSH PRIVATE KEY-----(?s:.*?)(?:-----END OPENSSH PRIVATE KEY-----|\z)",
        )
        .prefilter(&["-----begin"]),
        Rule::new(
            "PgpPrivateKey",
            r"-----BEGIN PGP PRIVATE KEY BLOCK-----(?s:.*?)(?:-----END PGP PRIVATE KEY BLOCK-----|\z)",
        )
        .prefilter(&["-----begin"]),
        Rule::new(
            "PuttyPrivateKey",
            r"PuTTY-User-Key-File-\d+:(?s:.*?)(?:Private-MAC: ?[0-9A-Fa-f]+|\z)",
        )
        .prefilter(&["putty-user-key-file-"]),
        Rule::new(
            "PkcsPrivateKey",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?s:.*?)(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\z)",
        )
        .prefilter(&["-----begin"]),
        Rule::new(
            "SlackToken",
            r"\b(?:xox[a-z](?:\.xox[a-z])?-\d[0-9A-Za-z-]{8,}|xapp-\d-[0-9A-Za-z-]{8,})|https://hooks\.slack\.com/(?:services|workflows|triggers)/[0-9A-Za-z_/-]{8,}",
        )
        .prefilter(&["xox", "xapp-", "hooks.slack.com"]),
        // STS session tokens: by their fixed prefixes, or any long base64 run right after
        // a session-token keyword. URL-encoded tokens (%2F, %2B, %3D) are covered too.
        Rule::new(
            "AwsSessionToken",
            r"(?:FQoGZXIvYXdzE|FwoGZXIvYXdzE|IQoJb3JpZ2luX2Vj)(?:[0-9A-Za-z/+=]|%[0-9A-Fa-f]{2}){16,}",
        )
        .check(b64_boundaries)
        .prefilter(&["FQoGZXIvYXdzE", "FwoGZXIvYXdzE", "IQoJb3JpZ2luX2Vj"]),
        Rule::new(
            "AwsSessionToken",
            r#"(?i:session[-_ ]?token|security[-_ ]?token)[\\"'\s:=>]{1,8}((?:[0-9A-Za-z/+=]|%[0-9A-Fa-f]{2}){100,})"#,
        )
        .group(1)
        .prefilter(&["session", "security"]),
        Rule::new("AwsSecretKey", r"[0-9A-Za-z/+]{40,}")
            .check(aws_secret_key)
            .prefilter(&["secret", "credential", "akia", "asia", "abia", "acca"]),
        Rule::new(
            "AwsAccessKeyId",
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b",
        )
        .prefilter(&["akia", "asia", "abia", "acca"]),
        Rule {
            key_group: Some(1),
            ..Rule::new(
                "Secret",
                &format!(
                    r#"(?i)((?:{secret_words})[0-9A-Za-z_.-]*)[\\"'\s]*(?:=>|=|:)[\\"'\s]*([^\s"'\\,;&}}<>\])]{{3,}})"#
                ),
            )
            .group(2)
            .prefilter(&["passw", "passphrase", "secret", "api", "private", "token"])
        },
        Rule::new("Secret", r"(?i)\bbearer\s+([0-9A-Za-z._~+/-]{16,}=*)")
            .group(1)
            .prefilter(&["bearer"]),
        Rule::new("Secret", r"://[^\s:/@]+:([^\s@/]{3,})@")
            .group(1)
            .prefilter(&["://"]),
    ]
}

/// Contact data, applied last: email addresses, IP addresses, phone numbers.
pub(super) fn contact_rules() -> Vec<Rule> {
    vec![
        Rule::new(
            "EmailAddress",
            r"[0-9A-Za-z._%+-]+@[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*\.[A-Za-z]{2,}\b",
        )
        .prefilter(&["@"]),
        Rule::new(
            "IpAddress",
            r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b",
        )
        .check(ipv4),
        Rule::new(
            "IpAddress",
            r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}",
        )
        .check(ipv6)
        .prefilter(&[":"]),
        Rule::new("PhoneNumber", r"\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,5}")
            .check(international_phone)
            .prefilter(&["+"]),
        Rule::new(
            "PhoneNumber",
            r"(?:\b1[ .-])?(?:\(\d{3}\) ?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b",
        )
        .check(not_inside_number),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_check() {
        let digits = |s: &str| -> Vec<u32> { s.chars().filter_map(|c| c.to_digit(10)).collect() };
        assert!(luhn(&digits("4111111111111111")));
        assert!(!luhn(&digits("4111111111111112")));
        assert!(luhn(&digits("378282246310005")));
    }
}
