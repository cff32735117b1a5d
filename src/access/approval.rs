//! Two-person approval: `[[channels.approvals]]` names IAM action patterns; a state-changing
//! command with a matching action needs an approver other than the person who asked before
//! that person's Yes.
//!
//! The steps, each a document in the state store ([`DocKind::Approval`]), so a press reaching
//! any process finds them and a race has one winner:
//! 1. The request: `request:<id>` holds who asked, what, where, and its state. Approvers
//!    press Approve or Deny (`@aws approve <id>`, `@aws deny <id>`); the first press moves it
//!    from pending by compare-and-set on its version, so two approvers racing approve once.
//! 2. The grant: `grant:<channel, requester, thread>` names the approved command and the
//!    approver. The requester's Yes takes it (once) and the command runs as them; a Yes for a
//!    command that needs approval and has no matching grant runs nothing.
//!
//! A request expires like a question (`question_ttl_secs`), and so does the grant.

use serde::{Deserialize, Serialize};

use crate::config::{ApprovalConfig, ChannelConfig};
use crate::parse::Request;
use crate::state::stored::StoredRequest;
use crate::state::{DocKind, QuestionMessage, StateError, StateStore, StoredDoc};

/// The approval rules of `channel` that a request falls under: it changes things (not
/// read-only) and one of its IAM actions matches one of the rule's patterns.
pub fn rules_for<'a>(channel: &'a ChannelConfig, request: &Request) -> Vec<&'a ApprovalConfig> {
    if request.operation.read_only {
        return Vec::new();
    }
    let actions: Vec<&str> = request.service.actions(request.operation).collect();
    channel
        .approvals
        .iter()
        .filter(|rule| {
            rule.actions.iter().any(|pattern| {
                actions
                    .iter()
                    .any(|action| crate::policy::action_matches(pattern, action))
            })
        })
        .collect()
}

/// Who may approve under `rules`, as chat shows it: `<@U…>` and `<!subteam^S…>`.
pub fn approvers_text(rules: &[&ApprovalConfig]) -> String {
    let mut names: Vec<String> = Vec::new();
    for rule in rules {
        for user in &rule.approvers {
            names.push(format!("<@{user}>"));
        }
        for group in &rule.approver_groups {
            names.push(format!("<!subteam^{group}>"));
        }
    }
    names.dedup();
    match names.as_slice() {
        [] => "nobody".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Where an approval stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "is", rename_all = "lowercase", deny_unknown_fields)]
pub enum State {
    Pending,
    Approved { by: String },
    Denied { by: String },
}

/// An approval request as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    pub requester: String,
    pub channel: String,
    pub thread: Option<String>,
    pub request: StoredRequest,
    /// The command line, as shown and as the grant must match.
    pub command: String,
    /// Account id and region it runs in.
    pub account: String,
    pub region: String,
    pub asked_at_ms: u64,
    pub state: State,
}

/// The approved command, waiting for the requester's Yes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub approval: String,
    pub approver: String,
    pub command: String,
    pub account: String,
    pub region: String,
    pub granted_at_ms: u64,
}

/// The document id of request `id`.
pub fn request_doc(id: &str) -> String {
    format!("request:{id}")
}

/// The document id of the grant waiting for `requester`'s Yes in `channel` (`thread`).
pub fn grant_doc(channel: &str, requester: &str, thread: Option<&str>) -> String {
    format!(
        "grant:{}",
        serde_json::to_string(&(channel, requester, thread)).unwrap_or_default()
    )
}

/// The document id of the chat message that shows request `id` (its own document: the
/// request's is compare-and-set by every decision, and a process of an older version would
/// refuse a field it doesn't know).
pub fn shown_doc(id: &str) -> String {
    format!("shown:{id}")
}

/// A document read back, with its version.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

fn decode<T: for<'de> Deserialize<'de>>(doc: StoredDoc) -> Result<Versioned<T>, StateError> {
    Ok(Versioned {
        value: serde_json::from_str(&doc.body).map_err(|e| StateError::Corrupt(e.to_string()))?,
        version: doc.version,
    })
}

fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A fresh, short approval id (what the buttons and `@aws approve <id>` carry).
pub fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.write_u32(std::process::id());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// Reads request `id`.
pub async fn read_request(
    store: &dyn StateStore,
    id: &str,
) -> Result<Option<Versioned<ApprovalRequest>>, StateError> {
    store
        .doc(DocKind::Approval, &request_doc(id))
        .await?
        .map(decode)
        .transpose()
}

/// Opens request `id` (a fresh id: nothing is there yet).
pub async fn open_request(
    store: &dyn StateStore,
    id: &str,
    request: &ApprovalRequest,
    expires: u64,
) -> Result<bool, StateError> {
    store
        .put_doc(
            DocKind::Approval,
            &request_doc(id),
            &encode(request),
            None,
            expires,
        )
        .await
}

/// Moves request `id` from `read` to `state`: false when another press changed it first.
pub async fn decide(
    store: &dyn StateStore,
    id: &str,
    read: &Versioned<ApprovalRequest>,
    state: State,
    expires: u64,
) -> Result<bool, StateError> {
    let decided = ApprovalRequest {
        state,
        ..read.value.clone()
    };
    store
        .put_doc(
            DocKind::Approval,
            &request_doc(id),
            &encode(&decided),
            Some(read.version),
            expires,
        )
        .await
}

