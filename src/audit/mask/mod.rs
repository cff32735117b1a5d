//! Masking of sensitive data, modelled on CloudWatch Logs data protection: managed data
//! identifiers (credentials, financial and personal data) and custom identifiers (regexes
//! from the configuration). A masked value keeps the name of the identifier that found it,
//! `****(EmailAddress)`, `****(Ssn-US)`, so a reader still knows what was there.
//!
//! Three sources of identifiers, applied in this order (an earlier one wins an overlap):
//! * [`credentials`]: CloudWatch's credential identifiers (AWS keys, private keys) and the
//!   credential formats the bot meets every day (Slack tokens, `password=…` pairs);
//! * [`gitleaks`]: gitleaks' default ruleset, vendored as data (`src/audit/rules/`), for the
//!   hundreds of vendor token formats (GitHub, GitLab, Stripe, Google, JWTs…);
//! * [`health`]: CloudWatch's protected health information (claim, beneficiary, drug,
//!   provider and procedure codes, health insurance numbers), all near keywords;
//! * [`regional`]: CloudWatch's Brazilian, British and Canadian ids and postcodes, all
//!   near keywords;
//! * [`pii`] and [`people`]: CloudWatch's financial and personal identifiers (cards, bank
//!   accounts and IBANs, SSNs, passports, driver's licences, tax and national ids, VINs,
//!   coordinates, names, addresses);
//!
//! then the configuration's custom identifiers.
//!
//! Identifiers that would fire on ordinary text without help are narrowed the way CloudWatch
//! narrows them: by a keyword within 30 characters (a passport number needs `passport`
//! nearby), by a check digit (Luhn, IBAN mod 97, the VIN check digit…), or both. Look-alikes
//! stay as they are; `fixtures/masking/corpus.json` holds both sides and
//! `tests/masking_corpus.rs` measures recall and precision on it.
//!
//! Speed: masking runs on every audit record and every log line. Patterns are compiled once
//! per process, each on first use; one Aho-Corasick pass over the text finds every keyword
//! of every rule, and a rule whose keywords are absent is not run at all.

mod credentials;
mod gitleaks;
mod health;
mod licences;
mod people;
mod pii;
mod regional;

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

use aho_corasick::AhoCorasick;
use regex::{Captures, Regex, RegexSet};
use serde_json::Value;

use crate::config::CustomIdentifier;

pub use credentials::luhn;
pub use gitleaks::{gitleaks_rules_report, GitleaksReport};

/// Whether a JSON member's name (or a name/value pair's name) says its value is a secret
/// (`DB_PASSWORD`, `apiKey`), and not something about one (`SecretId`, `password_length`).
pub fn is_secret_key(key: &str) -> bool {
    credentials::is_secret_key(key)
}

/// What a masked value is replaced with: `****(Name)`.
pub fn masked(name: &str) -> String {
    format!("****({name})")
}

pub use crate::identifiers::MANAGED;

/// How far (in bytes) a keyword may be from the value it vouches for: CloudWatch's 30
/// characters.
const KEYWORD_DISTANCE: usize = 30;

/// Decides whether a candidate found by a rule's regex is the real thing.
#[derive(Clone, Copy)]
enum Check {
    /// Given the whole text and the masked range.
    Value(fn(&str, Range<usize>) -> bool),
    /// Given the whole text and the match's capture groups.
    Captures(fn(&str, &Captures) -> bool),
}

/// Which part of a match is masked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Index(usize),
    /// The first capture group that took part (gitleaks' rule: the secret is the first
    /// group), else the whole match.
    FirstNonEmpty,
}

/// When keywords decide whether a rule runs, and where they must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Near {
    /// Anywhere in the text: a prefilter only (gitleaks' `keywords`).
    Anywhere,
    /// Within [`KEYWORD_DISTANCE`] of the value, as a word (CloudWatch's keyword rule).
    Close,
}

