//! Loading a policy document: strict parsing, with an error that names the file, the
//! statement and the element at fault.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Effect, Glob, Patterns, Policy, Statement, VERSION};

/// Why a policy file was refused. The Display text is what an admin reads at startup,
/// so each one names the file, the statement and the element at fault.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{policy}: cannot read it: {source}")]
    Read {
        policy: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{policy}: not valid JSON: {source}")]
    InvalidJson {
        policy: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{policy}: {at} must be {expected}, not {found}")]
    WrongType {
        policy: String,
        at: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{policy}: {at} has the element `{element}` twice")]
    DuplicateElement {
        policy: String,
        at: String,
        element: String,
    },
    #[error(
        "{policy}: unknown top-level element `{element}`{hint} (allowed: Version, Id, Statement)"
    )]
    UnknownTopLevelElement {
        policy: String,
        element: String,
        hint: Hint,
    },
    #[error("{policy}: `Version` is missing; write \"Version\": \"2012-10-17\" (IAM would otherwise assume the older 2008-10-17 language)")]
    MissingVersion { policy: String },
    #[error("{policy}: `Version` is \"{version}\", but only \"2012-10-17\" is supported")]
    UnsupportedVersion { policy: String, version: String },
    #[error("{policy}: `Statement` is missing")]
    MissingStatement { policy: String },
    #[error("{policy}: `Statement` is an empty list; a policy needs at least one statement")]
    NoStatements { policy: String },
    #[error("{policy}: {statement} has a `Sid` of \"{sid}\": {reason}")]
    BadSid {
        policy: String,
        statement: StatementRef,
        sid: String,
        reason: &'static str,
    },
    #[error("{policy}: {statement} uses `{element}`, which this bot does not support (it evaluates only Action/NotAction and Resource/NotResource, and will not silently ignore a restriction); remove it, or express the restriction with Resource ARNs")]
    UnsupportedElement {
        policy: String,
        statement: StatementRef,
        element: String,
    },
    #[error("{policy}: {statement} has an unknown element `{element}`{hint} (allowed: Sid, Effect, Action, NotAction, Resource, NotResource)")]
    UnknownElement {
        policy: String,
        statement: StatementRef,
        element: String,
        hint: Hint,
    },
    #[error("{policy}: {statement} has no `Effect`; write \"Effect\": \"Allow\" or \"Effect\": \"Deny\"")]
    MissingEffect {
        policy: String,
        statement: StatementRef,
    },
    #[error(
        "{policy}: {statement} has `Effect` \"{value}\"; it must be exactly \"Allow\" or \"Deny\""
    )]
    BadEffect {
        policy: String,
        statement: StatementRef,
        value: String,
    },
    #[error("{policy}: {statement} has neither `Action` nor `NotAction`; it needs exactly one")]
    MissingAction {
        policy: String,
        statement: StatementRef,
    },
    #[error("{policy}: {statement} has both `Action` and `NotAction`; it needs exactly one")]
    ActionAndNotAction {
        policy: String,
        statement: StatementRef,
    },
    #[error("{policy}: {statement} has neither `Resource` nor `NotResource`; IAM requires one (use \"Resource\": \"*\" for all resources)")]
    MissingResource {
        policy: String,
        statement: StatementRef,
    },
    #[error("{policy}: {statement} has both `Resource` and `NotResource`; it needs exactly one")]
    ResourceAndNotResource {
        policy: String,
        statement: StatementRef,
    },
    #[error("{policy}: {statement} has an empty `{element}` list")]
    EmptyList {
        policy: String,
        statement: StatementRef,
        element: &'static str,
    },
    #[error("{policy}: {statement} has the action \"{pattern}\", which {reason}")]
    BadAction {
        policy: String,
        statement: StatementRef,
        pattern: String,
        reason: String,
    },
    #[error("{policy}: {statement} has the resource \"{pattern}\", which {reason}")]
    BadResource {
        policy: String,
        statement: StatementRef,
        pattern: String,
        reason: String,
    },
}

/// Names a statement in an error: by its Sid when it has one (what the admin wrote),
/// otherwise by its 1-based position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    pub index: usize,
    pub sid: Option<String>,
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sid {
            Some(sid) => write!(f, "statement \"{sid}\""),
            None => write!(f, "statement #{}", self.index),
        }
    }
}

/// A "did you mean" suffix for an element name that differs only in letter case
/// (element names are case-sensitive in IAM); empty when there is no such name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint(Option<&'static str>);

