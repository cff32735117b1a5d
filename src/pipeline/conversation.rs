//! The conversation around a command: what an answer means for the question it answers
//! (planned, like a command, without changing anything), and the questions themselves.
//!
//! A pending question keeps the parsed [`Request`]; an answer fills in one option of it and
//! sends it back through planning, so the guard decides again and nothing typed with the
//! command is lost.

use serde_json::Value;

use crate::config::{AccountConfig, ChannelConfig};
use crate::guard::Rule;
use crate::normalize::normalize;
use crate::parse::{self, ParseError, Parsed, Request};
use crate::prompt::{Answer, Choice, ConversationKey, Lookup, Pending, Question, QuestionKind};

use super::plan::{Effect, Narrow, Plan, Step};
use super::{Inbound, Known, Outcome, Pipeline, Reply, STORE_UNREACHABLE};

/// Resource-naming options whose question offers the values that exist, from a list call in
/// the chosen account: (service asking, option, list command of that service, JMESPath to
/// the names). Options are per service: `--cluster` of ECS is not a Redshift cluster.
pub(crate) const CHOICE_SOURCES: &[(&str, &str, &str, &str)] = &[
    (
        "lambda",
        "function-name",
        "list-functions",
        "Functions[].FunctionName",
    ),
    (
        "cloudwatch",
        "alarm-name",
        "describe-alarms",
        "MetricAlarms[].AlarmName",
    ),
    (
        "cloudwatch",
        "alarm-names",
        "describe-alarms",
        "MetricAlarms[].AlarmName",
    ),
    ("support", "case-id", "describe-cases", "cases[].caseId"),
    (
        "support",
        "service-code",
        "describe-services",
        "services[].code",
    ),
    (
        "support",
        "severity-code",
        "describe-severity-levels",
        "severityLevels[].code",
    ),
    // The resources of the first day's commands (issue #12).
    (
        "ec2",
        "instance-id",
        "describe-instances",
        "Reservations[].Instances[].InstanceId",
    ),
    (
        "ec2",
        "instance-ids",
        "describe-instances",
        "Reservations[].Instances[].InstanceId",
    ),
    ("ecs", "cluster", "list-clusters", "clusterArns[]"),
    ("ecs", "clusters", "list-clusters", "clusterArns[]"),
    ("eks", "name", "list-clusters", "clusters[]"),
    ("eks", "cluster-name", "list-clusters", "clusters[]"),
    ("dynamodb", "table-name", "list-tables", "TableNames[]"),
    (
        "cloudformation",
        "stack-name",
        "describe-stacks",
        "Stacks[].StackName",
    ),
    ("s3api", "bucket", "list-buckets", "Buckets[].Name"),
    (
        "rds",
        "db-instance-identifier",
        "describe-db-instances",
        "DBInstances[].DBInstanceIdentifier",
    ),
    (
        "logs",
        "log-group-name",
        "describe-log-groups",
        "logGroups[].logGroupName",
    ),
    ("sqs", "queue-url", "list-queues", "QueueUrls[]"),
];
const MAX_CHOICES: usize = 25;
/// Names offered when the one typed doesn't exist: few enough to be buttons.
const CLOSEST: usize = 5;

impl Pipeline {
    /// Whether a message answers the open question rather than starting a command.
    ///
    /// Besides the conversation words (`yes`, `cancel`, `set default-account`, a number,
    /// `function-name x`), a bare value answers an open parameter question (`myHelloWorld`),
    /// unless it reads as a command: anything that parses as one (`lambda list-functions`),
    /// or names a service on the built-in deny list (`iam delete-user` is refused, not used
    /// as a function name).
    pub(crate) fn recognize_answer(&self, text: &str, lookup: &Lookup) -> Option<Answer> {
        let pending = match lookup {
            Lookup::Open(pending, ..) => Some(pending),
            _ => None,
        };
        let known_option = |name: &str| match pending {
            Some(Pending::Parameter { request, .. } | Pending::Confirmation { request, .. }) => {
                request.takes_option(name)
            }
            _ => false,
        };
        if let Some(answer) = Answer::parse(text, known_option) {
            return Some(answer);
        }
        let Some(Pending::Parameter { option, .. }) = pending else {
            return None;
        };
        let bare = match parse::parse(text) {
            Ok(Parsed::Unsupported { service, operation }) => !matches!(
                self.guard.unsupported(&service, operation.as_deref()).rule,
                Rule::BuiltinDeny { .. }
            ),
            Err(ParseError::UnknownService { .. }) => true,
            _ => false,
        };
        bare.then(|| Answer::Parameter {
            option: option.clone(),
            value: crate::prompt::unquote(text.trim()),
        })
    }

