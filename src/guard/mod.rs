//! Decides, before any AWS call, whether a command may run. A chat channel is a shared
//! terminal into an AWS account that anyone in it can type into from a phone, so the guard
//! fails closed and every refusal names the rule that refused it.
//!
//! In order: who is asking (configured channel, same workspace, allowed user); the built-in
//! deny list (IAM, STS, KMS, credential-returning calls), whatever the role allows; options
//! and values that could redirect the call or read files; the read-only rule with its short
//! allowlist of state-changing commands that ask for confirmation; the channel's guardrails.
//!
//! Every rule speaks IAM: a command is the IAM actions it needs and the resources each acts
//! on ([`authorize`]), and policies are evaluated on those as IAM evaluates them ([`policy`]).

mod authorize;
mod lambda;
mod partiql;

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

pub use authorize::{authorizations, Authorization, OtherAccount, Place, Unauthorizable};
pub use lambda::FunctionRef;
pub use partiql::StatementError;

use crate::config::{ChannelConfig, Config};
use crate::parse::Request;
use crate::policy::{self, Evaluation, NamedResource, Policy, Scope};

/// State-changing IAM actions a channel may run, after a Yes. Everything else that changes
/// resources is refused.
pub const CONFIRM_ALLOWLIST: &[&str] = &[
    "lambda:InvokeFunction",
    "support:CreateCase",
    "support:AddCommunicationToCase",
    "support:ResolveCase",
    "support:RefreshTrustedAdvisorCheck",
];

/// Reads that return the data a service stores, or take messages off a queue: refused unless
/// a guardrail of the channel allows the action by name, as (AWS CLI service, command, the
/// parameter that makes it one, what it returns). `ssm get-parameter` is one only
/// `--with-decryption`: without it a SecureString's value stays encrypted.
pub const DATA_PLANE: &[(&str, &str, Option<&str>, &str)] = &[
    ("s3api", "get-object", None, OBJECTS),
    ("s3api", "select-object-content", None, OBJECTS),
    ("s3api", "get-object-torrent", None, OBJECTS),
    ("dynamodb", "get-item", None, ITEMS),
    ("dynamodb", "batch-get-item", None, ITEMS),
    ("dynamodb", "transact-get-items", None, ITEMS),
    ("dynamodb", "query", None, ITEMS),
    ("dynamodb", "scan", None, ITEMS),
    ("dynamodb", "execute-statement", None, ITEMS),
    ("dynamodb", "batch-execute-statement", None, ITEMS),
    ("dynamodbstreams", "get-records", None, ITEMS),
    (
        "sqs",
        "receive-message",
        None,
        "takes messages off the queue, hiding them from their consumers for a while",
    ),
    (
        "kinesis",
        "get-records",
        None,
        "returns the records of a stream",
    ),
    ("ssm", "get-parameter", Some("WithDecryption"), PARAMETERS),
    ("ssm", "get-parameters", Some("WithDecryption"), PARAMETERS),
    (
        "ssm",
        "get-parameters-by-path",
        Some("WithDecryption"),
        PARAMETERS,
    ),
    (
        "ssm",
        "get-parameter-history",
        Some("WithDecryption"),
        PARAMETERS,
    ),
];
const OBJECTS: &str = "returns the content of S3 objects";
const ITEMS: &str = "returns the items stored in DynamoDB";
const PARAMETERS: &str =
    "with --with-decryption returns the decrypted values of SecureString parameters";

/// Why a request is a read of stored data, if it is one.
fn data_plane(request: &Request) -> Option<&'static str> {
    DATA_PLANE
        .iter()
        .find(|(service, op, member, _)| {
            request.service.service == *service
                && request.operation.name == *op
                && member.is_none_or(|m| request.params.get(m) == Some(&Value::Bool(true)))
        })
        .map(|(.., why)| *why)
}

/// Whether a guardrail allows the authorization by name: an Allow that matches it and not
/// also an action of no service at all (a bare `"Action": "*"` allows everything without
/// saying so). Before the account is known (`final_pass` false) an Allow scoped to
/// resources may still apply.
fn allows_by_name(policy: &Policy, a: &Authorization, final_pass: bool) -> bool {
    let allows = |action: &str| match policy.decide(action, &a.scope) {
        Evaluation::Allowed { .. } => true,
        Evaluation::Unresolved { deny: false, .. } => !final_pass,
        _ => false,
    };
    allows(a.action) && !allows("aws-chatops-none:Nothing")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run,
    Confirm,
    Deny(Refusal),
}

/// Why a message was refused: the rule, and for a denied action the action and the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: Rule,
    pub action: Option<String>,
    /// The resource ARN the refusal is about, when one is.
    pub resource: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The always-on deny list; `sid` is the statement that matched.
    BuiltinDeny {
        sid: String,
    },
    UnsupportedService {
        service: String,
    },
    /// One of the AWS CLI's own commands (`s3 ls`), which is no API operation.
    LocalCommand {
        command: String,
        advice: String,
    },
    /// A read of stored data (or of a queue's messages) that no guardrail of the channel
    /// allows by name ([`DATA_PLANE`]).
    DataPlane {
        why: &'static str,
    },
    /// The operation has no IAM action in AWS's reference, so no policy can be checked.
    NoIamAction,
    /// A PartiQL statement whose kind or table the bot can't read for certain, so it can't
    /// tell which IAM action it needs, on what.
    Statement {
        why: StatementError,
    },
    ReadOnly,
    Attachments,
    Option {
        option: String,
    },
    FileValue {
        value: String,
    },
    Chaining {
        operator: String,
    },
    LookAlike {
        detail: String,
    },
    /// A guardrail denies it (`sid`), or no statement allows it (`sid` is `None`).
    Guardrail {
        file: String,
        sid: Option<String>,
    },
    /// A guardrail scoped to particular resources might apply, and the command's resources
    /// are unknown (`why`). With `deny`, a Deny (`sid`) might hold; otherwise an Allow is
    /// scoped to resources the command may leave.
    GuardrailUnresolved(Box<Unresolved>),
    /// The command names a resource in another account than the channel's.
    OtherAccount {
        account: String,
    },
    ChannelNotConfigured,
    ExternalUser {
        team: String,
    },
    DirectMessage,
    UserNotAllowed,
    /// Per-user roles and approvals ([`crate::access`]): `rule` names it for the audit trail
    /// (`user-role`, `group-lookup`, `approval`), `why` is what the person reads.
    Access {
        rule: &'static str,
        why: String,
    },
}

