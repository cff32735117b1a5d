//! Planning: what to do with a message, decided without calling AWS or changing any state.
//!
//! parse → guard → account and region → a [`Step`]. Answers to open questions are planned
//! in [`super::conversation`], which comes back here with the completed request.

use crate::config::{AccountConfig, ChannelConfig};
use crate::guard::{self, Decision, Refusal, Rule, Sender};
use crate::normalize::normalize;
use crate::parse::{self, ParseError, Parsed, Request};
use crate::state::DocKind;

use super::{Inbound, Known, Pipeline};
use crate::prompt::{Answer, Lookup};

/// Where the stages leave a message, before anything happens.
#[derive(Debug)]
pub(crate) enum Step {
    /// Help text, or a conversation step answered (cancelled, account chosen).
    Help(String),
    /// The message needs the state store, which can't be reached.
    Unavailable,
    Deny(Refusal),
    Invalid(String),
    /// An answer, but no question is open here to answer.
    NothingOpen,
    /// A Next button whose page was shown already (by an earlier press of it).
    AlreadyShown,
    /// Ask which account the channel uses; `request` goes on once it is chosen.
    AskAccount {
        request: Option<Box<Request>>,
        text: String,
    },
    AskParameter {
        request: Box<Request>,
        account: AccountConfig,
        region: String,
    },
    Confirm {
        request: Box<Request>,
        account: AccountConfig,
        region: String,
    },
    Run {
        request: Box<Request>,
        account: AccountConfig,
        region: String,
    },
    /// Details or the next page of an earlier reply, from what was kept of it.
    Follow(super::follow::Follow),
    /// A change to the channel's aliases, or their list.
    Alias(super::aliases::AliasStep),
}

/// What happens to this person's open question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// It stays open (an answer that did not fit it).
    Keep,
    /// It is closed: answered, cancelled, expired, or replaced by a new command.
    Close,
    /// It is closed, and the channel uses this account (id) by default from now on.
    RememberAccount(String),
}

/// An answer to check against the values that exist before it runs (see
/// [`Pipeline::narrow_answer`]).
#[derive(Debug)]
pub(crate) struct Narrow {
    /// The request as it was asked, still missing the answered option.
    pub asked: Box<Request>,
    pub account: AccountConfig,
    pub region: String,
    pub typed: String,
}

#[derive(Debug)]
pub(crate) struct Plan {
    pub step: Step,
    pub effect: Effect,
    /// Said before the step's own reply.
    pub preface: Option<String>,
    pub narrow: Option<Narrow>,
    /// The open question this message answers, by id: carrying the plan out takes it first,
    /// and if another answer took it (here or in another process) nothing runs.
    pub answers: Option<String>,
    /// Whether the store held a question (open or expired) for this person here: a new
    /// command closes it; without one there is nothing to close (one store call saved).
    pub had_question: bool,
    /// The command an alias expanded to (`run <name> …`), for `explain`.
    pub expansion: Option<String>,
    /// The alias `run <name>` ran (whether or not it expanded), for the audit record.
    pub alias: Option<String>,
    /// The kept listing this message moves on (a Next past the kept response): carrying the
    /// plan out writes over the version read first, and if another press did, nothing runs.
    pub claims: Option<Box<crate::followups::Kept>>,
}

impl Step {
    /// The request this step goes on with, if it has one.
    pub fn request_mut(&mut self) -> Option<&mut Request> {
        match self {
            Step::AskAccount { request, .. } => request.as_deref_mut(),
            Step::AskParameter { request, .. }
            | Step::Confirm { request, .. }
            | Step::Run { request, .. } => Some(request),
            _ => None,
        }
    }
}

impl Plan {
    pub fn new(step: Step, effect: Effect) -> Plan {
        Plan {
            step,
            effect,
            preface: None,
            narrow: None,
            answers: None,
            had_question: true,
            expansion: None,
            alias: None,
            claims: None,
        }
    }
}