    /// What an answer does to the open question (`lookup`), as a plan.
    pub(crate) fn plan_answer(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        answer: Answer,
        lookup: Lookup,
        known: &Known,
    ) -> Plan {
        if let Answer::SetDefaultAccount(choice) = answer {
            let then = match lookup {
                Lookup::Open(Pending::Account { request }, ..) => request,
                _ => None,
            };
            return self.plan_account_choice(inbound, channel, choice.as_deref(), then, known);
        }
        let (pending, choices) = match lookup {
            Lookup::Open(pending, choices, _) => (pending, choices),
            Lookup::Expired { minutes } => {
                return Plan::new(
                    Step::Invalid(format!(
                        "That question expired after {minutes} minutes, so nothing ran. Send the command again."
                    )),
                    Effect::Close,
                )
            }
            Lookup::None if answer == Answer::Cancel => {
                return Plan::new(Step::Help("There's nothing to cancel.".into()), Effect::Keep)
            }
            Lookup::None => return Plan::new(Step::NothingOpen, Effect::Keep),
        };
        let answer = match answer {
            Answer::Pick(n) => match choices.get(n.wrapping_sub(1)) {
                Some(choice) => match Answer::parse(&normalize(&choice.answer), |_| true) {
                    Some(Answer::SetDefaultAccount(choice)) => {
                        let then = match pending {
                            Pending::Account { request } => request,
                            _ => None,
                        };
                        return self.plan_account_choice(
                            inbound,
                            channel,
                            choice.as_deref(),
                            then,
                            known,
                        );
                    }
                    Some(answer) => answer,
                    None => {
                        return Plan::new(
                            Step::Invalid("That choice can't be used.".into()),
                            Effect::Keep,
                        )
                    }
                },
                None => {
                    return Plan::new(
                        Step::Invalid(format!("Pick a number from 1 to {}.", choices.len())),
                        Effect::Keep,
                    )
                }
            },
            other => other,
        };
        let keep = |text: String| Plan::new(Step::Invalid(text), Effect::Keep);
        match (pending, answer) {
            (_, Answer::Cancel) | (Pending::Confirmation { .. }, Answer::No) => Plan::new(
                Step::Help("Cancelled; nothing ran.".into()),
                Effect::Close,
            ),
            (
                Pending::Confirmation {
                    request,
                    account,
                    region,
                },
                Answer::Yes,
            ) => {
                let Some(account) = channel.account(&account).cloned() else {
                    return Plan::new(
                        Step::Invalid("That account is no longer configured here.".into()),
                        Effect::Close,
                    );
                };
                // The guard decides again: the configuration may have changed since the
                // question. A Yes is the confirmation it asks for.
                let step = match self.plan_in(channel, request, account, region) {
                    Step::Confirm {
                        request,
                        account,
                        region,
                    } => Step::Run {
                        request,
                        account,
                        region,
                    },
                    other => other,
                };
                Plan::new(step, Effect::Close)
            }
            (
                Pending::Parameter {
                    request,
                    option: asked,
                    account,
                    region,
                },
                Answer::Parameter { option, value },
            ) => {
                let Some(account) = channel.account(&account).cloned() else {
                    return Plan::new(
                        Step::Invalid("That account is no longer configured here.".into()),
                        Effect::Close,
                    );
                };
                let narrow = (option == asked).then(|| Narrow {
                    asked: request.clone(),
                    account: account.clone(),
                    region: region.clone(),
                    typed: value.clone(),
                });
                let mut request = request;
                if let Err(e) = request.set_option(&option, &value) {
                    return keep(e.to_string());
                }
                let mut plan = Plan::new(
                    self.plan_request(inbound, channel, request, Some(account), known),
                    Effect::Close,
                );
                plan.narrow = narrow;
                plan
            }
            (
                Pending::Confirmation {
                    request, account, ..
                },
                Answer::Parameter { option, value },
            ) => {
                let mut request = request;
                if let Err(e) = request.set_option(&option, &value) {
                    return keep(e.to_string());
                }
                let account = channel.account(&account).cloned();
                Plan::new(
                    self.plan_request(inbound, channel, request, account, known),
                    Effect::Close,
                )
            }
            (Pending::Account { .. }, Answer::Yes | Answer::No) => {
                keep("Pick an account by number or name, or `@aws cancel`.".into())
            }
            (Pending::Parameter { option, .. }, _) => keep(format!(
                "I'm waiting for --{option}: reply with the value (`@aws {option} <value>`), or `@aws cancel`."
            )),
            (_, _) => keep("Reply `@aws yes` or `@aws no`.".into()),
        }
    }