/// A guardrail that might apply to resources the bot can't name (see [`Rule::GuardrailUnresolved`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub file: String,
    pub sid: Option<String>,
    pub deny: bool,
    pub why: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = self.action.as_deref().unwrap_or("this command");
        let on = match &self.resource {
            Some(arn) => format!(" on {arn}"),
            None => String::new(),
        };
        match &self.rule {
            Rule::BuiltinDeny { sid } => write!(
                f,
                "Refused by the built-in deny list (policies/builtin-deny.json, statement {sid}): {action} is never run from chat, whatever the channel's role allows."
            ),
            Rule::UnsupportedService { service } => write!(
                f,
                "Refused: `{service}` is not a supported service. Supported: {}.",
                crate::parse::supported_services()
            ),
            Rule::LocalCommand { command, advice } => write!(
                f,
                "Refused: `{command}` is the AWS CLI's own command, run on your machine, not an AWS API operation, so the bot can't run it. {advice}"
            ),
            Rule::DataPlane { why } => write!(
                f,
                "Refused by the stored-data rule: {action} {why}, which a channel sees only where its admin allows it. To allow it, add a statement to one of this channel's guardrail files: {{\"Effect\": \"Allow\", \"Action\": \"{action}\", \"Resource\": \"*\"}} (or name the resources instead of `*`)."
            ),
            Rule::Statement { why } => write!(
                f,
                "Refused: the bot can't tell what this PartiQL statement does: {why}. IAM authorizes a statement by its kind (a SELECT needs dynamodb:PartiQLSelect) on the table it names, so a statement runs only when both are plain. Start it with SELECT and name the table after FROM, quoted if need be (`FROM \"my-table\"`)."
            ),
            Rule::NoIamAction => write!(
                f,
                "Refused: {action} has no IAM action in AWS's Service Authorization Reference, so the bot can't check it against this channel's rules."
            ),
            Rule::ReadOnly => write!(
                f,
                "Refused by the read-only rule: {action} changes resources, and channels may only run read-only commands (plus {}).",
                CONFIRM_ALLOWLIST.join(", ")
            ),
            Rule::Attachments => write!(
                f,
                "Refused: attachments can't be added from a channel ({action})."
            ),
            Rule::Option { option } => write!(
                f,
                "Refused by the option rule: `{option}` could redirect the call or change whose credentials are used, so it is not accepted in chat."
            ),
            Rule::FileValue { value } => write!(
                f,
                "Refused by the option rule: `{value}` names a file or a URL; the bot reads no files and fetches no URLs. Paste the value itself."
            ),
            Rule::Chaining { operator } => write!(
                f,
                "Refused by the single-command rule: the message chains a second command with {operator}, so none of it was run."
            ),
            Rule::LookAlike { detail } => write!(
                f,
                "Refused by the plain-names rule: {detail}."
            ),
            Rule::Guardrail { file, sid } => match sid {
                Some(sid) => write!(
                    f,
                    "Refused by this channel's guardrail {file} (statement {sid}): {action} is denied{on}."
                ),
                None => write!(
                    f,
                    "Refused by this channel's guardrail {file}: no statement allows {action}{on}."
                ),
            },
            Rule::GuardrailUnresolved(u) if u.deny => write!(
                f,
                "Refused by this channel's guardrail {} (statement {}): it denies {action} on some resources, and {}, so the bot can't tell that this command stays clear of them. Name the resource exactly.",
                u.file,
                u.sid.as_deref().unwrap_or("without a Sid"),
                u.why
            ),
            Rule::GuardrailUnresolved(u) => write!(
                f,
                "Refused by this channel's guardrail {}: {action} is allowed only on particular resources, and {}. Name the resource exactly.",
                u.file, u.why
            ),
            Rule::OtherAccount { account } => write!(
                f,
                "Refused: {}is in account {account}, not in this channel's account. Commands only reach the account the channel is bound to.",
                self.resource.as_deref().map(|arn| format!("{arn} ")).unwrap_or_default()
            ),
            Rule::ChannelNotConfigured => write!(
                f,
                "This channel isn't set up for AWS commands. An admin can add it to the aws-chatops configuration."
            ),
            Rule::ExternalUser { team } => write!(
                f,
                "Refused: commands are only taken from members of this workspace (you are in {team})."
            ),
            Rule::DirectMessage => write!(
                f,
                "Refused: direct messages aren't enabled for AWS commands; use a configured channel."
            ),
            Rule::UserNotAllowed => write!(
                f,
                "Refused: you are not on this channel's list of users who may run AWS commands."
            ),
            Rule::Access { why, .. } => write!(f, "Refused: {why}"),
        }
    }
}

impl Refusal {
    pub fn new(rule: Rule) -> Refusal {
        Refusal {
            rule,
            action: None,
            resource: None,
        }
    }

    fn of(rule: Rule, action: &str) -> Refusal {
        Refusal {
            rule,
            action: Some(action.to_owned()),
            resource: None,
        }
    }

    /// The rule's short name, for `explain` and the audit trail.
    pub fn rule_name(&self) -> &'static str {
        match self.rule {
            Rule::BuiltinDeny { .. } => "builtin-deny",
            Rule::UnsupportedService { .. } => "unsupported-service",
            Rule::LocalCommand { .. } => "local-command",
            Rule::DataPlane { .. } => "stored-data",
            Rule::NoIamAction => "no-iam-action",
            Rule::Statement { .. } => "partiql-statement",
            Rule::ReadOnly => "read-only",
            Rule::Attachments => "attachments",
            Rule::Option { .. } | Rule::FileValue { .. } => "option",
            Rule::Chaining { .. } => "single-command",
            Rule::LookAlike { .. } => "plain-names",
            Rule::Guardrail { .. } => "guardrail",
            Rule::GuardrailUnresolved(_) => "guardrail-resource-unknown",
            Rule::OtherAccount { .. } => "other-account",
            Rule::ChannelNotConfigured => "channel-not-configured",
            Rule::ExternalUser { .. } => "external-user",
            Rule::DirectMessage => "direct-message",
            Rule::UserNotAllowed => "user-not-allowed",
            Rule::Access { rule, .. } => rule,
        }
    }
}

/// Who sent a message, as the guard needs to know it.
#[derive(Debug, Clone)]
pub struct Sender<'a> {
    pub team: &'a str,
    pub channel: &'a str,
    pub user: &'a str,
    pub direct_message: bool,
}

pub struct Guard {
    builtin: Policy,
    guardrails: HashMap<String, Vec<Policy>>,
}

impl Guard {
    /// Loads every channel's guardrails; a file that fails to load stops startup (check-config
    /// reports the same problem with its path).
    pub fn new(config: &Config) -> Result<Guard, policy::PolicyError> {
        let mut guardrails = HashMap::new();
        for channel in &config.channels {
            let policies = channel
                .guardrails
                .iter()
                .map(|path| Policy::load(path))
                .collect::<Result<Vec<_>, _>>()?;
            guardrails.insert(channel.id.clone(), policies);
        }
        Ok(Guard {
            builtin: policy::builtin_deny(),
            guardrails,
        })
    }