/// A regex-based identifier.
struct Rule {
    name: String,
    pattern: String,
    /// Compiled on first use; `None` if it does not compile (a test makes sure every
    /// shipped rule does).
    regex: OnceLock<Option<Regex>>,
    group: Group,
    check: Option<Check>,
    /// The capture group holding a `key=value` pair's key, when the key decides.
    key_group: Option<usize>,
    /// Keywords (lower case), one of which must be found for the rule to run.
    keywords: Vec<String>,
    near: Near,
    /// Pattern ids of `keywords` in the shared automaton, filled when the rules are built.
    keyword_ids: Vec<usize>,
    /// gitleaks' Shannon entropy floor for the secret.
    entropy: Option<f32>,
    /// gitleaks' allowlists: values that are not secrets after all.
    allow: Vec<std::sync::Arc<gitleaks::Allowlist>>,
    /// Whether the pattern is in the shared regex set (managed rules).
    in_set: bool,
}

impl Rule {
    fn new(name: &str, pattern: &str) -> Rule {
        Rule {
            name: name.to_owned(),
            pattern: pattern.to_owned(),
            regex: OnceLock::new(),
            group: Group::Index(0),
            check: None,
            key_group: None,
            keywords: Vec::new(),
            near: Near::Anywhere,
            keyword_ids: Vec::new(),
            entropy: None,
            allow: Vec::new(),
            in_set: false,
        }
    }

    fn group(mut self, group: usize) -> Rule {
        self.group = Group::Index(group);
        self
    }

    /// Masks the first capture group that took part.
    fn group_first(mut self) -> Rule {
        self.group = Group::FirstNonEmpty;
        self
    }

    fn check(mut self, check: fn(&str, Range<usize>) -> bool) -> Rule {
        self.check = Some(Check::Value(check));
        self
    }

    fn check_captures(mut self, check: fn(&str, &Captures) -> bool) -> Rule {
        self.check = Some(Check::Captures(check));
        self
    }

    /// Only near one of these keywords (CloudWatch's rule). A keyword with a space also
    /// matches with no space, `_` or `-` in its place, as CloudWatch does.
    fn near(mut self, keywords: &[&str]) -> Rule {
        for keyword in keywords {
            let keyword = keyword.to_lowercase();
            if keyword.contains(' ') {
                for sep in ["", "_", "-"] {
                    self.keywords.push(keyword.replace(' ', sep));
                }
            }
            self.keywords.push(keyword);
        }
        self.near = Near::Close;
        self
    }

    /// Runs only when one of these strings (case-insensitive) is in the text: a prefilter
    /// for speed, so each must occur in every match.
    fn prefilter(mut self, keywords: &[&str]) -> Rule {
        self.keywords = keywords.iter().map(|k| k.to_lowercase()).collect();
        self.near = Near::Anywhere;
        self
    }

    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| Regex::new(&self.pattern).ok())
            .as_ref()
    }
}

/// Every built-in rule, in precedence order, one automaton over all their keywords, and one
/// regex set over the managed (not gitleaks) patterns: a single pass over the text says which
/// of them can match at all, so the others are not run.
struct Rules {
    rules: Vec<Rule>,
    keywords: AhoCorasick,
    /// Pattern id → whether it is a keyword of a [`Near::Close`] rule.
    close: Vec<bool>,
    set: Option<RegexSet>,
    /// Rule index → its pattern's index in `set`.
    in_set: Vec<Option<usize>>,
}

/// The built-in identifiers, built once per process and only when first needed (each regex is
/// compiled on its first use): a one-shot command that logs nothing never pays for them.
static RULES: LazyLock<Rules> = LazyLock::new(|| {
    // Managed patterns use ASCII classes and word boundaries, as gitleaks' RE2 ones do: the
    // data they find is ASCII, and the fast engines never give up on a non-ASCII text.
    let ascii = |rules: Vec<Rule>, in_set: bool| -> Vec<Rule> {
        rules
            .into_iter()
            .map(|mut r| {
                r.pattern = gitleaks::re2_classes(&r.pattern);
                r.in_set = in_set;
                r
            })
            .collect()
    };
    let mut rules = ascii(credentials::rules(), false);
    let (specific, generic) = gitleaks::rules();
    // Vendor formats before the bot's own `key=value` rule, so a GitHub token after
    // `token=` is named for what it is; gitleaks' generic rule only after it.
    let secret_at = rules
        .iter()
        .position(|r| r.name == "Secret")
        .unwrap_or(rules.len());
    rules.splice(secret_at..secret_at, specific);
    rules.extend(generic);
    // The set holds the short number-shaped patterns only: with the long ones (private keys,
    // names, addresses) its lazy DFA outgrows its cache and the set pass turns slow.
    // Health identifiers all need a keyword, so they stay out of the set (a rule whose
    // keyword is absent costs nothing) and come before the financial and personal ones: a
    // HICN holds an SSN, a carte Vitale number is an INSEE code.
    rules.extend(ascii(health::rules(), false));
    rules.extend(ascii(regional::rules(), false));
    rules.extend(ascii(pii::rules(), true));
    // The other countries' licences after the US and British ones, which share keywords.
    rules.extend(ascii(licences::rules(), false));
    rules.extend(ascii(people::rules(), false));
    rules.extend(ascii(credentials::contact_rules(), true));
    build(rules)
});