    /// `set default-account [name]`: ask which, or remember it and go on with the command
    /// that was waiting for it.
    fn plan_account_choice(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        choice: Option<&str>,
        then: Option<Box<Request>>,
        known: &Known,
    ) -> Plan {
        let Some(choice) = choice else {
            let current = known
                .memory
                .account
                .clone()
                .and_then(|a| channel.account(&a).map(|a| a.to_string()))
                .unwrap_or_else(|| "none yet".into());
            return Plan::new(
                Step::AskAccount {
                    request: None,
                    text: format!(
                        "Which account should this channel use by default? (now: {current})"
                    ),
                },
                Effect::Keep,
            );
        };
        let Some(account) = channel.account(choice) else {
            let names: Vec<String> = channel.accounts.iter().map(|a| a.to_string()).collect();
            return Plan::new(
                Step::Invalid(format!(
                    "`{choice}` is not one of this channel's accounts: {}.",
                    names.join(", ")
                )),
                Effect::Keep,
            );
        };
        let text = format!("This channel now uses {account} by default.");
        let effect = Effect::RememberAccount(account.id.clone());
        match then {
            // The account question came before a command: that command goes on now.
            Some(request) => Plan {
                preface: Some(text),
                ..Plan::new(
                    self.plan_request(inbound, channel, request, Some(account.clone()), known),
                    effect,
                )
            },
            None => Plan::new(Step::Help(text), effect),
        }
    }

    /// Asks which account the channel uses; `request` goes on once it is chosen.
    pub(crate) async fn ask_account(
        &self,
        key: &ConversationKey,
        channel: &ChannelConfig,
        request: Option<Box<Request>>,
        text: &str,
    ) -> Reply {
        let question = Question {
            kind: QuestionKind::Account,
            text: format!("{text} Reply `@aws set default-account <name>` or pick one."),
            choices: channel
                .accounts
                .iter()
                .map(|a| Choice {
                    label: a.to_string(),
                    answer: format!("set default-account {}", a.id),
                })
                .collect(),
        };
        let asked = self
            .conversations
            .ask(
                key.clone(),
                Pending::Account { request },
                question.choices.clone(),
            )
            .await;
        asked_reply(asked, question)
    }