impl Hint {
    fn for_name(name: &str, known: &[&'static str]) -> Hint {
        Hint(known.iter().copied().find(|k| k.eq_ignore_ascii_case(name)))
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(k) => write!(f, " (did you mean `{k}`? element names are case-sensitive)"),
            None => Ok(()),
        }
    }
}

const TOP_LEVEL_ELEMENTS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
];
/// Real IAM statement elements that we refuse by name, so the message says "not
/// supported" rather than "unknown".
const UNSUPPORTED_ELEMENTS: &[&str] = &["Condition", "Principal", "NotPrincipal"];

impl Policy {
    /// Parses and validates a policy document. `name` is what refusals cite (e.g.
    /// "policies/builtin-deny.json" or the guardrail path), and what errors name.
    /// Loads a guardrail file; refusals cite it by the path given.
    pub fn load(path: &std::path::Path) -> Result<Policy, PolicyError> {
        let name = path.display().to_string();
        let json = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            policy: name.clone(),
            source,
        })?;
        Policy::from_json(&name, &json)
    }

    pub fn from_json(name: &str, json: &str) -> Result<Policy, PolicyError> {
        let policy = name.to_string();
        // Editors on Windows like to start files with a byte-order mark; serde_json
        // refuses it, and it carries no meaning here.
        let json = json.strip_prefix('\u{feff}').unwrap_or(json);
        let root: Node = serde_json::from_str(json).map_err(|source| PolicyError::InvalidJson {
            policy: policy.clone(),
            source,
        })?;
        let entries = expect_object(&policy, "the policy document", root)?;

        let mut version = None;
        let mut statement = None;
        for (key, value) in entries {
            match key.as_str() {
                "Version" => version = Some(expect_string(&policy, "`Version`", value)?),
                // An Id is only a label for the document: accepted and ignored, as IAM does.
                "Id" => {
                    expect_string(&policy, "`Id`", value)?;
                }
                "Statement" => statement = Some(value),
                _ => {
                    return Err(PolicyError::UnknownTopLevelElement {
                        hint: Hint::for_name(&key, TOP_LEVEL_ELEMENTS),
                        policy,
                        element: key,
                    })
                }
            }
        }

        match version {
            None => return Err(PolicyError::MissingVersion { policy }),
            Some(v) if v != VERSION => {
                return Err(PolicyError::UnsupportedVersion { policy, version: v })
            }
            Some(_) => {}
        }

        let raw_statements = match statement {
            None => return Err(PolicyError::MissingStatement { policy }),
            Some(Node::Array(items)) if items.is_empty() => {
                return Err(PolicyError::NoStatements { policy })
            }
            Some(Node::Array(items)) => items,
            Some(object @ Node::Object(_)) => vec![object],
            Some(other) => {
                return Err(PolicyError::WrongType {
                    policy,
                    at: "`Statement`".into(),
                    expected: "an object or an array of objects",
                    found: other.kind(),
                })
            }
        };

        let mut statements = Vec::with_capacity(raw_statements.len());
        let mut sids = HashSet::new();
        for (i, raw) in raw_statements.into_iter().enumerate() {
            let st = parse_statement(&policy, i + 1, raw)?;
            if let Some(sid) = &st.sid {
                if !sids.insert(sid.clone()) {
                    return Err(PolicyError::BadSid {
                        policy,
                        statement: StatementRef {
                            index: i + 1,
                            sid: None,
                        },
                        sid: sid.clone(),
                        reason: "another statement already has this Sid (Sids must be unique within a policy, so a refusal names one statement)",
                    });
                }
            }
            statements.push(st);
        }
        Ok(Policy {
            name: policy,
            statements,
        })
    }
}