impl Pipeline {
    /// Reads what the state store holds for this message in one round trip: the sender's
    /// open question here, the channel's memory and, for a follow-up, the listing it
    /// continues (the one its button names, or what names the latest: a second read then
    /// fetches that listing, only when the message does continue it).
    pub(crate) async fn known(&self, inbound: &Inbound) -> Known {
        use super::follow::Wanted;
        let key = crate::prompt::store_key(&inbound.conversation_key());
        let channel = self
            .channel_of(inbound)
            .map(|c| c.id.clone())
            .unwrap_or_else(|| inbound.channel.clone());
        let text = normalize(&inbound.text);
        let wanted = super::follow::wanted(&text);
        // `run <name>` reads the channel's aliases in the same round trip.
        let runs_alias = super::aliases::needs_aliases(&text);
        let doc = match &wanted {
            Some(Wanted::Id(id)) => Some((DocKind::FollowUp, id.clone())),
            Some(Wanted::Latest) => Some((
                DocKind::FollowUp,
                crate::followups::latest_key(&inbound.channel, inbound.thread.as_deref()),
            )),
            None if runs_alias => Some((DocKind::Aliases, channel.clone())),
            None => None,
        };
        let read = self
            .conversations
            .store()
            .read_message(
                &key,
                &channel,
                doc.as_ref().map(|(kind, id)| (*kind, id.as_str())),
            )
            .await;
        let mut known = Known::default();
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                known.unreachable = Some(e);
                return known;
            }
        };
        if runs_alias {
            known.aliases = Some(crate::aliases::book_of(read.doc.clone(), &channel));
        }
        match self.conversations.lookup_of(read.question) {
            Ok((lookup, message)) => {
                known.lookup = lookup;
                known.message = message;
            }
            Err(e) => known.unreachable = Some(e),
        }
        known.memory = crate::prompt::ChannelMemory {
            account: read.memory.account,
            region: read.memory.region,
        };
        let follow = match (wanted, read.doc) {
            (Some(Wanted::Id(id)), doc) => self.followups.read(&id, doc, &inbound.channel),
            (Some(Wanted::Latest), Some(pointer)) => {
                match crate::followups::pointed(&pointer) {
                    // A number answers an open question rather than a button.
                    Some(id)
                        if matches!(known.lookup, Lookup::None)
                            || super::follow::wanted_by_word(&normalize(&inbound.text)) =>
                    {
                        self.followups.get(&id, &inbound.channel).await
                    }
                    _ => Ok(crate::followups::Found::None),
                }
            }
            _ => Ok(crate::followups::Found::None),
        };
        match follow {
            Ok(found) => known.follow = found,
            Err(crate::state::StateError::Corrupt(e)) => {
                tracing::warn!(error = %e, "a kept listing is unreadable: nothing to continue");
            }
            Err(e) => known.unreachable = Some(e),
        }
        known
    }

    /// The plan for a message: refused at the door, an answer to the open question, or a
    /// new command (which replaces the open question).
    pub(crate) fn plan(&self, inbound: &Inbound, known: &Known) -> Plan {
        let sender = Sender {
            team: &inbound.team,
            channel: &inbound.channel,
            user: &inbound.user,
            direct_message: inbound.direct_message,
        };
        let channel = match self.guard.admit(&self.config, &sender) {
            Ok(channel) => channel,
            Err(refusal) => return Plan::new(Step::Deny(refusal), Effect::Keep),
        };
        let text = normalize(&inbound.text);
        if known.unreachable.is_some() && Answer::parse(&text, |_| false).is_some() {
            // An answer whose question can't be read: say so rather than guess.
            return Plan::new(Step::Unavailable, Effect::Keep);
        }
        let lookup = known.lookup.clone();
        let open = match &lookup {
            Lookup::Open(_, _, id) => Some(id.clone()),
            _ => None,
        };
        let had_question = !matches!(lookup, Lookup::None) || known.unreachable.is_some();
        // `alias …` and `run …` are commands of their own, whatever question is open.
        if let Some(plan) = self.plan_alias(inbound, channel, &text, known) {
            return Plan {
                had_question,
                ..plan
            };
        }
        // `next`, `details`, or a number when no question is open: the earlier reply goes
        // on, and an open question stays open.
        if let Some(plan) = self.plan_follow_up(channel, &text, had_question, known) {
            return plan;
        }
        if let Some(answer) = self.recognize_answer(&text, &lookup) {
            let mut plan = self.plan_answer(inbound, channel, answer, lookup, known);
            if plan.effect != Effect::Keep {
                plan.answers = open;
            }
            plan.had_question = had_question;
            return plan;
        }
        Plan {
            had_question,
            ..Plan::new(
                self.plan_command(inbound, channel, &text, known),
                Effect::Close,
            )
        }
    }

    /// A new command: parse it, then plan the request.
    pub(crate) fn plan_command(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        text: &str,
        known: &Known,
    ) -> Step {
        match parse::parse(text) {
            Ok(Parsed::Help(help)) => Step::Help(help),
            Ok(Parsed::Unsupported { service, operation }) => {
                Step::Deny(self.guard.unsupported(&service, operation.as_deref()))
            }
            Ok(Parsed::Command(mut request)) => {
                // Optional parameters worth a question (support create-case's service,
                // category and severity) are asked after the required ones.
                for member in crate::prompt::guided_members(&request) {
                    if !request.params.contains_key(&member.name)
                        && !request.missing.iter().any(|m| m.name == member.name)
                    {
                        request.missing.push(member);
                    }
                }
                self.plan_request(inbound, channel, request, None, known)
            }
            Err(e) => refusal_or_invalid(e),
        }
    }

    /// A parsed request: refused outright, then the account (`chosen`, or as
    /// [`Pipeline::account`] finds it) and region, then the guard's decision there.
    pub(crate) fn plan_request(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        request: Box<Request>,
        chosen: Option<AccountConfig>,
        known: &Known,
    ) -> Step {
        // What holds whatever the account (the deny list, the option rules, a guardrail that
        // denies an action everywhere) refuses before asking which account.
        if let Decision::Deny(refusal) = self.decide(channel, &request, None) {
            return Step::Deny(refusal);
        }
        // An account named outside the message (`--account`, the alarm behind a card's
        // button) that the channel isn't bound to: nothing runs, rather than the default.
        if let Some(named) = inbound.account.as_deref() {
            if chosen.is_none() && channel.account(named).is_none() {
                return Step::Invalid(format!(
                    "Account {named} isn't one of this channel's accounts ({}), so nothing ran.",
                    channel
                        .accounts
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        let Some(account) = chosen.or_else(|| self.account(inbound, channel, known)) else {
            return Step::AskAccount {
                request: Some(request),
                text: "Which account should this channel use?".into(),
            };
        };
        let region = self.region(channel, &request, known);
        self.plan_in(channel, request, account, region)
    }

    /// The guard's decision for a request in a given account and region.
    pub(crate) fn plan_in(
        &self,
        channel: &ChannelConfig,
        request: Box<Request>,
        account: AccountConfig,
        region: String,
    ) -> Step {
        match self.decide(channel, &request, Some((&account, &region))) {
            Decision::Deny(refusal) => Step::Deny(refusal),
            _ if !request.missing.is_empty() => Step::AskParameter {
                request,
                account,
                region,
            },
            Decision::Confirm => Step::Confirm {
                request,
                account,
                region,
            },
            Decision::Run => Step::Run {
                request,
                account,
                region,
            },
        }
    }

    /// The only place the guard is asked about a request: everything the guard needs to know
    /// (the account and region, when known, for resource ARNs) goes through here.
    pub(crate) fn decide(
        &self,
        channel: &ChannelConfig,
        request: &Request,
        account: Option<(&AccountConfig, &str)>,
    ) -> Decision {
        let place = account.map(|(account, region)| guard::Place {
            account: &account.id,
            region,
        });
        self.guard.check(channel, request, place)
    }

    /// The account a command runs in: given outright, the only one, or the channel's default.
    pub(crate) fn account(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        known: &Known,
    ) -> Option<AccountConfig> {
        if let Some(chosen) = inbound.account.as_deref().and_then(|a| channel.account(a)) {
            return Some(chosen.clone());
        }
        if let [only] = channel.accounts.as_slice() {
            return Some(only.clone());
        }
        let remembered = known.memory.account.clone()?;
        channel.account(&remembered).cloned()
    }

    /// The region a command runs in: given with it, remembered by the channel, or the
    /// channel's own.
    pub(crate) fn region(
        &self,
        channel: &ChannelConfig,
        request: &Request,
        known: &Known,
    ) -> String {
        request
            .region
            .clone()
            .or_else(|| known.memory.region.clone())
            .unwrap_or_else(|| channel.region.clone())
    }
}

fn refusal_or_invalid(e: ParseError) -> Step {
    match e {
        ParseError::Chained(operator) => Step::Deny(Refusal::new(Rule::Chaining { operator })),
        ParseError::Suspicious { name, found } => Step::Deny(Refusal::new(Rule::LookAlike {
            detail: format!("`{name}` contains invisible or look-alike characters ({found})"),
        })),
        other => Step::Invalid(other.to_string()),
    }
}