    /// Asks for a Yes before a command that changes things in AWS.
    pub(crate) async fn ask_confirmation(
        &self,
        key: &ConversationKey,
        request: Box<Request>,
        account: &AccountConfig,
        region: String,
    ) -> Reply {
        let text = format!(
            "Run `{}` in {account} · {region}? It changes things in AWS. Reply `@aws yes` or `@aws no`.",
            request.command_line()
        );
        let choices = crate::prompt::yes_no();
        let asked = self
            .conversations
            .ask(
                key.clone(),
                Pending::Confirmation {
                    request,
                    account: account.id.clone(),
                    region,
                },
                choices.clone(),
            )
            .await;
        asked_reply(
            asked,
            Question {
                kind: QuestionKind::Confirmation,
                text,
                choices,
            },
        )
    }

    /// Asks for the request's first missing parameter, offering the values that exist (those
    /// containing `typed`, when an answer matched none exactly) or the allowed ones.
    pub(crate) async fn ask_parameter(
        &self,
        inbound: &Inbound,
        key: &ConversationKey,
        request: Box<Request>,
        account: &AccountConfig,
        region: &str,
        typed: Option<&str>,
    ) -> Reply {
        let member = request.missing[0];
        let mut values = self
            .existing_values(inbound, request.service, &member.cli_name, account, region)
            .await;
        if let Some(typed) = typed {
            let typed = typed.to_lowercase();
            values.retain(|v| v.to_lowercase().contains(&typed));
        }
        if values.is_empty() {
            if let crate::catalog::Shape::String {
                enum_values: Some(allowed),
                ..
            } = request.service.shape(&member.shape)
            {
                values = allowed.clone();
            }
        }
        let choices: Vec<Choice> = values
            .into_iter()
            .take(MAX_CHOICES)
            .map(|v| Choice {
                answer: format!("{} {}", member.cli_name, v),
                label: v,
            })
            .collect();
        let mut text = match typed {
            Some(typed) => format!(
                "There is no {} `{typed}` in {account} · {region}. Did you mean one of these?",
                member.cli_name
            ),
            None => format!(
                "`{} {}` in {account} · {region} needs --{} ({}).",
                request.service.service,
                request.operation.name,
                member.cli_name,
                parse::help::member_line(request.service, member)
            ),
        };
        text.push_str(&format!(
            " Reply with the value (or `@aws {} <value>`){}, or `@aws cancel`.",
            member.cli_name,
            if choices.is_empty() { "" } else { ", pick one" }
        ));
        let asked = self
            .conversations
            .ask(
                key.clone(),
                Pending::Parameter {
                    option: member.cli_name.clone(),
                    request,
                    account: account.id.clone(),
                    region: region.to_owned(),
                },
                choices.clone(),
            )
            .await;
        asked_reply(
            asked,
            Question {
                kind: QuestionKind::Parameter,
                text,
                choices,
            },
        )
    }

    /// When an answer names no existing resource but a few contain what was typed, the
    /// question comes back with those: a typo in a function name becomes a pick, not an
    /// AWS error. `None` when the answer should simply go on.
    pub(crate) async fn narrow_answer(
        &self,
        inbound: &Inbound,
        key: &ConversationKey,
        narrow: Narrow,
    ) -> Option<Reply> {
        let member = narrow.asked.missing.first()?;
        let values = self
            .existing_values(
                inbound,
                narrow.asked.service,
                &member.cli_name,
                &narrow.account,
                &narrow.region,
            )
            .await;
        let typed = narrow.typed.to_lowercase();
        if values.is_empty()
            || values.contains(&narrow.typed)
            || !values.iter().any(|v| v.to_lowercase().contains(&typed))
        {
            return None;
        }
        Some(
            self.ask_parameter(
                inbound,
                key,
                narrow.asked,
                &narrow.account,
                &narrow.region,
                Some(&narrow.typed),
            )
            .await,
        )
    }