fn parse_statement(policy: &str, index: usize, raw: Node) -> Result<Statement, PolicyError> {
    let at = format!("statement #{index}");
    let entries = expect_object(policy, &at, raw)?;

    // Read the Sid first so that every later error can name the statement by it.
    let mut sid = None;
    for (key, value) in &entries {
        if key == "Sid" {
            let s = expect_string(policy, &format!("`Sid` of {at}"), value.clone())?;
            let reason = if s.is_empty() {
                Some("a Sid must not be empty")
            } else if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                Some("IAM allows only ASCII letters and digits in a Sid")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(PolicyError::BadSid {
                    policy: policy.into(),
                    statement: StatementRef { index, sid: None },
                    sid: s,
                    reason,
                });
            }
            sid = Some(s);
        }
    }
    let sref = StatementRef {
        index,
        sid: sid.clone(),
    };

    let mut effect = None;
    let mut action = None;
    let mut not_action = None;
    let mut resource = None;
    let mut not_resource = None;
    for (key, value) in entries {
        match key.as_str() {
            "Sid" => {}
            "Effect" => effect = Some(value),
            "Action" => action = Some(value),
            "NotAction" => not_action = Some(value),
            "Resource" => resource = Some(value),
            "NotResource" => not_resource = Some(value),
            k if UNSUPPORTED_ELEMENTS.contains(&k) => {
                return Err(PolicyError::UnsupportedElement {
                    policy: policy.into(),
                    statement: sref,
                    element: key,
                })
            }
            _ => {
                return Err(PolicyError::UnknownElement {
                    policy: policy.into(),
                    statement: sref,
                    hint: Hint::for_name(&key, STATEMENT_ELEMENTS),
                    element: key,
                })
            }
        }
    }

    let effect = match effect {
        None => {
            return Err(PolicyError::MissingEffect {
                policy: policy.into(),
                statement: sref,
            })
        }
        Some(v) => match expect_string(policy, &format!("`Effect` of {sref}"), v)?.as_str() {
            // Exact case, as IAM requires: "allow" is refused, not guessed at.
            "Allow" => Effect::Allow,
            "Deny" => Effect::Deny,
            other => {
                return Err(PolicyError::BadEffect {
                    policy: policy.into(),
                    statement: sref,
                    value: other.into(),
                })
            }
        },
    };

    let (action_node, action_element, actions_negated) = match (action, not_action) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::ActionAndNotAction {
                policy: policy.into(),
                statement: sref,
            })
        }
        (None, None) => {
            return Err(PolicyError::MissingAction {
                policy: policy.into(),
                statement: sref,
            })
        }
        (Some(a), None) => (a, "Action", false),
        (None, Some(a)) => (a, "NotAction", true),
    };
    let (resource_node, resource_element, resources_negated) = match (resource, not_resource) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::ResourceAndNotResource {
                policy: policy.into(),
                statement: sref,
            })
        }
        (None, None) => {
            return Err(PolicyError::MissingResource {
                policy: policy.into(),
                statement: sref,
            })
        }
        (Some(r), None) => (r, "Resource", false),
        (None, Some(r)) => (r, "NotResource", true),
    };

    let mut action_globs = Vec::new();
    for pattern in string_list(policy, &sref, action_element, action_node)? {
        match check_action(&pattern) {
            Ok(()) => action_globs.push(Glob::action(&pattern)),
            Err(reason) => {
                return Err(PolicyError::BadAction {
                    policy: policy.into(),
                    statement: sref,
                    pattern,
                    reason,
                })
            }
        }
    }
    let mut resource_globs = Vec::new();
    for pattern in string_list(policy, &sref, resource_element, resource_node)? {
        match check_resource(&pattern) {
            Ok(()) => resource_globs.push(Glob::resource(&pattern)),
            Err(reason) => {
                return Err(PolicyError::BadResource {
                    policy: policy.into(),
                    statement: sref,
                    pattern,
                    reason: reason.into(),
                })
            }
        }
    }

    Ok(Statement {
        sid,
        effect,
        actions: Patterns {
            negated: actions_negated,
            globs: action_globs,
        },
        resources: Patterns {
            negated: resources_negated,
            globs: resource_globs,
        },
    })
}

/// An action pattern is `*` or `service:Operation`, where the operation may hold
/// wildcards. The service prefix may not (IAM has no `*:Get*`), and a CLI-style
/// name such as `lambda:list-functions` is refused with the IAM spelling, since it
/// would otherwise match nothing and the statement would be dead.
fn check_action(pattern: &str) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    let Some((service, op)) = pattern.split_once(':') else {
        return Err(
            "must be `*` or look like `service:Operation` (e.g. `lambda:ListFunctions`)".into(),
        );
    };
    if service.is_empty()
        || !service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(format!(
            "has the service prefix `{service}`; a prefix is letters, digits and `-` only, with no wildcards"
        ));
    }
    if op.is_empty() {
        return Err(format!(
            "names no operation (use `{service}:*` for all of them)"
        ));
    }
    if op.contains('-')
        && op
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-*?".contains(c))
    {
        let iam_name = crate::catalog::api_name(op);
        return Err(format!(
            "looks like an AWS CLI command name; IAM actions use the API operation name, e.g. `{service}:{iam_name}`"
        ));
    }
    if !op
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
    {
        return Err(
            "may contain only letters, digits and the wildcards `*` and `?` after the `:`".into(),
        );
    }
    Ok(())
}

