//! The integration tests, as one binary: each file of tests/ is a module of it, so the
//! harness (support, the Slack test server) is compiled once and one binary is linked, not
//! two dozen of ~100 MB each. Run one file's tests with `cargo test --test integration <file>::`.

mod slack_server;
mod support;
// A notifier posting to the Slack test server: it needs both harnesses above, and the
// benches that include `support` have no Slack server.
#[path = "support/notified.rs"]
mod notified;

mod access;
mod aliases;
mod audit;
mod charts;
mod choices;
mod conversation;
mod differential;
mod engine;
mod explain;
mod guardrail_reference;
mod guardrails;
mod masking_corpus;
mod notifications;
mod oracle;
mod progress;
mod robustness;
mod show_logs;
mod slack;
mod slack_access;
mod slack_actions;
mod slack_notifications;
mod slack_show_logs;
mod state_contract;
mod state_processes;
mod stored_data;
mod views;