fn build(mut rules: Vec<Rule>) -> Rules {
    let mut patterns: Vec<String> = Vec::new();
    let mut close: Vec<bool> = Vec::new();
    for rule in &mut rules {
        for keyword in &rule.keywords {
            let id = match patterns.iter().position(|p| p == keyword) {
                Some(id) => id,
                None => {
                    patterns.push(keyword.clone());
                    close.push(false);
                    patterns.len() - 1
                }
            };
            close[id] |= rule.near == Near::Close;
            rule.keyword_ids.push(id);
        }
    }
    let keywords = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&patterns)
        .expect("the keyword automaton builds");
    let mut set_patterns = Vec::new();
    let in_set = rules
        .iter()
        .map(|r| {
            r.in_set.then(|| {
                set_patterns.push(r.pattern.as_str());
                set_patterns.len() - 1
            })
        })
        .collect();
    let set = regex::RegexSetBuilder::new(&set_patterns)
        .dfa_size_limit(16 << 20)
        .build()
        .ok();
    Rules {
        rules,
        keywords,
        close,
        set,
        in_set,
    }
}

/// A keyword found in the text.
struct Hit {
    id: usize,
    range: Range<usize>,
}

/// The keywords found in one text.
struct Hits {
    found: Vec<bool>,
    /// Keywords of [`Near::Close`] rules, standing as words.
    close: Vec<Hit>,
}

impl Hits {
    /// The keywords in `text`, except inside values masked before (`****(SecurityCode)` is
    /// no keyword: masking twice must change nothing).
    fn scan(rules: &Rules, text: &str, masked: &[(Range<usize>, &str)]) -> Hits {
        let mut found = vec![false; rules.close.len()];
        let mut close = Vec::new();
        for m in rules.keywords.find_overlapping_iter(text) {
            if masked
                .iter()
                .any(|(r, _)| r.start <= m.start() && m.end() <= r.end)
            {
                continue;
            }
            let id = m.pattern().as_usize();
            found[id] = true;
            if rules.close[id] && stands_as_word(text, m.range()) {
                close.push(Hit {
                    id,
                    range: m.range(),
                });
            }
        }
        Hits { found, close }
    }

    fn any(&self, ids: &[usize]) -> bool {
        ids.iter().any(|&id| self.found[id])
    }

    /// One of `ids` ends at most [`KEYWORD_DISTANCE`] before `value` starts. (Only before:
    /// a keyword after a number belongs to the next value more often than to this one.)
    fn near(&self, ids: &[usize], value: &Range<usize>) -> bool {
        self.close.iter().any(|hit| {
            ids.contains(&hit.id)
                && hit.range.end <= value.start
                && value.start - hit.range.end <= KEYWORD_DISTANCE
        })
    }
}

/// A keyword found inside a longer word does not count (`pan` in `company`), except at a
/// camel-case boundary (`customerSsn`) or before digits and separators (`ssn#`).
fn stands_as_word(text: &str, r: Range<usize>) -> bool {
    let bytes = text.as_bytes();
    let first = bytes[r.start];
    let before_ok = r.start == 0 || {
        let b = bytes[r.start - 1];
        !b.is_ascii_alphanumeric() || (b.is_ascii_lowercase() && first.is_ascii_uppercase())
    };
    let after_ok = r.end >= bytes.len() || {
        let a = bytes[r.end];
        let last = bytes[r.end - 1];
        !a.is_ascii_alphabetic()
            || (a.is_ascii_uppercase() && last.is_ascii_lowercase())
            // plurals and longer keywords glued to a suffix (`passports`, `expiryDate`)
            || (r.len() >= 5 && a == b's')
    };
    before_ok && after_ok
}