/// A resource pattern is `*` or an ARN pattern with all six parts. Policy variables
/// (`${aws:username}`) are refused: this bot has no principal to fill them from, and
/// matching them literally would quietly never match.
fn check_resource(pattern: &str) -> Result<(), &'static str> {
    if pattern == "*" {
        return Ok(());
    }
    if pattern.contains("${") {
        return Err("uses a policy variable (`${...}`), which this bot does not support");
    }
    if !pattern.starts_with("arn:") {
        return Err("must be `*` or an ARN (`arn:partition:service:region:account:resource`)");
    }
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    if parts.len() < 6 {
        return Err("is not a complete ARN: it needs six `:`-separated parts (`arn:partition:service:region:account:resource`; region and account may be empty)");
    }
    if parts[2].is_empty() {
        return Err("has an empty service part");
    }
    if parts[2].contains(['*', '?']) {
        return Err("has a wildcard in the service part, which IAM does not allow");
    }
    if wildcard_in_resource_type(&parts) {
        return Err("has a wildcard in the resource type (the part before the first `:` or `/` after the account, as in `function:` or `instance/`), which IAM documents as incorrect and does not match; spell the type out (e.g. `function:*`), or end the ARN with a lone `*` (e.g. `arn:aws:logs:*:*:*`)");
    }
    Ok(())
}

/// Whether a wildcard stands in the resource type: the resource part up to its first `:`
/// or `/`, when one follows (`*:x`, `fun*tion:x`, `*/i-1`). IAM's documentation calls this
/// incorrect wildcard usage, and the reference evaluator of `tests/guardrail_reference.rs`
/// never matches such a pattern, so a Deny written that way would quietly deny nothing;
/// refusing it is the fail-closed choice. S3 paths (`arn:aws:s3:::bucket*/key`, no region
/// and no account) have no resource type: the text before the `/` is the bucket name.
fn wildcard_in_resource_type(parts: &[&str]) -> bool {
    let [_, _, service, region, account, resource] = parts else {
        return false;
    };
    if *service == "s3" && region.is_empty() && account.is_empty() {
        return false;
    }
    resource
        .find([':', '/'])
        .is_some_and(|end| resource[..end].contains(['*', '?']))
}

fn expect_object(policy: &str, at: &str, node: Node) -> Result<Vec<(String, Node)>, PolicyError> {
    match node {
        Node::Object(entries) => {
            let mut seen = HashSet::new();
            for (key, _) in &entries {
                if !seen.insert(key.as_str()) {
                    return Err(PolicyError::DuplicateElement {
                        policy: policy.into(),
                        at: at.into(),
                        element: key.clone(),
                    });
                }
            }
            Ok(entries)
        }
        other => Err(PolicyError::WrongType {
            policy: policy.into(),
            at: at.into(),
            expected: "a JSON object",
            found: other.kind(),
        }),
    }
}

fn expect_string(policy: &str, at: &str, node: Node) -> Result<String, PolicyError> {
    match node {
        Node::String(s) => Ok(s),
        other => Err(PolicyError::WrongType {
            policy: policy.into(),
            at: at.into(),
            expected: "a string",
            found: other.kind(),
        }),
    }
}

/// `Action`, `Resource` and their Not- forms take a string or a non-empty array of
/// strings.
fn string_list(
    policy: &str,
    sref: &StatementRef,
    element: &'static str,
    node: Node,
) -> Result<Vec<String>, PolicyError> {
    let at = format!("`{element}` of {sref}");
    match node {
        Node::String(s) => Ok(vec![s]),
        Node::Array(items) if items.is_empty() => Err(PolicyError::EmptyList {
            policy: policy.into(),
            statement: sref.clone(),
            element,
        }),
        Node::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Node::String(s) => Ok(s),
                other => Err(PolicyError::WrongType {
                    policy: policy.into(),
                    at: at.clone(),
                    expected: "a list of strings",
                    found: other.kind(),
                }),
            })
            .collect(),
        other => Err(PolicyError::WrongType {
            policy: policy.into(),
            at,
            expected: "a string or an array of strings",
            found: other.kind(),
        }),
    }
}

/// A JSON value that keeps every object member in order, duplicates included.
/// `serde_json::Value` keeps only the last of duplicate keys, which would let
/// `{"Effect": "Deny", ..., "Effect": "Allow"}` load silently as an Allow; we want
/// to refuse that instead.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Bool,
    Number,
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool => "a boolean",
            Node::Number => "a number",
            Node::String(_) => "a string",
            Node::Array(_) => "an array",
            Node::Object(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Bool)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Number)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Number)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Number)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            entries.push((key, value));
        }
        Ok(Node::Object(entries))
    }
}
