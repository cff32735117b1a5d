//! Decides, before any AWS call, whether a command may run. A chat channel is a shared
//! terminal into an AWS account that anyone in it can type into from a phone, so the guard
//! fails closed and every refusal names the rule that refused it.
//!
//! In order: who is asking (configured channel, same workspace, allowed user); the built-in
//! deny list (IAM, STS, KMS, credential-returning calls), whatever the role allows; options
//! and values that could redirect the call or read files; the read-only rule with its short
//! allowlist of state-changing commands that ask for confirmation; the channel's guardrails.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use crate::catalog::Catalog;
use crate::config::{ChannelConfig, Config};
use crate::parse::Request;
use crate::policy::{self, Evaluation, Policy};

/// State-changing operations a channel may run, after a Yes. Everything else that changes
/// resources is refused.
pub const CONFIRM_ALLOWLIST: &[&str] = &[
    "lambda:Invoke",
    "support:CreateCase",
    "support:AddCommunicationToCase",
    "support:ResolveCase",
    "support:RefreshTrustedAdvisorCheck",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run,
    Confirm,
    Deny(Refusal),
}

/// Why a message was refused: the rule, and for a denied action the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: Rule,
    pub action: Option<String>,
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
    Guardrail {
        file: String,
        sid: Option<String>,
    },
    ChannelNotConfigured,
    ExternalUser {
        team: String,
    },
    DirectMessage,
    UserNotAllowed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = self.action.as_deref().unwrap_or("this command");
        match &self.rule {
            Rule::BuiltinDeny { sid } => write!(
                f,
                "Refused by the built-in deny list (policies/builtin-deny.json, statement {sid}): {action} is never run from chat, whatever the channel's role allows."
            ),
            Rule::UnsupportedService { service } => write!(
                f,
                "Refused: `{service}` is not a supported service. Supported services: {}.",
                crate::parse::supported_services()
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
                "Refused by the option rule: `{value}` names a file; the bot reads and writes no files. Paste the value itself."
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
                    "Refused by this channel's guardrail {file} (statement {sid}): {action} is denied."
                ),
                None => write!(
                    f,
                    "Refused by this channel's guardrail {file}: no statement allows {action}."
                ),
            },
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
        }
    }
}

impl Refusal {
    pub fn new(rule: Rule) -> Refusal {
        Refusal { rule, action: None }
    }

    /// The rule's short name, for `explain` and the audit trail.
    pub fn rule_name(&self) -> &'static str {
        match self.rule {
            Rule::BuiltinDeny { .. } => "builtin-deny",
            Rule::UnsupportedService { .. } => "unsupported-service",
            Rule::ReadOnly => "read-only",
            Rule::Attachments => "attachments",
            Rule::Option { .. } | Rule::FileValue { .. } => "option",
            Rule::Chaining { .. } => "single-command",
            Rule::LookAlike { .. } => "plain-names",
            Rule::Guardrail { .. } => "guardrail",
            Rule::ChannelNotConfigured => "channel-not-configured",
            Rule::ExternalUser { .. } => "external-user",
            Rule::DirectMessage => "direct-message",
            Rule::UserNotAllowed => "user-not-allowed",
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
            operation.map(api_name).unwrap_or_else(|| "*".into())
        );
        match self.builtin.evaluate(&action, None) {
            Evaluation::ExplicitDeny { sid } => Refusal {
                rule: Rule::BuiltinDeny {
                    sid: sid.unwrap_or_default(),
                },
                action: Some(action),
            },
            _ => Refusal {
                rule: Rule::UnsupportedService {
                    service: service.to_owned(),
                },
                action: Some(action),
            },
        }
    }

    /// The decision for a parsed command in a channel. `resource` is the ARN the command
    /// names, when it names one (for guardrails with resource patterns).
    pub fn check(
        &self,
        channel: &ChannelConfig,
        request: &Request,
        resource: Option<&str>,
    ) -> Decision {
        let action = request.action();
        let refuse = |rule| {
            Decision::Deny(Refusal {
                rule,
                action: Some(action.clone()),
            })
        };
        if let Evaluation::ExplicitDeny { sid } = self.builtin.evaluate(&action, resource) {
            return refuse(Rule::BuiltinDeny {
                sid: sid.unwrap_or_default(),
            });
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
        let needs_confirmation = !request.operation.read_only;
        if needs_confirmation
            && !CONFIRM_ALLOWLIST
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&action))
        {
            return refuse(Rule::ReadOnly);
        }
        for policy in self.guardrails.get(&channel.id).into_iter().flatten() {
            match policy.evaluate(&action, resource) {
                Evaluation::Allowed { .. } => {}
                Evaluation::ExplicitDeny { sid } => {
                    return refuse(Rule::Guardrail {
                        file: policy.name().to_owned(),
                        sid,
                    })
                }
                Evaluation::ImplicitDeny => {
                    return refuse(Rule::Guardrail {
                        file: policy.name().to_owned(),
                        sid: None,
                    })
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

/// `get-password-data` → `GetPasswordData`, as IAM spells actions.
pub fn api_name(cli_name: &str) -> String {
    cli_name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The ARN of the resource a command names, for guardrail `Resource` patterns.
pub fn resource_arn(request: &Request, account: &str, region: &str) -> Option<String> {
    let text = |key: &str| request.params.get(key).and_then(Value::as_str);
    match request.service.service.as_str() {
        "lambda" => text("FunctionName").map(|name| {
            if name.starts_with("arn:") {
                name.to_owned()
            } else {
                format!("arn:aws:lambda:{region}:{account}:function:{name}")
            }
        }),
        "cloudwatch" => text("AlarmName")
            .map(|name| format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")),
        _ => None,
    }
}

/// Every operation the guard lets through for a channel without guardrails, for the table
/// tests and `explain`.
pub fn allowed_operations() -> impl Iterator<Item = String> {
    Catalog::builtin().services().iter().flat_map(|s| {
        s.operations
            .iter()
            .filter(|o| o.read_only)
            .map(move |o| s.action(o))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse, Parsed};

    fn config(guardrails: &[&str]) -> Config {
        let mut config =
            Config::from_toml(include_str!("../fixtures/config/demo.toml")).expect("demo config");
        config.channels[0].guardrails = guardrails
            .iter()
            .map(|g| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(g))
            .collect();
        config
    }

    /// The guard's decision for a message, as the pipeline reaches it.
    fn decide(guard: &Guard, config: &Config, text: &str) -> Decision {
        let channel = &config.channels[0];
        match parse(&crate::normalize::normalize(text)) {
            Ok(Parsed::Command(r)) => {
                let resource = resource_arn(&r, "111111111111", "us-east-1");
                guard.check(channel, &r, resource.as_deref())
            }
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
            serde_json::from_str(include_str!("../policies/builtin-deny.json")).unwrap();
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
            let op = if op == "*" {
                "list-users".to_owned()
            } else {
                cli_name(op)
            };
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
                let action = service.action(op);
                let expected = if op.read_only {
                    Decision::Run
                } else if CONFIRM_ALLOWLIST.contains(&action.as_str()) {
                    Decision::Confirm
                } else if op.api == "AddAttachmentsToSet" {
                    Decision::Deny(Refusal {
                        rule: Rule::Attachments,
                        action: Some(action.clone()),
                    })
                } else {
                    Decision::Deny(Refusal {
                        rule: Rule::ReadOnly,
                        action: Some(action.clone()),
                    })
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