/// Records the chat message that shows request `id` (recorded once, by the process that
/// posted it), so a decision typed anywhere can close its buttons.
pub async fn put_shown(
    store: &dyn StateStore,
    id: &str,
    message: &QuestionMessage,
    expires: u64,
) -> Result<bool, StateError> {
    store
        .put_doc(
            DocKind::Approval,
            &shown_doc(id),
            &encode(&(&message.ts, &message.text)),
            None,
            expires,
        )
        .await
}

/// The chat message that shows request `id`, if one was recorded.
pub async fn read_shown(
    store: &dyn StateStore,
    id: &str,
) -> Result<Option<QuestionMessage>, StateError> {
    let Some(doc) = store.doc(DocKind::Approval, &shown_doc(id)).await? else {
        return Ok(None);
    };
    let (ts, text): (String, String) = decode(doc)?.value;
    Ok(Some(QuestionMessage { ts, text }))
}

/// Records the grant for the requester's Yes, replacing an older one.
pub async fn put_grant(
    store: &dyn StateStore,
    doc: &str,
    grant: &Grant,
    expires: u64,
) -> Result<(), StateError> {
    // A few tries: only the same requester's other approvals write here.
    for _ in 0..3 {
        let current = store.doc(DocKind::Approval, doc).await?.map(|d| d.version);
        if store
            .put_doc(DocKind::Approval, doc, &encode(grant), current, expires)
            .await?
        {
            return Ok(());
        }
    }
    Err(StateError::Unreachable(
        "the approval's grant kept changing while it was written".into(),
    ))
}

/// Reads the grant waiting at `doc`.
pub async fn read_grant(
    store: &dyn StateStore,
    doc: &str,
) -> Result<Option<Versioned<Grant>>, StateError> {
    store
        .doc(DocKind::Approval, doc)
        .await?
        .map(decode)
        .transpose()
}

/// Takes the grant (once): true for the one Yes that may run the command.
pub async fn take_grant(
    store: &dyn StateStore,
    doc: &str,
    version: u64,
) -> Result<bool, StateError> {
    store.take_doc(DocKind::Approval, doc, version).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse, Parsed};

    fn request(text: &str) -> Box<Request> {
        let Ok(Parsed::Command(r)) = parse(text) else {
            panic!("{text} parses")
        };
        r
    }

    fn channel(approvals: &str) -> ChannelConfig {
        let demo = include_str!("../../fixtures/config/demo.toml");
        let text = demo.replace(
            "# Notifications arrive",
            &format!("{approvals}\n# Notifications arrive"),
        );
        crate::config::Config::from_toml(&text)
            .unwrap()
            .channels
            .remove(0)
    }

    #[test]
    fn state_changing_commands_match_by_iam_action_pattern() {
        let c = channel(
            r#"
[[channels.approvals]]
actions = ["lambda:Invoke*", "ec2:StopInstances"]
approvers = ["U0BOB", "U0CAROL"]
approver_groups = ["S0LEADS"]
"#,
        );
        for (text, needs) in [
            ("lambda invoke --function-name f", true),
            (
                "lambda invoke-async --function-name f --invoke-args x",
                true,
            ),
            ("ec2 stop-instances --instance-ids i-1", true),
            ("ec2 start-instances --instance-ids i-1", false),
            ("lambda list-functions", false),
            ("lambda get-function --function-name f", false),
            ("lambda delete-function --function-name f", false),
        ] {
            assert_eq!(!rules_for(&c, &request(text)).is_empty(), needs, "{text}");
        }
        let rules = rules_for(&c, &request("lambda invoke --function-name f"));
        assert_eq!(
            approvers_text(&rules),
            "<@U0BOB>, <@U0CAROL> or <!subteam^S0LEADS>"
        );
    }

    #[test]
    fn a_read_only_operation_never_needs_approval_whatever_the_pattern() {
        let c = channel("[[channels.approvals]]\nactions = [\"*\"]\napprovers = [\"U0BOB\"]\n");
        assert!(rules_for(&c, &request("lambda list-functions")).is_empty());
        assert!(!rules_for(&c, &request("lambda delete-function --function-name f")).is_empty());
    }

    #[test]
    fn documents_round_trip() {
        let r = ApprovalRequest {
            requester: "U1".into(),
            channel: "C1".into(),
            thread: None,
            request: StoredRequest::from_request(&request("lambda invoke --function-name f")),
            command: "lambda invoke --function-name f".into(),
            account: "111111111111".into(),
            region: "us-east-1".into(),
            asked_at_ms: 1,
            state: State::Approved { by: "U2".into() },
        };
        let text = encode(&r);
        assert!(text.contains("\"is\":\"approved\""), "{text}");
        let back: ApprovalRequest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
        assert_ne!(
            grant_doc("C1", "U1", None),
            grant_doc("C1", "U1", Some("1.2"))
        );
        assert_ne!(new_id(), new_id());
    }
}
