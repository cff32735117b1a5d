//! `alias create|list|delete` and `run` in the pipeline (the aliases themselves are
//! [`crate::aliases`]).
//!
//! Planning, like every message: `run <name> …` reads the channel's aliases with the rest of
//! what the store holds for the message, expands the alias with the values given and plans
//! the command it becomes as if the sender had typed it (parse, guard, account, questions,
//! confirmation); a missing value drops its option, so the pipeline asks for it. `alias
//! create` is checked at planning too: an alias the guard refuses whatever the account (the
//! deny list, a write the channel doesn't confirm, a guardrail that denies it everywhere) is
//! refused with the guard's reason, and nothing is kept. Carrying out writes the channel's
//! aliases by compare-and-set.

use crate::aliases::{self, Alias, AliasCommand, AliasError};
use crate::audit::AuditRecord;
use crate::config::ChannelConfig;
use crate::guard::Decision;
use crate::parse::{self, Parsed};
use crate::template::{Template, TemplateError};

use super::plan::{Effect, Plan, Step};
use super::{Inbound, Known, Outcome, Pipeline, Reply, STORE_UNREACHABLE};

/// A change to (or a look at) the channel's aliases, planned and checked.
#[derive(Debug)]
pub(crate) enum AliasStep {
    Create { name: String, alias: Alias },
    List,
    Delete { name: String },
}

impl AliasStep {
    pub fn describe(&self) -> String {
        match self {
            AliasStep::Create { name, alias } => format!("alias create {name}: {}", alias.command),
            AliasStep::List => "alias list".into(),
            AliasStep::Delete { name } => format!("alias delete {name}"),
        }
    }
}

/// Whether a message is `run …`, whose planning needs the channel's aliases.
pub(crate) fn needs_aliases(text: &str) -> bool {
    matches!(
        AliasCommand::parse(text),
        Some(Ok(AliasCommand::Run { .. }))
    )
}

impl Pipeline {
    /// The plan for an alias command; `None` when the message is none.
    pub(crate) fn plan_alias(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        text: &str,
        known: &Known,
    ) -> Option<Plan> {
        let command = match AliasCommand::parse(text)? {
            Ok(command) => command,
            Err(e) => return Some(Plan::new(Step::Invalid(e.to_string()), Effect::Keep)),
        };
        let step = match command {
            AliasCommand::List => Step::Alias(AliasStep::List),
            AliasCommand::Delete { name } => Step::Alias(AliasStep::Delete { name }),
            AliasCommand::Create { name, command } => {
                match self.check_alias(channel, &name, &command) {
                    Ok(()) => Step::Alias(AliasStep::Create {
                        name,
                        alias: Alias {
                            command,
                            created_by: inbound.user.clone(),
                        },
                    }),
                    Err(plan) => return Some(*plan),
                }
            }
            AliasCommand::Run { name, args } => {
                let plan = self.plan_run(inbound, channel, &name, &args, known);
                return Some(Plan {
                    alias: Some(name),
                    ..plan
                });
            }
        };
        Some(Plan::new(step, Effect::Close))
    }

    /// `run <name> <args>`: the alias expanded and planned as if the runner typed it.
    fn plan_run(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        name: &str,
        args: &[String],
        known: &Known,
    ) -> Plan {
        let book = match &known.aliases {
            Some(Ok(book)) => book,
            Some(Err(AliasError::Store(_))) | None => {
                return Plan::new(Step::Unavailable, Effect::Keep)
            }
            Some(Err(e)) => return Plan::new(Step::Invalid(e.to_string()), Effect::Keep),
        };
        let expanded = match book
            .get(name)
            .and_then(|alias| aliases::expand(name, alias, args))
        {
            Ok(expanded) => expanded,
            Err(e) => return Plan::new(Step::Invalid(e.to_string()), Effect::Keep),
        };
        let mut step = self.plan_command(inbound, channel, &expanded, known);
        // The request keeps its alias through any question, for the record of its run.
        if let Some(request) = step.request_mut() {
            request.alias = Some(name.to_owned());
        }
        Plan {
            preface: Some(format!("Alias `{name}`: `{expanded}`")),
            expansion: Some(expanded),
            ..Plan::new(step, Effect::Close)
        }
    }

    /// Refuses an alias that can't run here: a template that can't be read, a command that
    /// isn't one, or one the guard refuses whatever the account and values.
    fn check_alias(
        &self,
        channel: &ChannelConfig,
        name: &str,
        command: &str,
    ) -> Result<(), Box<Plan>> {
        let refuse = |step: Step, why: &str| {
            let mut plan = Plan::new(step, Effect::Keep);
            plan.preface = Some(format!("I won't keep alias `{name}`: {why}"));
            Box::new(plan)
        };
        let invalid = |e: String| Box::new(Plan::new(Step::Invalid(e), Effect::Keep));
        let template =
            Template::parse(command).map_err(|e| invalid(AliasError::from(e).to_string()))?;
        // Planned without its values (their options dropped, so nothing about them is
        // decided), or with placeholders where a value has no option to drop with it.
        let filled = match template.fill(|_| None) {
            Err(TemplateError::Missing { .. }) => template.fill(|_| Some("x".into())),
            other => other,
        }
        .map_err(|e| invalid(AliasError::from(e).to_string()))?;
        match parse::parse(&filled) {
            Ok(Parsed::Command(request)) => match self.decide(channel, &request, None) {
                Decision::Deny(refusal) => Err(refuse(
                    Step::Deny(refusal),
                    "the guard would refuse it whoever runs it.",
                )),
                _ => Ok(()),
            },
            Ok(Parsed::Unsupported { service, operation }) => Err(refuse(
                Step::Deny(self.guard.unsupported(&service, operation.as_deref())),
                "it would be refused.",
            )),
            Ok(Parsed::Help(_)) => Err(invalid(
                AliasError::Refused("an alias runs a command, not help.".into()).to_string(),
            )),
            Err(e) => Err(invalid(AliasError::Refused(e.to_string()).to_string())),
        }
    }

    /// Carries an alias step out on the channel's aliases.
    pub(crate) async fn alias_change(
        &self,
        inbound: &Inbound,
        step: AliasStep,
        record: &mut AuditRecord,
    ) -> Reply {
        let Some(channel) = self.channel_of(inbound) else {
            return Reply::new(Outcome::Invalid, "This channel isn't set up.");
        };
        let store = self.conversations.store().as_ref();
        let clock = self.conversations.clock().as_ref();
        let result = match step {
            AliasStep::List => aliases::book(store, &channel.id)
                .await
                .map(|book| book.listing(&channel.name)),
            AliasStep::Create { name, alias } => {
                let command = alias.command.clone();
                aliases::create(store, clock, &channel.id, &name, alias)
                    .await
                    .map(|()| {
                        format!("Alias `{name}` created: `@aws run {name}` runs `{command}`.")
                    })
            }
            AliasStep::Delete { name } => aliases::delete(store, clock, &channel.id, &name)
                .await
                .map(|alias| format!("Alias `{name}` deleted (it ran `{}`).", alias.command)),
        };
        match result {
            Ok(text) => Reply::new(Outcome::Ok, text),
            Err(AliasError::Store(e)) => {
                record.reason = Some(format!("state store: {e}"));
                Reply::new(Outcome::Unavailable, STORE_UNREACHABLE)
            }
            Err(e) => {
                record.reason = Some(e.to_string());
                Reply::new(Outcome::Invalid, e.to_string())
            }
        }
    }
}