    /// After AWS said the resource a request names doesn't exist: the question the
    /// conversation asks for a missing name, offering the existing names closest to the one
    /// typed (the same list call as the questions). `None` when the request names nothing
    /// that can be listed, or nothing existing is close.
    pub(crate) async fn offer_closest(
        &self,
        inbound: &Inbound,
        request: &Request,
        account: &AccountConfig,
        region: &str,
        error_text: &str,
    ) -> Option<Reply> {
        let (member, typed) = request
            .service
            .input_members(request.operation)
            .iter()
            .filter(|m| {
                CHOICE_SOURCES
                    .iter()
                    .any(|(s, o, ..)| *s == request.service.service && *o == m.cli_name)
            })
            .find_map(|m| Some((m, request.params.get(&m.name)?.as_str()?.to_owned())))?;
        let values = self
            .existing_values(inbound, request.service, &member.cli_name, account, region)
            .await;
        let lower = typed.to_lowercase();
        let mut ranked: Vec<(f64, String)> = values
            .into_iter()
            .filter(|v| *v != typed)
            .map(|v| (strsim::jaro_winkler(&lower, &v.to_lowercase()), v))
            .filter(|(score, v)| *score > 0.7 || v.to_lowercase().contains(&lower))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        if ranked.is_empty() {
            return None;
        }
        let choices: Vec<Choice> = ranked
            .into_iter()
            .take(CLOSEST)
            .map(|(_, v)| Choice {
                answer: format!("{} {v}", member.cli_name),
                label: v,
            })
            .collect();
        let mut asked = Box::new(request.clone());
        asked.params.remove(&member.name);
        asked.missing = vec![member];
        let text = format!(
            "{error_text}\nThere is no {} `{typed}` in {account} · {region}. Did you mean one of these? Pick one, reply with the value (or `@aws {} <value>`), or `@aws cancel`.",
            member.cli_name, member.cli_name
        );
        let asked = self
            .conversations
            .ask(
                inbound.conversation_key(),
                Pending::Parameter {
                    option: member.cli_name.clone(),
                    request: asked,
                    account: account.id.clone(),
                    region: region.to_owned(),
                },
                choices.clone(),
            )
            .await;
        let reply = asked_reply(
            asked,
            Question {
                kind: QuestionKind::Parameter,
                text,
                choices,
            },
        );
        // The store couldn't keep the question: the AWS error stands, without the offer.
        reply.question.as_ref()?;
        Some(Reply {
            outcome: super::Outcome::AwsError,
            ..reply
        })
    }

    /// Values that exist for a resource-naming option, from the matching list call.
    async fn existing_values(
        &self,
        inbound: &Inbound,
        asking: &crate::catalog::Service,
        option: &str,
        account: &AccountConfig,
        region: &str,
    ) -> Vec<String> {
        let Some((service, _, op, query)) = CHOICE_SOURCES
            .iter()
            .find(|(s, o, ..)| *s == asking.service && *o == option)
        else {
            return vec![];
        };
        let Ok(Parsed::Command(request)) = parse::parse(&format!("{service} {op}")) else {
            return vec![];
        };
        // The list call is a command like any other: a channel that may not list these
        // resources does not see them in a question either.
        let Some(channel) = self.channel_of(inbound) else {
            return vec![];
        };
        if matches!(
            self.decide(channel, &request, Some((account, region))),
            crate::guard::Decision::Deny(_)
        ) {
            return vec![];
        }
        match self.execute(inbound, &request, account, region).await {
            Ok(executed) => match crate::query::search(executed.value, query) {
                Ok(Value::Array(items)) => items
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => vec![],
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not list choices");
                vec![]
            }
        }
    }
}

/// The question as a reply once the store keeps it, or that it could not be kept (a question
/// nobody can answer is not asked).
fn asked_reply(asked: Result<String, crate::state::StateError>, question: Question) -> Reply {
    match asked {
        Ok(id) => Reply {
            question_id: Some(id),
            ..Reply::ask(question)
        },
        Err(crate::state::StateError::TooLarge { .. }) => Reply::new(
            Outcome::Invalid,
            "That command is too large to keep while I ask about it. Send it with every option given, or shorter.",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "question not asked: the state store did not keep it");
            Reply::new(Outcome::Unavailable, STORE_UNREACHABLE)
        }
    }
}
