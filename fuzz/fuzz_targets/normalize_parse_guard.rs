//! normalize → parse → guard → render on arbitrary messages, and guardrail evaluation with
//! arbitrary policies: nothing may panic (or overflow the stack), nothing on the built-in
//! deny list may ever be decided run or confirm, and every reply renders in every format.
//!
//! The input is split at NUL bytes: the message, a JSON document to render, a guardrail
//! policy, an action and a resource. Parts left out default to the earlier ones, so every
//! input exercises every stage.
#![no_main]

use std::sync::LazyLock;

use aws_chatops::config::Config;
use aws_chatops::guard::{Decision, Guard};
use aws_chatops::normalize::normalize;
use aws_chatops::parse::{parse, Output, Parsed};
use aws_chatops::policy::Policy;
use aws_chatops::render;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::from_toml(include_str!("../../fixtures/config/demo.toml")).expect("demo config")
});
static GUARD: LazyLock<Guard> = LazyLock::new(|| Guard::new(&CONFIG).expect("guard"));

const FORMATS: [Output; 5] = [
    Output::Chat,
    Output::Json,
    Output::Yaml,
    Output::Text,
    Output::Table,
];

/// Renders `value` in every format; the JSON output must read back as JSON.
fn render_everywhere(value: &Value) {
    for output in FORMATS {
        let _ = render::format(value, output, "Fuzz");
    }
    let printed = render::json(value);
    assert!(
        serde_json::from_str::<Value>(&printed).is_ok(),
        "--output json printed what is not JSON: {printed}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = input.split('\0');
    let message = parts.next().unwrap_or_default();
    let document = parts.next().unwrap_or(message);
    let policy_json = parts.next().unwrap_or(document);
    let action = parts.next();
    let resource = parts.next();

    let text = normalize(message);
    let mut actions = vec![action.unwrap_or("lambda:InvokeFunction").to_owned()];
    let mut query = None;
    match parse(&text) {
        Ok(Parsed::Command(request)) => {
            let decision = GUARD.check(&CONFIG.channels[0], &request, None);
            let service = request.service.service.as_str();
            if matches!(decision, Decision::Run | Decision::Confirm) {
                assert!(!matches!(service, "iam" | "sts" | "kms"), "{text}");
                assert!(request.refused_options.is_empty(), "{text}");
                assert!(request.file_values.is_empty(), "{text}");
            }
            actions.push(request.action());
            // What the request would send, rendered as a reply would be.
            render_everywhere(&Value::Object(request.params.clone()));
            query = request.query.clone();
        }
        Ok(Parsed::Unsupported { service, operation }) => {
            let _ = GUARD.unsupported(&service, operation.as_deref());
        }
        Ok(Parsed::Help(help)) => render_everywhere(&json!({ "help": help })),
        Err(e) => render_everywhere(&json!({ "error": e.to_string() })),
    }

    // Replies of any shape: the document if it is JSON, and one derived from the message.
    let mut values = vec![json!({
        "message": message,
        "words": text.split_whitespace().collect::<Vec<_>>(),
        "rows": text.split_whitespace().map(|w| json!({ "w": w, "n": w.len(), "e": {} })).collect::<Vec<_>>(),
    })];
    if let Ok(value) = serde_json::from_str::<Value>(document) {
        values.push(value);
    }
    for value in values {
        render_everywhere(&value);
        if let Some(q) = &query {
            if let Ok(result) = aws_chatops::query::search(value, q) {
                render_everywhere(&result);
            }
        }
    }

    // A guardrail from the input, evaluated for the message's action and the given one.
    if let Ok(policy) = Policy::from_json("fuzz", policy_json) {
        for action in &actions {
            let _ = policy.evaluate(action, resource);
            let _ = policy.evaluate(action, None);
        }
    }
});