    /// The channel whose accounts and rules apply, or why the sender may not run commands.
    pub fn admit<'c>(
        &self,
        config: &'c Config,
        sender: &Sender,
    ) -> Result<&'c ChannelConfig, Refusal> {
        if sender.team != config.slack.team_id {
            return Err(Refusal::new(Rule::ExternalUser {
                team: sender.team.to_owned(),
            }));
        }
        let channel = if sender.direct_message {
            if !config.slack.allow_direct_messages {
                return Err(Refusal::new(Rule::DirectMessage));
            }
            config
                .slack
                .direct_message_channel
                .as_deref()
                .and_then(|id| config.channel(id))
                .ok_or_else(|| Refusal::new(Rule::DirectMessage))?
        } else {
            config
                .channel(sender.channel)
                .ok_or_else(|| Refusal::new(Rule::ChannelNotConfigured))?
        };
        if let Some(users) = &channel.allowed_users {
            if !users.iter().any(|u| u == sender.user) {
                return Err(Refusal::new(Rule::UserNotAllowed));
            }
        }
        Ok(channel)
    }

    /// A service the bot doesn't run: refused by the deny list if it is on it, otherwise as
    /// unsupported.
    pub fn unsupported(&self, service: &str, operation: Option<&str>) -> Refusal {
        let action = format!(
            "{service}:{}",
            operation
                .map(crate::catalog::api_name)
                .unwrap_or_else(|| "*".into())
        );
        match self.builtin.evaluate(&action, None) {
            Evaluation::ExplicitDeny { sid } => Refusal::of(
                Rule::BuiltinDeny {
                    sid: sid.unwrap_or_default(),
                },
                &action,
            ),
            _ => match operation {
                Some(op) if crate::catalog::Catalog::builtin().is_local_command(service, op) => {
                    Refusal::of(
                        Rule::LocalCommand {
                            command: format!("{service} {op}"),
                            advice: crate::catalog::local_command_advice(service, op),
                        },
                        &action,
                    )
                }
                _ => Refusal::of(
                    Rule::UnsupportedService {
                        service: service.to_owned(),
                    },
                    &action,
                ),
            },
        }
    }

    /// The decision for a parsed command in a channel. `place` is the account and region it
    /// runs in; without one (before the account is chosen) only what holds for every resource
    /// decides, so a refusal then is final and anything else waits for the account.
    pub fn check(
        &self,
        channel: &ChannelConfig,
        request: &Request,
        place: Option<Place<'_>>,
    ) -> Decision {
        let authorizations = match authorizations(request, place) {
            Ok(a) => a,
            Err(Unauthorizable::OtherAccount(other)) => {
                return Decision::Deny(Refusal {
                    rule: Rule::OtherAccount {
                        account: other.account,
                    },
                    action: Some(request.action()),
                    resource: Some(other.arn),
                })
            }
            Err(Unauthorizable::Statement(why)) => {
                return Decision::Deny(Refusal::of(Rule::Statement { why }, &request.action()))
            }
        };
        let action = request.action();
        let refuse = |rule| Decision::Deny(Refusal::of(rule, &action));
        if authorizations.is_empty() {
            // `service:Api` where the reference has no action: the deny list still speaks
            // (every operation of `iam`, `sts`, `kms`), and otherwise nothing can be checked.
            if let Evaluation::ExplicitDeny { sid } = self.builtin.evaluate(&action, None) {
                return refuse(Rule::BuiltinDeny {
                    sid: sid.unwrap_or_default(),
                });
            }
            return refuse(Rule::NoIamAction);
        }
        for a in &authorizations {
            if let Evaluation::ExplicitDeny { sid } = self.builtin.decide(a.action, &a.scope) {
                return Decision::Deny(Refusal::of(
                    Rule::BuiltinDeny {
                        sid: sid.unwrap_or_default(),
                    },
                    a.action,
                ));
            }
        }
        if let Some(option) = request.refused_options.first() {
            return refuse(Rule::Option {
                option: option.clone(),
            });
        }
        if let Some(value) = request.file_values.first() {
            return refuse(Rule::FileValue {
                value: value.clone(),
            });
        }
        if request.operation.api == "AddAttachmentsToSet"
            || request
                .params
                .get("attachmentSetId")
                .is_some_and(|v| v != &Value::Null)
        {
            return refuse(Rule::Attachments);
        }
        let needs_confirmation = !authorizations
            .iter()
            .all(|a| authorize::is_read(request, a));
        if needs_confirmation {
            // The refusal names a change the allowlist lacks (a PartiQL DELETE's own action).
            if let Some(a) = authorizations
                .iter()
                .filter(|a| !CONFIRM_ALLOWLIST.contains(&a.action))
                .min_by_key(|a| authorize::is_read(request, a))
            {
                return Decision::Deny(Refusal::of(Rule::ReadOnly, a.action));
            }
        }
        let guardrails = self
            .guardrails
            .get(&channel.id)
            .map_or(&[][..], Vec::as_slice);
        if let Some(why) = data_plane(request) {
            // The refusal names the action to allow (dynamodb:PartiQLSelect for a SELECT).
            let refused = authorizations.iter().find(|a| {
                !guardrails
                    .iter()
                    .any(|p| allows_by_name(p, a, place.is_some()))
            });
            if let Some(a) = refused {
                return Decision::Deny(Refusal::of(Rule::DataPlane { why }, a.action));
            }
        }
        for policy in guardrails {
            for a in &authorizations {
                if let Some(refusal) = guardrail_refusal(policy, a, place.is_some()) {
                    return Decision::Deny(refusal);
                }
            }
        }
        if needs_confirmation {
            Decision::Confirm
        } else {
            Decision::Run
        }
    }
}