/// Finds and masks sensitive values in text and JSON. Cheap to build and share: the built-in
/// rules are shared by every masker, only custom identifiers are compiled per masker.
pub struct Masker {
    custom: Vec<Rule>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field(
                "custom",
                &self.custom.iter().map(|r| &r.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for Masker {
    fn default() -> Masker {
        Masker::managed()
    }
}

impl Masker {
    /// The managed data identifiers only.
    pub fn managed() -> Masker {
        Masker { custom: Vec::new() }
    }

    /// The managed data identifiers plus the configuration's custom ones (checked after the
    /// managed ones, so a custom pattern can never leave part of a credential behind).
    pub fn new(custom: &[CustomIdentifier]) -> Result<Masker, regex::Error> {
        let mut rules = Vec::new();
        for identifier in custom {
            let rule = Rule::new(&identifier.name, &identifier.regex);
            let regex = Regex::new(&identifier.regex)?;
            rule.regex.set(Some(regex)).ok();
            rules.push(rule);
        }
        Ok(Masker { custom: rules })
    }

    /// Built-in rules first, so a custom pattern can never leave part of a credential behind.
    fn rules(&self) -> impl Iterator<Item = &Rule> {
        RULES.rules.iter().chain(&self.custom)
    }

    /// The identifier names this masker applies, built-in first.
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
        static MASKED: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"\*\*\*\*\([0-9A-Za-z_-]+\)").expect("the mask pattern compiles")
        });
        let mut found: Vec<(Range<usize>, &str)> = if text.contains("****(") {
            MASKED.find_iter(text).map(|m| (m.range(), "")).collect()
        } else {
            Vec::new()
        };
        let rules = &*RULES;
        let hits = Hits::scan(rules, text, &found);
        let possible = rules.set.as_ref().map(|set| set.matches(text));
        for (i, rule) in self.rules().enumerate() {
            if !rule.keyword_ids.is_empty() && !hits.any(&rule.keyword_ids) {
                continue;
            }
            let in_set = rules.in_set.get(i).copied().flatten();
            if let (Some(possible), Some(j)) = (&possible, in_set) {
                if !possible.matched(j) {
                    continue;
                }
            }
            let Some(regex) = rule.regex() else {
                continue;
            };
            run_rule(rule, regex, text, &hits, &mut found);
        }
        found.retain(|(_, name)| !name.is_empty());
        found.sort_by_key(|(r, _)| r.start);
        found
    }

    /// For benchmarks: the time each rule that runs on `text` takes, over `rounds` runs,
    /// slowest first (rule name, pattern's first 60 characters, time).
    #[doc(hidden)]
    pub fn rule_timings(
        &self,
        text: &str,
        rounds: u32,
    ) -> Vec<(String, String, std::time::Duration)> {
        let rules = &*RULES;
        let hits = Hits::scan(rules, text, &[]);
        let possible = rules.set.as_ref().map(|set| set.matches(text));
        let mut timings = Vec::new();
        for (i, rule) in self.rules().enumerate() {
            if !rule.keyword_ids.is_empty() && !hits.any(&rule.keyword_ids) {
                continue;
            }
            let in_set = rules.in_set.get(i).copied().flatten();
            if let (Some(possible), Some(j)) = (&possible, in_set) {
                if !possible.matched(j) {
                    continue;
                }
            }
            let Some(regex) = rule.regex() else { continue };
            let started = std::time::Instant::now();
            for _ in 0..rounds {
                let mut found = Vec::new();
                run_rule(rule, regex, text, &hits, &mut found);
                std::hint::black_box(found.len());
            }
            let pattern: String = rule.pattern.chars().take(60).collect();
            timings.push((rule.name.clone(), pattern, started.elapsed() / rounds));
        }
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(Hits::scan(rules, text, &[]).close.len());
        }
        timings.push((
            "(keyword scan)".into(),
            String::new(),
            started.elapsed() / rounds,
        ));
        if let Some(set) = &rules.set {
            let started = std::time::Instant::now();
            for _ in 0..rounds {
                std::hint::black_box(set.matches(text).matched_any());
            }
            timings.push((
                "(regex set pass)".into(),
                String::new(),
                started.elapsed() / rounds,
            ));
        }
        timings.sort_by_key(|t| std::cmp::Reverse(t.2));
        timings
    }

    /// `text` with every sensitive value replaced by `****(Identifier)`.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let found = self.find(text);
        replace(text, &found, 0)
    }

    /// `text` masked as if `context` (a JSON member's name) stood just before it: the
    /// `ssn` of `{"ssn": "…"}` is the keyword its value needs.
    pub fn mask_in_context<'t>(&self, context: &str, text: &'t str) -> Cow<'t, str> {
        if !RULES.keywords.is_match(context) {
            return self.mask(text);
        }
        let joined = format!("{context}: {text}");
        let offset = joined.len() - text.len();
        let found: Vec<_> = self
            .find(&joined)
            .into_iter()
            .filter(|(r, _)| r.start >= offset)
            .collect();
        replace(text, &found, offset)
    }

    /// Whether a JSON member's name says its value is a secret (`DB_PASSWORD`, `apiKey`…).
    pub fn is_secret_key(&self, key: &str) -> bool {
        credentials::is_secret_key(key)
    }

    /// Masks a JSON value in place: every string is masked as text (with its member's name
    /// as context), and the whole value of a member whose name says it is a secret is
    /// replaced.
    pub fn mask_json(&self, value: &mut Value) {
        self.mask_json_in(None, value);
    }

    fn mask_json_in(&self, key: Option<&str>, value: &mut Value) {
        match value {
            Value::String(s) => {
                let masked = match key {
                    Some(key) => self.mask_in_context(key, s),
                    None => self.mask(s),
                };
                if let Cow::Owned(m) = masked {
                    *s = m;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json_in(key, v)),
            Value::Object(members) => {
                for (key, v) in members.iter_mut() {
                    if matches!(v, Value::String(_) | Value::Number(_)) && self.is_secret_key(key) {
                        *v = Value::String(masked("Secret"));
                    } else if let Value::Number(n) = v {
                        // A number is masked as its text would be (`"ssn": 123456789`).
                        let text = n.to_string();
                        if let Cow::Owned(m) = self.mask_in_context(key, &text) {
                            *v = Value::String(m);
                        }
                    } else {
                        self.mask_json_in(Some(key), v);
                    }
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// How far past a keyword's reach a value may run: longer than any value a keyword vouches
/// for.
const WINDOW: usize = 256;

/// Runs one rule over `haystack` (a prefix of `text`) from `from`, adding what it finds.
/// One rule over `text`: near its keywords only for a rule that needs one close by (the value
/// starts at most KEYWORD_DISTANCE after a keyword, so only there, with room for the value
/// itself, is searched), over the whole text otherwise.
fn run_rule<'a>(
    rule: &'a Rule,
    regex: &Regex,
    text: &str,
    hits: &Hits,
    found: &mut Vec<(Range<usize>, &'a str)>,
) {
    if rule.near != Near::Close {
        scan(rule, regex, text, 0, text, hits, found);
        return;
    }
    for hit in hits
        .close
        .iter()
        .filter(|h| rule.keyword_ids.contains(&h.id))
    {
        let mut limit = text.len().min(hit.range.end + KEYWORD_DISTANCE + WINDOW);
        while !text.is_char_boundary(limit) {
            limit -= 1;
        }
        scan(
            rule,
            regex,
            &text[..limit],
            hit.range.end,
            text,
            hits,
            found,
        );
    }
}

fn scan<'a>(
    rule: &'a Rule,
    regex: &Regex,
    haystack: &str,
    from: usize,
    text: &str,
    hits: &Hits,
    found: &mut Vec<(Range<usize>, &'a str)>,
) {
    let mut at = from;
    while at <= haystack.len() {
        let Some(caps) = regex.captures_at(haystack, at) else {
            break;
        };
        let whole = caps.get(0).map_or(at..at, |m| m.range());
        // Go on after this match; one of its characters moves on at least.
        at = whole.end.max(next_char(haystack, whole.start));
        let Some(range) = masked_range(rule.group, &caps) else {
            continue;
        };
        let overlap = found
            .iter()
            .filter(|(r, _)| r.start < range.end && range.start < r.end)
            .map(|(r, _)| r.end)
            .max();
        if let Some(end) = overlap {
            // A candidate that runs into a value found before may start again just after
            // it (`…0130 00-12 Main St` holds an IBAN, then an address).
            if end > whole.start && end < whole.end {
                at = end;
            }
            continue;
        }
        if range.is_empty() || !accepts(rule, text, &caps, &range, hits) {
            continue;
        }
        found.push((range, rule.name.as_str()));
    }
}

/// The range a rule masks in a match.
fn masked_range(group: Group, caps: &Captures) -> Option<Range<usize>> {
    match group {
        Group::Index(i) => caps.get(i).map(|m| m.range()),
        Group::FirstNonEmpty => caps
            .iter()
            .skip(1)
            .flatten()
            .find(|m| !m.is_empty())
            .or_else(|| caps.get(0))
            .map(|m| m.range()),
    }
}

/// Whether a candidate passes its rule's keyword, check, entropy and allowlist tests.
fn accepts(rule: &Rule, text: &str, caps: &Captures, range: &Range<usize>, hits: &Hits) -> bool {
    if rule.near == Near::Close && !hits.near(&rule.keyword_ids, range) {
        return false;
    }
    let passes = match rule.check {
        None => true,
        Some(Check::Value(check)) => check(text, range.clone()),
        Some(Check::Captures(check)) => check(text, caps),
    };
    if !passes {
        return false;
    }
    if let Some(key) = rule.key_group.and_then(|g| caps.get(g)) {
        if credentials::describes_a_secret(key.as_str()) {
            return false;
        }
    }
    let value = &text[range.clone()];
    if rule
        .entropy
        .is_some_and(|floor| shannon_entropy(value) < floor)
    {
        return false;
    }
    !gitleaks::allowed(&rule.allow, value, &caps[0], line_of(text, range))
}

/// The line of `text` holding `range`.
fn line_of<'t>(text: &'t str, range: &Range<usize>) -> &'t str {
    let start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[range.end..]
        .find('\n')
        .map_or(text.len(), |i| range.end + i);
    &text[start..end]
}

/// Shannon entropy in bits per character, as gitleaks computes it.
pub fn shannon_entropy(value: &str) -> f32 {
    let mut counts = [0u32; 256];
    for b in value.bytes() {
        counts[b as usize] += 1;
    }
    let len = value.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / len;
            -p * p.log2()
        })
        .sum()
}

/// `text` with each found range (shifted by `offset`) replaced by its masked name.
fn replace<'t>(text: &'t str, found: &[(Range<usize>, &str)], offset: usize) -> Cow<'t, str> {
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, name) in found {
        out.push_str(&text[at..range.start - offset]);
        out.push_str(&masked(name));
        at = range.end - offset;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// The byte offset of the character after the one at `at` (or the end).
fn next_char(text: &str, at: usize) -> usize {
    text[at..]
        .chars()
        .next()
        .map_or(text.len() + 1, |c| at + c.len_utf8())
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// The digits of a candidate, separators dropped.
fn digits(text: &str) -> Vec<u32> {
    text.chars().filter_map(|c| c.to_digit(10)).collect()
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
    fn a_member_name_is_the_keyword_its_value_needs() {
        let m = Masker::managed();
        let mut v = serde_json::json!({
            "passport_number": "C03005988",
            "ssn": 123456789,
            "note": "C03005988",
        });
        m.mask_json(&mut v);
        assert_eq!(v["passport_number"], "****(PassportNumber-US)");
        assert_eq!(v["ssn"], "****(Ssn-US)");
        assert_eq!(v["note"], "C03005988", "no keyword, no passport");
    }

    #[test]
    fn keywords_count_only_as_words() {
        let m = Masker::managed();
        assert_eq!(m.mask("ssn: 123456789"), "ssn: ****(Ssn-US)");
        assert_eq!(m.mask("customerSsn=123456789"), "customerSsn=****(Ssn-US)");
        assert_eq!(m.mask("lessn 123456789"), "lessn 123456789");
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

    #[test]
    fn a_custom_identifier_that_matches_empty_text_cannot_loop_or_panic() {
        let m = Masker::new(&[CustomIdentifier {
            name: "Empty".into(),
            regex: "x*".into(),
        }])
        .unwrap();
        assert_eq!(m.mask("ab"), "ab");
        assert_eq!(m.mask("axb"), "a****(Empty)b");
        assert_eq!(m.mask(""), "");
    }

    #[test]
    fn entropy_is_bits_per_character() {
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-6);
    }
}
