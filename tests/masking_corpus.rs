//! The masking corpus (issue #6): for every data identifier, values that must be masked and
//! look-alikes that must be left alone (`fixtures/masking/corpus.json`).

use std::collections::BTreeMap;

use aws_chatops::audit::mask::{masked, Masker, MANAGED};
use aws_chatops::config::CustomIdentifier;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    /// The part of `text` that must be masked; the whole text when absent.
    value: Option<String>,
}

#[derive(Deserialize)]
struct Identifier {
    masked: Vec<Case>,
    kept: Vec<String>,
}

fn corpus() -> BTreeMap<String, Identifier> {
    let mut all: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(include_str!("../fixtures/masking/corpus.json")).unwrap();
    all.remove("_about");
    all.into_iter()
        .map(|(k, v)| (k, serde_json::from_value(v).unwrap()))
        .collect()
}

#[test]
fn every_managed_identifier_has_both_sides_in_the_corpus() {
    let corpus = corpus();
    for name in MANAGED {
        let id = corpus
            .get(*name)
            .unwrap_or_else(|| panic!("{name} is missing from the corpus"));
        assert!(!id.masked.is_empty(), "{name}: no value to mask");
        assert!(!id.kept.is_empty(), "{name}: no look-alike");
    }
    for name in corpus.keys() {
        assert!(
            MANAGED.contains(&name.as_str()),
            "{name} is not an identifier"
        );
    }
}

#[test]
fn values_are_masked_with_their_identifier_name() {
    let masker = Masker::managed();
    let mut failures = Vec::new();
    for (name, id) in corpus() {
        for case in &id.masked {
            let value = case.value.as_deref().unwrap_or(&case.text);
            assert!(
                case.text.contains(value),
                "{name}: bad case {:?}",
                case.text
            );
            let expected = case.text.replace(value, &masked(&name));
            let got = masker.mask(&case.text);
            if got != expected {
                failures.push(format!(
                    "{name}: {:?}\n   got      {got:?}\n   expected {expected:?}",
                    case.text
                ));
            }
            // The same value inside a sentence and inside a JSON string.
            if case.value.is_none() {
                for (before, after) in [("seen: ", " (then)"), ("{\"v\": \"", "\"}")] {
                    let text = format!("{before}{value}{after}");
                    let expected = format!("{before}{}{after}", masked(&name));
                    let got = masker.mask(&text);
                    if got != expected {
                        failures.push(format!("{name} in context: {text:?}\n   got {got:?}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn look_alikes_are_left_alone() {
    let masker = Masker::managed();
    let mut failures = Vec::new();
    for (name, id) in corpus() {
        for text in &id.kept {
            let got = masker.mask(text);
            if got != text.as_str() {
                failures.push(format!("{name}: {text:?} became {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn custom_identifiers_from_the_config_are_masked_by_name() {
    let masker = Masker::new(&[
        CustomIdentifier {
            name: "EmployeeId".into(),
            regex: r"\bEMP-\d{6}\b".into(),
        },
        CustomIdentifier {
            name: "TicketRef".into(),
            regex: r"\bINC\d{7}\b".into(),
        },
    ])
    .unwrap();
    assert_eq!(
        masker.mask("EMP-123456 opened INC0012345 for jane@example.com"),
        "****(EmployeeId) opened ****(TicketRef) for ****(EmailAddress)"
    );
    assert_eq!(masker.mask("EMP-12345 INC001"), "EMP-12345 INC001");
}

#[test]
fn nothing_of_a_secret_survives_in_a_long_mixed_line() {
    let masker = Masker::managed();
    let line = "user U0DEMO (jane.doe@example.com, +44 20 7946 0958) pasted \
                aws_access_key_id=AKI\x41IOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
                and xox\x62-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx from 192.0.2.44, card 4111 1111 1111 1111";
    let out = masker.mask(line);
    for secret in [
        "jane.doe",
        "7946",
        "AKI\x41IOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI",
        "xoxb-",
        "192.0.2.44",
        "4111",
    ] {
        assert!(!out.contains(secret), "{secret} survived: {out}");
    }
    assert!(out.contains("user U0DEMO"), "{out}");
    // An access key id just before a 40-character key is context enough for the secret key.
    assert_eq!(
        masker.mask("keys: AKI\x41IOSFODNN7EXAMPLE / Zx8+pQ3/LmN7rT2vW9yB4kD6fH1jS5aE0cG3uI8o"),
        "keys: ****(AwsAccessKeyId) / ****(AwsSecretKey)"
    );
}