/// A guardrail's refusal of one authorization, if it refuses it. Before the account is known
/// (`final_pass` false), only a decision that holds for every resource refuses.
fn guardrail_refusal(policy: &Policy, a: &Authorization, final_pass: bool) -> Option<Refusal> {
    let file = policy.name().to_owned();
    let resources: Vec<(Evaluation, Option<&NamedResource>)> = match &a.scope {
        Scope::Named(named) => named
            .iter()
            .map(|r| (policy.decide_resource(a.action, r), Some(r)))
            .collect(),
        scope => vec![(policy.decide(a.action, scope), None)],
    };
    let (evaluation, resource) = resources
        .into_iter()
        .max_by_key(|(e, _)| policy::severity(e))?;
    let why = match &a.scope {
        Scope::Unknown(why) => why.clone(),
        _ => String::new(),
    };
    let rule = match evaluation {
        Evaluation::Allowed { .. } => return None,
        Evaluation::Unresolved { .. } if !final_pass => return None,
        Evaluation::ExplicitDeny { sid } => Rule::Guardrail { file, sid },
        Evaluation::ImplicitDeny => Rule::Guardrail { file, sid: None },
        Evaluation::Unresolved { sid, deny } => Rule::GuardrailUnresolved(Box::new(Unresolved {
            file,
            sid,
            deny,
            why,
        })),
    };
    Some(Refusal {
        rule,
        action: Some(a.action.to_owned()),
        resource: resource.map(|r| r.arn.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::parse::{parse, Parsed};

    fn config(guardrails: &[&str]) -> Config {
        let mut config = Config::from_toml(include_str!("../../fixtures/config/demo.toml"))
            .expect("demo config");
        config.channels[0].guardrails = guardrails
            .iter()
            .map(|g| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(g))
            .collect();
        config
    }

    const PLACE: Place<'static> = Place {
        account: "111111111111",
        region: "us-east-1",
    };

    /// The guard's decision for a message, as the pipeline reaches it.
    fn decide(guard: &Guard, config: &Config, text: &str) -> Decision {
        let channel = &config.channels[0];
        match parse(&crate::normalize::normalize(text)) {
            Ok(Parsed::Command(r)) => guard.check(channel, &r, Some(PLACE)),
            Ok(Parsed::Unsupported { service, operation }) => {
                Decision::Deny(guard.unsupported(&service, operation.as_deref()))
            }
            Ok(Parsed::Help(_)) => panic!("{text}: help"),
            Err(e) if e.is_refusal() => Decision::Deny(Refusal::new(Rule::Chaining {
                operator: e.to_string(),
            })),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn builtin_deny_actions() -> Vec<String> {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../policies/builtin-deny.json")).unwrap();
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| match &s["Action"] {
                serde_json::Value::Array(actions) => actions.clone(),
                one => vec![one.clone()],
            })
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    }

    /// `ec2:GetPasswordData` → `get-password-data`.
    fn cli_name(api: &str) -> String {
        let mut out = String::new();
        for (i, c) in api.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    #[test]
    fn every_builtin_denied_action_is_refused_in_any_spelling() {
        let config = config(&[]);
        let guard = Guard::new(&config).unwrap();
        for action in builtin_deny_actions() {
            let (service, op) = action.split_once(':').unwrap();
            if let Some((_, member, _)) = authorize::IMPLIED.iter().find(|(.., a)| *a == action) {
                // An action a parameter implies: every operation that takes the parameter.
                let s = Catalog::builtin().service(service).unwrap();
                let mut taking = 0;
                for o in s.operations.iter().filter(|o| o.read_only) {
                    let Some(m) = s.input_members(o).iter().find(|m| m.name == *member) else {
                        continue;
                    };
                    taking += 1;
                    let Ok(Parsed::Command(mut r)) =
                        parse(&format!("{service} {} --{}", o.name, m.cli_name))
                    else {
                        panic!("{} {}", service, o.name)
                    };
                    r.missing.clear();
                    let d = guard.check(&config.channels[0], &r, Some(PLACE));
                    assert!(
                        matches!(
                            &d,
                            Decision::Deny(Refusal {
                                rule: Rule::BuiltinDeny { .. },
                                ..
                            })
                        ),
                        "{} {}: {d:?}",
                        service,
                        o.name
                    );
                }
                assert!(taking > 0, "{action}: no operation takes --{member}");
                continue;
            }
            // The AWS CLI services whose IAM prefix this is (`s3` → s3api, s3control…), and
            // their operations that need the action (all of them for `iam:*`).
            let mut texts: Vec<(String, String)> = Catalog::builtin()
                .entries()
                .iter()
                .filter(|e| e.iam_prefix.as_deref() == Some(service))
                .flat_map(|e| {
                    let s = Catalog::builtin().service(&e.service).unwrap();
                    s.operations
                        .iter()
                        .filter(|o| {
                            op == "*"
                                || o.iam.actions.iter().any(|a| a.action == action)
                                || (o.iam.actions.is_empty() && o.api == op)
                        })
                        .map(|o| (s.service.clone(), o.name.clone()))
                        .collect::<Vec<_>>()
                })
                .collect();
            // The AWS CLI's own commands the list names (`rds:GenerateDbAuthToken`).
            if Catalog::builtin().is_local_command(service, &cli_name(op)) {
                texts.push((service.to_owned(), cli_name(op)));
            }
            let has_cli_service = Catalog::builtin()
                .entries()
                .iter()
                .any(|e| e.iam_prefix.as_deref() == Some(service));
            assert!(
                !texts.is_empty() || !has_cli_service,
                "{action}: no command"
            );
            for (service, op) in &texts {
                for text in [
                    format!("{service} {op}"),
                    format!("{} {}", service.to_uppercase(), op.to_uppercase()),
                    format!("@aws {service} {op} --region us-east-1"),
                    format!("{} {op}", service[..1].to_uppercase() + &service[1..]),
                ] {
                    match decide(&guard, &config, &text) {
                        Decision::Deny(Refusal {
                            rule: Rule::BuiltinDeny { .. },
                            ..
                        }) => {}
                        other => panic!("{text}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn read_only_operations_run_and_state_changing_ones_are_refused_but_the_allowlist() {
        let config = config(&[]);
        let guard = Guard::new(&config).unwrap();
        let channel = &config.channels[0];
        for service in Catalog::builtin().services() {
            for op in &service.operations {
                // Required parameters don't matter to the guard; build the request directly.
                let Ok(Parsed::Command(mut r)) = parse(&format!("{} {}", service.service, op.name))
                else {
                    panic!("{} {}", service.service, op.name)
                };
                r.missing.clear();
                let decision = guard.check(channel, &r, None);
                let action = r.action();
                let denied = std::iter::once(action.clone())
                    .chain(r.actions().map(str::to_owned))
                    .find_map(|a| match guard.builtin.evaluate(&a, None) {
                        Evaluation::ExplicitDeny { sid } => Some((a, sid)),
                        _ => None,
                    });
                let expected = if let Some((a, sid)) = denied {
                    Decision::Deny(Refusal::of(
                        Rule::BuiltinDeny {
                            sid: sid.unwrap_or_default(),
                        },
                        &a,
                    ))
                } else if op.iam.statements.is_some() {
                    // Before its statement is given, a PartiQL command is taken for a SELECT.
                    Decision::Deny(Refusal::of(
                        Rule::DataPlane {
                            why: data_plane(&r).expect("PartiQL reads stored data"),
                        },
                        "dynamodb:PartiQLSelect",
                    ))
                } else if op.iam.actions.is_empty() {
                    Decision::Deny(Refusal::of(Rule::NoIamAction, &action))
                } else if let Some(why) = data_plane(&r) {
                    Decision::Deny(Refusal::of(Rule::DataPlane { why }, &action))
                } else if op.read_only {
                    Decision::Run
                } else if CONFIRM_ALLOWLIST.contains(&action.as_str()) {
                    Decision::Confirm
                } else if op.api == "AddAttachmentsToSet" {
                    Decision::Deny(Refusal::of(Rule::Attachments, &action))
                } else {
                    Decision::Deny(Refusal::of(Rule::ReadOnly, &action))
                };
                assert_eq!(decision, expected, "{action}");
            }
        }
    }

    #[test]
    fn refused_options_and_files() {
        let config = config(&[]);
        let guard = Guard::new(&config).unwrap();
        for (text, rule) in [
            ("lambda list-functions --endpoint-url http://x", "option"),
            ("lambda list-functions --profile admin", "option"),
            ("lambda list-functions --no-verify-ssl", "option"),
            ("lambda list-functions --debug", "option"),
            ("lambda list-functions --cli-input-json {}", "option"),
            ("invoke f --payload file://x.json", "option"),
            ("invoke f --payload fileb://x.bin", "option"),
        ] {
            match decide(&guard, &config, text) {
                Decision::Deny(r) => assert_eq!(r.rule_name(), rule, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_guardrail_narrows_the_channel_and_is_named_in_the_refusal() {
        let config = config(&["policies/examples/cloudwatch-describe-only.json"]);
        let guard = Guard::new(&config).unwrap();
        assert_eq!(
            decide(&guard, &config, "cloudwatch describe-alarms"),
            Decision::Run
        );
        let Decision::Deny(refusal) = decide(&guard, &config, "lambda list-functions") else {
            panic!("list-functions must be refused")
        };
        let text = refusal.to_string();
        assert!(text.contains("cloudwatch-describe-only.json"), "{text}");
        assert!(text.contains("lambda:ListFunctions"), "{text}");

        let config = config_with_no_invoke();
        let guard = Guard::new(&config).unwrap();
        let Decision::Deny(refusal) = decide(&guard, &config, "invoke f --payload {}") else {
            panic!("invoke must be refused")
        };
        assert!(
            refusal.to_string().contains("statement NoInvoke"),
            "{refusal}"
        );
    }

    fn config_with_no_invoke() -> Config {
        config(&["policies/examples/lambda-readonly-no-invoke.json"])
    }

    /// The rule that refused a message, or "run" / "confirm".
    fn verdict(guard: &Guard, config: &Config, text: &str) -> String {
        match decide(guard, config, text) {
            Decision::Run => "run".into(),
            Decision::Confirm => "confirm".into(),
            Decision::Deny(r) => r.rule_name().into(),
        }
    }

    #[test]
    fn issue_9_guardrails_speak_iam_names_and_hold_for_every_way_of_naming_a_resource() {
        let config = config(&["policies/examples/no-prod-resources.json"]);
        let guard = Guard::new(&config).unwrap();
        for (text, expected) in [
            // Lambda: every form Lambda resolves to prod-db.
            ("invoke prod-db", "guardrail"),
            ("lambda invoke --function-name prod-db --payload {}", "guardrail"),
            ("lambda get-function --function-name prod-db", "guardrail"),
            ("lambda get-function --function-name prod-db:PROD", "guardrail"),
            ("lambda get-function --function-name prod-db --qualifier PROD", "guardrail"),
            ("lambda get-function --function-name prod-db:$LATEST", "guardrail"),
            ("lambda get-function --function-name 111111111111:function:prod-db", "guardrail"),
            ("lambda get-function --function-name 111111111111:function:prod-db:3", "guardrail"),
            (
                "lambda get-function --function-name arn:aws:lambda:eu-west-1:111111111111:function:prod-db",
                "guardrail",
            ),
            ("lambda get-alias --function-name prod-db --name PROD", "guardrail"),
            ("lambda list-aliases --function-name prod-db", "guardrail"),
            (
                "lambda list-tags --resource arn:aws:lambda:us-east-1:111111111111:function:prod-db",
                "guardrail",
            ),
            ("lambda get-policy --function-name prod-db --qualifier 1", "guardrail"),
            // Other accounts are out of reach whatever the guardrail says.
            ("lambda get-function --function-name 222222222222:function:x", "other-account"),
            (
                "lambda get-function --function-name arn:aws:lambda:us-east-1:222222222222:function:x",
                "other-account",
            ),
            (
                "lambda list-tags --resource arn:aws:lambda:us-east-1:222222222222:function:x",
                "other-account",
            ),
            // A value Lambda wouldn't take as a name: nothing to check it against, so refused.
            ("lambda get-function --function-name prod*", "guardrail-resource-unknown"),
            (
                "lambda list-tags --resource arn:aws:s3:::not-a-lambda-resource",
                "guardrail-resource-unknown",
            ),
            // CloudWatch: names, lists of names, ARNs.
            ("cloudwatch describe-alarms --alarm-names prod-x", "guardrail"),
            ("cloudwatch describe-alarms --alarm-names dev-x prod-y", "guardrail"),
            ("cloudwatch describe-alarm-history --alarm-name prod-x", "guardrail"),
            (
                "cloudwatch list-tags-for-resource --resource-arn arn:aws:cloudwatch:us-east-1:111111111111:alarm:prod-x",
                "guardrail",
            ),
            // Reading every alarm could read the prod ones: fail closed.
            ("cloudwatch describe-alarms", "guardrail-resource-unknown"),
            ("cloudwatch describe-alarms --alarm-name-prefix dev", "guardrail-resource-unknown"),
            // Data CloudWatch Logs masked stays masked: `--unmask` needs logs:Unmask.
            ("logs get-log-events --log-group-name g --log-stream-name s --unmask", "builtin-deny"),
            ("logs filter-log-events --log-group-name g --unmask", "builtin-deny"),
            // What the guardrail leaves alone still runs.
            ("lambda list-functions", "run"),
            ("lambda get-function --function-name dev-db", "run"),
            ("lambda get-function --function-name production", "run"),
            ("invoke dev-db", "confirm"),
            ("cloudwatch describe-alarms --alarm-names dev-x", "run"),
            ("cloudwatch list-metrics", "run"),
            ("cloudwatch get-metric-data --metric-data-queries Id=a,Expression=1 --start-time 2026-01-01 --end-time 2026-01-02", "run"),
        ] {
            assert_eq!(verdict(&guard, &config, text), expected, "{text}");
        }
    }

    #[test]
    fn issue_9_refusals_name_the_statement_the_action_and_the_resource() {
        let config = config(&["policies/examples/no-prod-resources.json"]);
        let guard = Guard::new(&config).unwrap();
        let Decision::Deny(r) = decide(&guard, &config, "invoke prod-db:PROD") else {
            panic!("refused")
        };
        let text = r.to_string();
        for part in [
            "no-prod-resources.json",
            "NoProdFunctions",
            "lambda:InvokeFunction",
            "arn:aws:lambda:us-east-1:111111111111:function:prod-db",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        let Decision::Deny(r) = decide(&guard, &config, "cloudwatch describe-alarms") else {
            panic!("refused")
        };
        let text = r.to_string();
        assert!(text.contains("NoProdAlarms"), "{text}");
        assert!(text.contains("names no alarm"), "{text}");
    }

    #[test]
    fn issue_9_an_allow_list_in_iam_names_allows_what_it_names_and_nothing_else() {
        let config = config(&["policies/examples/invoke-dev-only.json"]);
        let guard = Guard::new(&config).unwrap();
        for (text, expected) in [
            ("invoke dev-api", "confirm"),
            ("lambda invoke --function-name dev-api:LIVE", "confirm"),
            ("invoke prod-api", "guardrail"),
            ("lambda list-functions", "run"),
            ("lambda get-layer-version-by-arn --arn arn:aws:lambda:us-east-1:111111111111:layer:x:1", "run"),
            ("cloudwatch describe-alarms", "run"),
            ("support describe-cases", "guardrail"),
        ] {
            assert_eq!(verdict(&guard, &config, text), expected, "{text}");
        }
    }

    #[test]
    fn issue_9_a_guardrail_that_denies_everywhere_refuses_before_the_account_is_known() {
        let config = config_with_no_invoke();
        let guard = Guard::new(&config).unwrap();
        let channel = &config.channels[0];
        let request = |text: &str| match parse(text) {
            Ok(Parsed::Command(r)) => r,
            other => panic!("{text}: {other:?}"),
        };
        let Decision::Deny(refusal) = guard.check(channel, &request("invoke myfn"), None) else {
            panic!("refused before the account is chosen")
        };
        assert_eq!(refusal.rule_name(), "guardrail");
        // A Deny scoped to some resources waits for the account.
        let config = self::config(&["policies/examples/no-prod-resources.json"]);
        let guard = Guard::new(&config).unwrap();
        assert_eq!(
            guard.check(&config.channels[0], &request("invoke prod-db"), None),
            Decision::Confirm
        );
        assert!(matches!(
            guard.check(&config.channels[0], &request("invoke prod-db"), Some(PLACE)),
            Decision::Deny(_)
        ));
    }

    #[test]
    fn the_deny_list_and_the_allowlist_use_iam_names() {
        let catalog_actions: Vec<&str> = Catalog::builtin()
            .services()
            .flat_map(|s| s.operations.iter())
            .flat_map(|op| op.iam.actions.iter().map(|a| a.action.as_str()))
            .collect();
        for action in CONFIRM_ALLOWLIST {
            assert!(
                catalog_actions.contains(action),
                "{action} is no IAM action"
            );
        }
        // `lambda:Invoke` is an API name, not an IAM action.
        assert!(!catalog_actions.contains(&"lambda:Invoke"));
        for action in builtin_deny_actions() {
            let (service, op) = action.split_once(':').unwrap();
            if authorize::IMPLIED.iter().any(|(.., a)| *a == action) {
                continue;
            }
            if let Some(s) = Catalog::builtin()
                .services()
                .find(|s| s.iam_prefix.as_deref() == Some(service))
            {
                assert!(
                    op == "*"
                        || s.operations.iter().any(|o| o
                            .iam
                            .actions
                            .iter()
                            .any(|a| a.action == action))
                        || Catalog::builtin().is_local_command(service, &cli_name(op)),
                    "{action}"
                );
            }
        }
    }

    #[test]
    fn every_operation_maps_to_iam_actions_of_its_service_with_well_formed_arn_formats() {
        for service in Catalog::builtin().services() {
            for op in &service.operations {
                let actions = &op.iam.actions;
                if actions.is_empty() {
                    // Refused by the guard: see every_operation_is_classified.
                    continue;
                }
                for a in actions {
                    assert!(
                        a.action.starts_with(&format!(
                            "{}:",
                            service.iam_prefix.as_deref().unwrap_or("?")
                        )),
                        "{}: {}",
                        op.name,
                        a.action
                    );
                    for r in &a.resources {
                        assert!(r.arn.starts_with("arn:${Partition}:"), "{}", r.arn);
                        for member in r.variables.values() {
                            assert!(
                                service.input_members(op).iter().any(|m| &m.name == member),
                                "{} {}: {member}",
                                service.service,
                                op.name
                            );
                        }
                    }
                }
            }
        }
        let unmapped: Vec<String> = Catalog::builtin()
            .services()
            .filter(|s| ["cloudwatch", "lambda", "logs", "support"].contains(&s.service.as_str()))
            .flat_map(|s| {
                s.operations
                    .iter()
                    .filter(|o| o.iam.actions.is_empty())
                    .map(move |o| format!("{} {}", s.service, o.name))
            })
            .collect();
        // Reviewed in scripts/gen-commands.py (IAM_ACTION, REVIEWED_IAM): none in AWS's
        // reference. Elsewhere an operation the reference lacks is refused the same way.
        assert_eq!(
            unmapped,
            [
                "cloudwatch describe-alarm-contributors",
                "logs get-log-object"
            ]
        );
    }

    /// Amazon Q's additions to the deny list and the AWS CLI's credential-minting commands:
    /// one command per entry, with the statement that refuses it.
    const DENY_TABLE: &[(&str, &str)] = &[
        ("secretsmanager get-secret-value --secret-id db", "DenySecretsManager"),
        ("secretsmanager batch-get-secret-value --secret-id-list db", "DenySecretsManager"),
        ("secretsmanager get-random-password", "DenySecretsManager"),
        (
            "cognito-idp describe-user-pool-client --user-pool-id p --client-id c",
            "DenyCognitoUserPoolSecrets",
        ),
        (
            "cognito-idp describe-identity-provider --user-pool-id p --provider-name x",
            "DenyCognitoUserPoolSecrets",
        ),
        (
            "cognito-idp get-signing-certificate --user-pool-id p",
            "DenyCredentialReturningCalls",
        ),
        ("sso-admin list-instances", "DenyIdentityCenter"),
        (
            "sso get-role-credentials --role-name r --account-id 111111111111 --access-token t",
            "DenyIdentityCenter",
        ),
        ("sso-oidc create-token --client-id c --client-secret s --grant-type g", "DenyIdentityCenter"),
        ("identitystore list-users --identity-store-id d-1", "DenyIdentityCenter"),
        ("sdb list-domains", "DenySimpleDb"),
        ("sdb select --select-expression x", "DenySimpleDb"),
        ("chatbot describe-slack-channel-configurations", "DenyChatService"),
        (
            "rds generate-db-auth-token --hostname h --port 5432 --username u",
            "DenyLocallyMintedCredentials",
        ),
        ("s3 presign s3://bucket/key", "DenyLocallyMintedCredentials"),
        ("ecr get-login-password", "DenyLocallyMintedCredentials"),
        ("ecr get-login", "DenyLocallyMintedCredentials"),
        ("ecr-public get-login-password", "DenyLocallyMintedCredentials"),
        ("eks get-token --cluster-name web", "DenyLocallyMintedCredentials"),
        ("codeartifact login --tool npm --domain domain1 --repository repo1", "DenyLocallyMintedCredentials"),
        ("codecommit credential-helper get", "DenyLocallyMintedCredentials"),
        ("cloudfront sign --url https://d.example/x", "DenyLocallyMintedCredentials"),
        (
            "codeartifact get-authorization-token --domain domain1",
            "DenyCredentialReturningCalls",
        ),
        ("ecr-public get-authorization-token", "DenyCredentialReturningCalls"),
        ("ecr get-authorization-token", "DenyCredentialReturningCalls"),
        (
            "cognito-identity get-credentials-for-identity --identity-id i",
            "DenyCredentialReturningCalls",
        ),
        ("cognito-identity get-open-id-token --identity-id i", "DenyCredentialReturningCalls"),
        (
            "cognito-identity get-open-id-token-for-developer-identity --identity-pool-id p --logins a=b",
            "DenyCredentialReturningCalls",
        ),
        ("redshift-serverless get-credentials", "DenyCredentialReturningCalls"),
        (
            "redshift get-cluster-credentials-with-iam --cluster-identifier c",
            "DenyCredentialReturningCalls",
        ),
        (
            "lightsail get-relational-database-master-user-password --relational-database-name d",
            "DenyCredentialReturningCalls",
        ),
    ];

    /// The ways one command can be typed: the AWS CLI's, Slack's (`@aws`, `aws`), any case.
    fn typed(text: &str) -> Vec<String> {
        let (service, rest) = text.split_once(' ').unwrap();
        let (op, args) = rest.split_once(' ').unwrap_or((rest, ""));
        vec![
            text.to_owned(),
            format!("{} {} {args}", service.to_uppercase(), op.to_uppercase()),
            format!("@aws {text} --region eu-west-1"),
            format!("aws {text}"),
            format!("{} {} {args}", service.to_uppercase(), op),
            format!("{service} {} {args}", op.to_uppercase()),
            format!(
                "{}{} {op} {args}",
                service[..1].to_uppercase(),
                &service[1..]
            ),
            format!("@aws  {service}   {op}  {args}"),
        ]
    }

    #[test]
    fn the_deny_list_refuses_each_entry_in_every_spelling() {
        let config = config(&[]);
        let guard = Guard::new(&config).unwrap();
        for (text, sid) in DENY_TABLE {
            for typed in typed(text) {
                match decide(&guard, &config, &typed) {
                    Decision::Deny(Refusal {
                        rule: Rule::BuiltinDeny { sid: got },
                        ..
                    }) if got == *sid => {}
                    other => panic!("{typed}: {other:?}"),
                }
            }
        }
        // Every action of the statements the table is about has its command in the table.
        let table_sids: Vec<&str> = DENY_TABLE.iter().map(|(_, sid)| *sid).collect();
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../policies/builtin-deny.json")).unwrap();
        for statement in doc["Statement"].as_array().unwrap() {
            let sid = statement["Sid"].as_str().unwrap();
            if !table_sids.contains(&sid) || sid == "DenyCredentialReturningCalls" {
                continue;
            }
            let actions: Vec<&str> = match &statement["Action"] {
                serde_json::Value::Array(a) => a.iter().map(|a| a.as_str().unwrap()).collect(),
                one => vec![one.as_str().unwrap()],
            };
            for action in actions {
                let (prefix, op) = action.split_once(':').unwrap();
                let covered = DENY_TABLE.iter().any(|(text, s)| {
                    let (service, rest) = text.split_once(' ').unwrap();
                    let command = rest.split(' ').next().unwrap();
                    *s == sid
                        && (op == "*"
                            || crate::catalog::api_name(command) == op
                            || Catalog::builtin()
                                .service(service)
                                .and_then(|s| s.operation(command))
                                .is_some_and(|o| o.iam.actions.iter().any(|a| a.action == action)))
                        && (service.starts_with(prefix.trim_end_matches("-oauth"))
                            || Catalog::builtin()
                                .entry(service)
                                .is_some_and(|e| e.iam_prefix.as_deref() == Some(prefix)))
                });
                let has_cli_service = Catalog::builtin()
                    .entries()
                    .iter()
                    .any(|e| e.iam_prefix.as_deref() == Some(prefix));
                assert!(
                    covered || !has_cli_service,
                    "{action} ({sid}) has no command in DENY_TABLE"
                );
            }
        }
    }

    proptest::proptest! {
        /// Any mix of letter case in a denied command is refused by the deny list.
        #[test]
        fn denied_commands_in_any_letter_case(
            row in proptest::sample::select(DENY_TABLE.to_vec()),
            flips in proptest::collection::vec(proptest::bool::ANY, 120),
        ) {
            let config = config(&[]);
            let guard = Guard::new(&config).unwrap();
            let (text, sid) = row;
            let (head, args) = match text.splitn(3, ' ').collect::<Vec<_>>()[..] {
                [s, o, a] => (format!("{s} {o}"), a.to_owned()),
                [s, o] => (format!("{s} {o}"), String::new()),
                _ => unreachable!(),
            };
            let mixed: String = head
                .chars()
                .zip(flips.iter().cycle())
                .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                .collect();
            let typed = format!("{mixed} {args}");
            let d = decide(&guard, &config, &typed);
            let denied = matches!(&d, Decision::Deny(Refusal { rule: Rule::BuiltinDeny { sid: got }, .. }) if got == sid);
            proptest::prop_assert!(denied, "{}: {:?}", typed, d);
        }
    }

    fn guardrail_file(dir: &tempfile::TempDir, name: &str, statements: &str) -> String {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#),
        )
        .unwrap();
        path.to_str().unwrap().to_owned()
    }

    #[test]
    fn stored_data_is_read_only_where_a_guardrail_allows_it_by_name() {
        let commands = [
            ("s3api get-object --bucket b --key k", "s3:GetObject"),
            ("s3api select-object-content --bucket b --key k --expression e --expression-type SQL --input-serialization {} --output-serialization {}", "s3:GetObject"),
            ("dynamodb get-item --table-name t --key {}", "dynamodb:GetItem"),
            ("dynamodb batch-get-item --request-items {}", "dynamodb:BatchGetItem"),
            ("dynamodb query --table-name t", "dynamodb:Query"),
            ("dynamodb scan --table-name t", "dynamodb:Scan"),
            ("dynamodb transact-get-items --transact-items []", "dynamodb:GetItem"),
            ("dynamodbstreams get-records --shard-iterator i", "dynamodb:GetRecords"),
            ("sqs receive-message --queue-url https://sqs.us-east-1.amazonaws.com/111111111111/q", "sqs:ReceiveMessage"),
            ("kinesis get-records --shard-iterator i", "kinesis:GetRecords"),
            ("ssm get-parameter --name p --with-decryption", "ssm:GetParameter"),
            ("ssm get-parameters --names p --with-decryption", "ssm:GetParameters"),
            ("ssm get-parameters-by-path --path /p --with-decryption", "ssm:GetParametersByPath"),
            ("ssm get-parameter-history --name p --with-decryption", "ssm:GetParameterHistory"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let everything = guardrail_file(
            &dir,
            "all.json",
            r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#,
        );
        for (text, action) in commands {
            // No guardrail, or one that allows everything without naming it: refused, and
            // the refusal says how to allow it.
            for guardrails in [vec![], vec![everything.as_str()]] {
                let config = config(&guardrails);
                let guard = Guard::new(&config).unwrap();
                match decide(&guard, &config, text) {
                    Decision::Deny(r) if r.rule_name() == "stored-data" => {
                        let text = r.to_string();
                        assert!(text.contains(&format!(r#""Action": "{action}""#)), "{text}");
                        assert!(text.contains(r#""Effect": "Allow""#), "{text}");
                    }
                    other => panic!("{text} with {guardrails:?}: {other:?}"),
                }
            }
            // A guardrail that allows the action by name (or its service's wildcard): runs.
            let (prefix, _) = action.split_once(':').unwrap();
            for allowed in [action.to_owned(), format!("{prefix}:*")] {
                let file = guardrail_file(
                    &dir,
                    &format!("{}.json", allowed.replace([':', '*'], "_")),
                    &format!(
                        r#"{{"Effect": "Allow", "Action": ["{allowed}", "s3:List*"], "Resource": "*"}}"#
                    ),
                );
                let config = config(&[&file]);
                let guard = Guard::new(&config).unwrap();
                assert_eq!(
                    decide(&guard, &config, text),
                    Decision::Run,
                    "{text} with {allowed}"
                );
            }
        }
        // Without decryption, a parameter's value is no stored secret: it runs.
        let config = config(&[]);
        let guard = Guard::new(&config).unwrap();
        assert_eq!(
            decide(&guard, &config, "ssm get-parameter --name p"),
            Decision::Run
        );
        assert_eq!(
            decide(&guard, &config, "dynamodb describe-table --table-name t"),
            Decision::Run
        );
    }

    /// Issue 12: `dynamodb execute-statement` is authorized as IAM authorizes PartiQL, by the
    /// statement's kind on the table it names.
    #[test]
    fn issue_12_partiql_statements_need_the_action_of_their_kind_on_their_table() {
        let dir = tempfile::tempdir().unwrap();
        let select = guardrail_file(
            &dir,
            "select.json",
            r#"{"Effect": "Allow", "Action": "dynamodb:PartiQLSelect", "Resource": "*"}"#,
        );
        let everything = guardrail_file(
            &dir,
            "everything.json",
            r#"{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}"#,
        );
        let music = guardrail_file(
            &dir,
            "music.json",
            r#"{"Effect": "Allow", "Action": "dynamodb:PartiQLSelect",
                "Resource": "arn:aws:dynamodb:us-east-1:111111111111:table/Music"}"#,
        );
        let verdict = |guardrails: &[&str], text: &str| -> (String, Option<String>) {
            let config = config(guardrails);
            let guard = Guard::new(&config).unwrap();
            match decide(&guard, &config, text) {
                Decision::Run => ("run".into(), None),
                Decision::Confirm => ("confirm".into(), None),
                Decision::Deny(r) => (r.rule_name().into(), r.action.clone()),
            }
        };
        let exec =
            |statement: &str| format!("dynamodb execute-statement --statement '{statement}'");
        let batch = |statements: &[&str]| {
            let items: Vec<String> = statements
                .iter()
                .map(|s| format!(r#"{{"Statement": "{s}"}}"#))
                .collect();
            format!(
                "dynamodb batch-execute-statement --statements '[{}]'",
                items.join(", ")
            )
        };
        let select_action = Some("dynamodb:PartiQLSelect".to_owned());
        for (guardrails, text, rule, action) in [
            // A SELECT is a read of stored data: allowed only by name.
            (vec![], exec("SELECT * FROM Music"), "stored-data", select_action.clone()),
            (vec![select.as_str()], exec("SELECT * FROM Music"), "run", None),
            (vec![select.as_str()], exec(" -- x\n/* y */ select * FROM \"Music\""), "run", None),
            (vec![everything.as_str()], exec("SELECT * FROM Music"), "run", None),
            // Every write is refused, whatever a guardrail allows, under its own action.
            (vec![everything.as_str()], exec("DELETE FROM Music WHERE a = 1"), "read-only", Some("dynamodb:PartiQLDelete".into())),
            (vec![everything.as_str()], exec("insert INTO Music VALUE {}"), "read-only", Some("dynamodb:PartiQLInsert".into())),
            (vec![everything.as_str()], exec("Update Music SET a = 1"), "read-only", Some("dynamodb:PartiQLUpdate".into())),
            (vec![everything.as_str()], exec("/* SELECT * FROM Music */ DELETE FROM Music"), "read-only", Some("dynamodb:PartiQLDelete".into())),
            (vec![everything.as_str()], "dynamodb execute-statement --statement='-- SELECT * FROM Music\nDELETE FROM Music'".to_owned(), "read-only", Some("dynamodb:PartiQLDelete".into())),
            // What can't be read for certain is refused with its reason.
            (vec![everything.as_str()], exec("EXISTS (SELECT * FROM Music)"), "partiql-statement", None),
            (vec![everything.as_str()], exec("SELECT * FROM Music; DELETE FROM Music"), "partiql-statement", None),
            (vec![everything.as_str()], exec("/* /* */ SELECT * FROM Music */ DELETE FROM Music"), "partiql-statement", None),
            (vec![everything.as_str()], exec("SELECT 1"), "partiql-statement", None),
            // The table is the resource: an Allow scoped to one table allows no other (nor an
            // index of it, nor another letter case of its name).
            (vec![music.as_str()], exec("SELECT * FROM Music"), "run", None),
            (vec![music.as_str()], exec("SELECT * FROM \"Music\" WHERE Artist = 1"), "run", None),
            (vec![music.as_str()], exec("SELECT * FROM Albums"), "stored-data", select_action.clone()),
            (vec![music.as_str()], exec("SELECT * FROM \"Music\".\"ByArtist\""), "stored-data", select_action.clone()),
            (vec![music.as_str()], exec("SELECT * FROM music"), "stored-data", select_action.clone()),
            // A batch is every statement's authorization.
            (vec![select.as_str()], batch(&["SELECT * FROM Music", "SELECT * FROM Albums"]), "run", None),
            (vec![music.as_str()], batch(&["SELECT * FROM Music", "SELECT * FROM Albums"]), "stored-data", select_action.clone()),
            (vec![everything.as_str()], batch(&["SELECT * FROM Music", "DELETE FROM Music"]), "read-only", Some("dynamodb:PartiQLDelete".into())),
        ] {
            let (got, got_action) = verdict(&guardrails, &text);
            assert_eq!(got, rule, "{text} with {guardrails:?}");
            if action.is_some() {
                assert_eq!(got_action, action, "{text}");
            }
        }
        // The refusals say what to do.
        let config = config(&[]);
        let guard = Guard::new(&config).unwrap();
        let Decision::Deny(r) = decide(&guard, &config, &exec("SELECT * FROM Music")) else {
            panic!("runs without a guardrail")
        };
        assert!(
            r.to_string()
                .contains(r#""Action": "dynamodb:PartiQLSelect""#),
            "{r}"
        );
        let Decision::Deny(r) = decide(&guard, &config, &exec("EXISTS (SELECT * FROM Music)"))
        else {
            panic!("an unknown statement runs")
        };
        assert!(r.to_string().contains("starts with `EXISTS`"), "{r}");
    }

    #[test]
    fn the_aws_clis_own_commands_say_what_to_run_instead() {
        let config = config(&[]);
        let guard = Guard::new(&config).unwrap();
        for (text, advice) in [
            ("s3 ls", "s3api list-buckets"),
            (
                "s3 ls s3://bucket/logs/",
                "s3api list-objects-v2 --bucket BUCKET --prefix PREFIX",
            ),
            ("S3 LS", "s3api list-buckets"),
            ("s3 cp s3://bucket/key .", "s3api head-object"),
            ("s3 sync . s3://bucket", "s3api list-objects-v2"),
            ("s3 rm s3://bucket/key", "s3api delete-object"),
            ("s3 mb s3://bucket", "s3api create-bucket"),
            ("s3 rb s3://bucket", "s3api delete-bucket"),
            ("s3 website s3://bucket", "s3api put-bucket-website"),
            ("ec2 wait instance-running", "describe command"),
            (
                "cloudformation deploy --template-file t",
                "@aws cloudformation --help",
            ),
        ] {
            match decide(&guard, &config, text) {
                Decision::Deny(r) if r.rule_name() == "local-command" => {
                    let said = r.to_string();
                    assert!(said.contains("the AWS CLI's own command"), "{said}");
                    assert!(said.contains(advice), "{text}: {said}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    /// Guardrails on the resources of the new services: where AWS's reference gives the ARN
    /// and the command names every part of it, the Deny holds by name; where a part can't be
    /// known (a stack's id, a service's name in `--services`), it fails closed.
    #[test]
    fn guardrails_on_resources_of_every_service_hold_or_fail_closed() {
        let dir = tempfile::tempdir().unwrap();
        let file = guardrail_file(
            &dir,
            "no-prod.json",
            r#"{"Effect": "Allow", "Action": "*", "Resource": "*"},
               {"Sid": "NoProd", "Effect": "Deny", "Action": "*", "Resource": [
                 "arn:aws:dynamodb:*:*:table/prod-*",
                 "arn:aws:s3:::prod-*",
                 "arn:aws:ecs:*:*:cluster/prod-*",
                 "arn:aws:ecs:*:*:service/prod-*/*",
                 "arn:aws:cloudformation:*:*:stack/prod-*/*",
                 "arn:aws:rds:*:*:db:prod-*",
                 "arn:aws:rds:*:*:cluster:prod-*",
                 "arn:aws:ec2:*:*:instance/i-0badc0ffee*"]}"#,
        );
        let config = config(&[&file]);
        let guard = Guard::new(&config).unwrap();
        let rule = |text: &str| match decide(&guard, &config, text) {
            Decision::Run => "run".to_owned(),
            Decision::Deny(r) => r.rule_name().to_owned(),
            other => format!("{other:?}"),
        };
        for (prod, dev) in [
            ("dynamodb describe-table --table-name prod-orders", "dynamodb describe-table --table-name dev-orders"),
            ("s3api get-bucket-location --bucket prod-logs", "s3api get-bucket-location --bucket dev-logs"),
            ("s3api list-objects-v2 --bucket prod-logs", "s3api list-objects-v2 --bucket dev-logs"),
            ("ecs describe-clusters --clusters prod-web", "ecs describe-clusters --clusters dev-web"),
            ("rds describe-db-instances --db-instance-identifier prod-db", "rds describe-db-instances --db-instance-identifier dev-db"),
            ("rds describe-db-clusters --db-cluster-identifier prod-aurora", "rds describe-db-clusters --db-cluster-identifier dev-aurora"),
            ("ec2 describe-instance-attribute --instance-id i-0badc0ffee0000001 --attribute userData", "ec2 describe-instance-attribute --instance-id i-0900dc0ffee000001 --attribute userData"),
            ("ec2 get-console-output --instance-id i-0badc0ffee0000001", "ec2 get-console-output --instance-id i-0900dc0ffee000001"),
        ] {
            assert_eq!(rule(prod), "guardrail", "{prod}");
            assert_eq!(rule(dev), "run", "{dev}");
        }
        // A part of the ARN no parameter gives (a stack's id, the services of
        // describe-services): whatever is named, a scoped Deny might hold, so it is refused.
        for text in [
            "cloudformation describe-stacks --stack-name prod-api",
            "cloudformation describe-stacks --stack-name dev-api",
            "ecs describe-services --cluster prod-web --services api",
        ] {
            assert_eq!(rule(text), "guardrail-resource-unknown", "{text}");
        }
        // IAM checks ec2:DescribeInstances against `*`: a Deny on instances doesn't apply.
        assert_eq!(rule("ec2 describe-instances"), "run");
        // Without a guardrail scoped to resources, nothing needs the resource.
        let plain = self::config(&[]);
        let guard = Guard::new(&plain).unwrap();
        assert_eq!(
            decide(
                &guard,
                &plain,
                "cloudformation describe-stacks --stack-name prod-api"
            ),
            Decision::Run
        );
    }

    fn spellings(name: &str) -> Vec<String> {
        vec![
            name.to_owned(),
            format!("{name}:PROD"),
            format!("{name}:7"),
            format!("{name}:$LATEST"),
            format!("111111111111:function:{name}"),
            format!("111111111111:function:{name}:PROD"),
            format!("arn:aws:lambda:us-east-1:111111111111:function:{name}"),
            format!("arn:aws:lambda:eu-west-1:111111111111:function:{name}:PROD"),
        ]
    }

    proptest::proptest! {
        /// A Deny on `function:prod-*` holds for every operation that names a function,
        /// however the function is spelled, with or without a qualifier.
        #[test]
        fn issue_9_no_spelling_of_a_denied_function_gets_through(
            suffix in "[a-zA-Z0-9_-]{1,12}",
            spelling in 0usize..8,
            qualifier in proptest::option::of("[A-Za-z0-9_]{1,6}"),
        ) {
            let config = config(&["policies/examples/no-prod-resources.json"]);
            let guard = Guard::new(&config).unwrap();
            let lambda = Catalog::builtin().service("lambda").unwrap();
            let name = spellings(&format!("prod-{suffix}"))[spelling].clone();
            for op in &lambda.operations {
                let members = lambda.input_members(op);
                if !members.iter().any(|m| m.name == "FunctionName") {
                    continue;
                }
                let mut text = format!("lambda {} --function-name {name}", op.name);
                if let (Some(q), true) = (&qualifier, members.iter().any(|m| m.name == "Qualifier")) {
                    text.push_str(&format!(" --qualifier {q}"));
                }
                let Ok(Parsed::Command(mut r)) = parse(&text) else { continue };
                r.missing.clear();
                let decision = guard.check(&config.channels[0], &r, Some(PLACE));
                proptest::prop_assert!(matches!(decision, Decision::Deny(_)), "{}: {:?}", text, decision);
            }
        }

        /// A function in another account is refused, however it is named.
        #[test]
        fn issue_9_other_accounts_are_out_of_reach(
            name in "[a-z][a-zA-Z0-9_-]{0,12}",
            account in "[0-9]{12}",
        ) {
            proptest::prop_assume!(account != "111111111111");
            let config = config(&[]);
            let guard = Guard::new(&config).unwrap();
            for value in [
                format!("{account}:function:{name}"),
                format!("arn:aws:lambda:us-east-1:{account}:function:{name}:PROD"),
            ] {
                let text = format!("lambda get-function --function-name {value}");
                let Ok(Parsed::Command(r)) = parse(&text) else { panic!("{text}") };
                let decision = guard.check(&config.channels[0], &r, Some(PLACE));
                let refused_as_other_account = matches!(
                    &decision,
                    Decision::Deny(Refusal { rule: Rule::OtherAccount { .. }, .. })
                );
                proptest::prop_assert!(refused_as_other_account, "{}: {:?}", text, decision);
            }
        }
    }

    #[test]
    fn who_may_ask() {
        let mut config = config(&[]);
        let guard = Guard::new(&config).unwrap();
        let sender = |team, channel, dm| Sender {
            team,
            channel,
            user: "U1",
            direct_message: dm,
        };
        assert!(guard
            .admit(&config, &sender("T0DEMO", "C0DEMO", false))
            .is_ok());
        let rule = |r: Result<&ChannelConfig, Refusal>| r.unwrap_err().rule_name();
        assert_eq!(
            rule(guard.admit(&config, &sender("TOTHER", "C0DEMO", false))),
            "external-user"
        );
        assert_eq!(
            rule(guard.admit(&config, &sender("T0DEMO", "CNOPE", false))),
            "channel-not-configured"
        );
        assert_eq!(
            rule(guard.admit(&config, &sender("T0DEMO", "D123", true))),
            "direct-message"
        );
        config.channels[0].allowed_users = Some(vec!["U2".into()]);
        assert_eq!(
            rule(guard.admit(&config, &sender("T0DEMO", "C0DEMO", false))),
            "user-not-allowed"
        );
    }

    proptest::proptest! {
        #[test]
        fn nothing_on_the_deny_list_ever_runs(
            service in proptest::sample::select(vec!["iam", "sts", "kms", "IAM", "Sts", "kMs"]),
            op in "[a-z]{1,10}(-[a-z]{1,10}){0,3}",
            args in "( --[a-z-]{1,10}( [a-zA-Z0-9]{1,8})?){0,3}",
        ) {
            let config = config(&[]);
            let guard = Guard::new(&config).unwrap();
            let text = format!("{service} {op}{args}");
            if let Ok(Parsed::Command(r)) = parse(&text) {
                let d = guard.check(&config.channels[0], &r, None);
                proptest::prop_assert!(matches!(d, Decision::Deny(_)), "{}: {:?}", text, d);
            } else if let Ok(Parsed::Unsupported { service, operation }) = parse(&text) {
                let refusal = guard.unsupported(&service, operation.as_deref());
                proptest::prop_assert!(matches!(refusal.rule, Rule::BuiltinDeny { .. }), "{}", text);
            }
        }
    }
}
