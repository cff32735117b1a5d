//! Per-user roles, `whoami` and two-person approval in the pipeline ([`crate::access`]).
//!
//! Planning stays pure; once a plan names an account, [`Pipeline::admit`] (the one async
//! step between planning and carrying out) decides whose role runs it (the person's user
//! role, or the channel's), refuses when that can't be decided, turns a command that needs
//! approval into an approval request, and lets a Yes run such a command only with the grant
//! an approver left. The guard's decision is untouched: guardrails bound every role.
//!
//! `whoami`, `approve <id>` and `deny <id>` are answered before planning.

use futures_util::FutureExt;

use crate::access::approval::{self, ApprovalRequest, Grant, State};
use crate::access::{roles, AccessError, Assigned};
use crate::audit::{AuditDecision, AuditRecord};
use crate::config::{AccountConfig, ChannelConfig};
use crate::guard::{Refusal, Rule};
use crate::parse::Request;
use crate::prompt::{Choice, ConversationKey, Pending, Question, QuestionKind};
use crate::state::stored::StoredRequest;
use crate::state::{expires_in, unix_millis, QuestionMessage, StateError};

use super::plan::{Plan, Step};
use super::{Inbound, Outcome, Pipeline, Reply, STORE_UNREACHABLE};

/// What admitting a plan added, applied to its audit record and reply.
#[derive(Debug, Default)]
pub(crate) struct Admitted {
    /// An approval request was opened: its buttons, and what it is about (for the record).
    asked: Option<(Vec<Choice>, String)>,
    /// The command runs with this approver's grant.
    approved_by: Option<String>,
    /// The request, account and region the approval request is about (the plan's step
    /// became its text), for the audit record.
    about: Option<(Box<Request>, AccountConfig, String)>,
}

impl Admitted {
    pub(crate) fn describe(&self, record: &mut AuditRecord) {
        if let Some((request, account, region)) = &self.about {
            super::describe_request(record, request, account, region);
        }
        if let Some((_, id)) = &self.asked {
            record.decision = AuditDecision::Prompt;
            record.reason = Some(format!("approval requested ({id})"));
        }
        if let Some(by) = &self.approved_by {
            record.approved_by = Some(by.clone());
        }
    }

    pub(crate) fn finish(self, mut reply: Reply) -> Reply {
        if let Some((actions, id)) = self.asked {
            if reply.outcome == Outcome::Ok {
                reply.outcome = Outcome::Asked;
                reply.actions = actions;
                reply.mentions = mentions_in(&reply.text);
                reply.shows_approval = Some(id);
            }
        }
        reply
    }
}

/// The people a text of this module names outside code spans (`<@U…>`, `<!subteam^S…>`):
/// the requester, approvers, who decided. What people typed (the command) is quoted in a
/// code span, so its mentions stay text.
fn mentions_in(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            continue; // inside a code span
        }
        for (open, rest) in [("<@", part), ("<!subteam^", part)] {
            for piece in rest.split(open).skip(1) {
                if let Some((id, _)) = piece.split_once('>') {
                    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) {
                        ids.push(id.to_owned());
                    }
                }
            }
        }
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The account a step runs in, when it runs a command.
fn account_of(step: &Step) -> Option<String> {
    match step {
        Step::AskParameter { account, .. }
        | Step::Confirm { account, .. }
        | Step::Run { account, .. } => Some(account.id.clone()),
        _ => None,
    }
}

/// `step` run as the role `assigned` names (the sender's user role, or the channel's), or
/// refused when the sender may not run in its account.
fn with_role(mut step: Step, assigned: Option<Result<Assigned, AccessError>>) -> Step {
    let (Step::AskParameter {
        request, account, ..
    }
    | Step::Confirm {
        request, account, ..
    }
    | Step::Run {
        request, account, ..
    }) = &mut step
    else {
        return step;
    };
    match assigned {
        Some(Ok(assigned)) => {
            account.role_arn = assigned.role_arn;
            step
        }
        Some(Err(e)) => {
            let action = request.service.actions(request.operation).next();
            Step::Deny(Refusal {
                action: action.map(str::to_owned),
                ..Refusal::new(Rule::Access {
                    rule: e.rule(),
                    why: e.to_string(),
                })
            })
        }
        None => step,
    }
}

fn refuse(rule: &'static str, why: String) -> Step {
    Step::Deny(Refusal::new(Rule::Access { rule, why }))
}

fn refused(e: AccessError) -> Step {
    refuse(e.rule(), e.to_string())
}

impl Pipeline {
    /// The role `inbound`'s sender runs as in `account` of their channel.
    pub(crate) async fn assigned_role(
        &self,
        inbound: &Inbound,
        account_id: &str,
    ) -> Option<Result<Assigned, AccessError>> {
        let channel = self.channel_of(inbound)?;
        let account = channel.account(account_id)?;
        Some(
            roles::resolve(
                channel,
                account,
                &inbound.user,
                &self.groups,
                &**self.conversations.clock(),
            )
            .await,
        )
    }

    /// [`Pipeline::admit`] for `explain`, which asks nobody and changes nothing: the sender's
    /// role (a role through a user group is read only if it is known without asking Slack;
    /// without Slack, as from the command line, its lookup fails as it does in the shell),
    /// and whether an approval must come before the Yes (who may give it).
    pub(crate) fn admit_now(&self, inbound: &Inbound, step: Step) -> (Step, Option<String>) {
        let Some(account) = account_of(&step) else {
            return (step, None);
        };
        let step = match self.assigned_role(inbound, &account).now_or_never() {
            Some(assigned) => with_role(step, assigned),
            None => step,
        };
        let approval = match (&step, self.channel_of(inbound)) {
            (Step::Confirm { request, .. }, Some(channel)) => {
                let rules = approval::rules_for(channel, request);
                (!rules.is_empty()).then(|| approval::approvers_text(&rules))
            }
            _ => None,
        };
        (step, approval)
    }

    /// Whose role runs the plan, and approvals; see the module doc.
    pub(crate) async fn admit(&self, inbound: &Inbound, mut plan: Plan) -> (Plan, Admitted) {
        let mut admitted = Admitted::default();
        let Some(channel) = self.channel_of(inbound) else {
            return (plan, admitted);
        };
        if let Step::Follow(follow) = &plan.step {
            let account = match follow {
                super::follow::Follow::Page { kept } => kept.listing.account.clone(),
                super::follow::Follow::Details { listing, .. } => listing.account.clone(),
            };
            if let Some(Err(e)) = self.assigned_role(inbound, &account).await {
                plan.step = refused(e);
            }
            return (plan, admitted);
        }
        let Some(account) = account_of(&plan.step) else {
            return (plan, admitted);
        };
        let assigned = self.assigned_role(inbound, &account).await;
        plan.step = with_role(
            std::mem::replace(&mut plan.step, Step::Unavailable),
            assigned,
        );
        let (Step::AskParameter { request, .. }
        | Step::Confirm { request, .. }
        | Step::Run { request, .. }) = &plan.step
        else {
            return (plan, admitted);
        };
        let rules = approval::rules_for(channel, request);
        if rules.is_empty() {
            return (plan, admitted);
        }
        let approvers = approval::approvers_text(&rules);
        let step = std::mem::replace(&mut plan.step, Step::Unavailable);
        plan.step = match step {
            Step::Confirm {
                request,
                account,
                region,
            } => {
                match self
                    .request_approval(inbound, &request, &account, &region, &approvers)
                    .await
                {
                    Ok((text, id)) => {
                        admitted.asked = Some((
                            vec![
                                Choice {
                                    label: "Approve".into(),
                                    answer: format!("approve {id}"),
                                },
                                Choice {
                                    label: "Deny".into(),
                                    answer: format!("deny {id}"),
                                },
                            ],
                            id,
                        ));
                        admitted.about = Some((request, account, region));
                        Step::Help(text)
                    }
                    Err(step) => step,
                }
            }
            Step::Run {
                request,
                account,
                region,
            } => match self
                .take_grant(inbound, &request, &account, &region, &approvers)
                .await
            {
                Ok(approver) => {
                    admitted.approved_by = Some(approver);
                    Step::Run {
                        request,
                        account,
                        region,
                    }
                }
                Err(step) => step,
            },
            other => other,
        };
        (plan, admitted)
    }

    /// Opens an approval request for `request`: its text and id, or the step that says why not.
    async fn request_approval(
        &self,
        inbound: &Inbound,
        request: &Request,
        account: &AccountConfig,
        region: &str,
        approvers: &str,
    ) -> Result<(String, String), Step> {
        let clock = self.conversations.clock();
        let ttl = std::time::Duration::from_secs(self.config.question_ttl_secs);
        let id = approval::new_id();
        let command = request.command_line();
        let doc = ApprovalRequest {
            requester: inbound.user.clone(),
            channel: inbound.channel.clone(),
            thread: inbound.thread.clone(),
            request: StoredRequest::from_request(request),
            command: command.clone(),
            account: account.id.clone(),
            region: region.to_owned(),
            asked_at_ms: unix_millis(clock.wall()),
            state: State::Pending,
        };
        let expires = expires_in(&**clock, ttl + KEEP_EXPIRED);
        match approval::open_request(&**self.conversations.store(), &id, &doc, expires).await {
            Ok(true) => {}
            Ok(false) | Err(_) => return Err(Step::Unavailable),
        }
        let minutes = ttl.as_secs().div_ceil(60);
        Ok((
            format!(
                "🔐 <@{}> asks to run `{command}` in {account} · {region}. It needs an approval by {approvers} (someone other than <@{}>) before it can run.\nApprovers: press Approve or Deny, or reply `@aws approve {id}` or `@aws deny {id}`. The request expires in {minutes} minutes.",
                inbound.user, inbound.user
            ),
            id,
        ))
    }

    /// The Yes for a command that needs approval: it runs with the approver's grant, taken
    /// once; without one, nothing runs.
    async fn take_grant(
        &self,
        inbound: &Inbound,
        request: &Request,
        account: &AccountConfig,
        region: &str,
        approvers: &str,
    ) -> Result<String, Step> {
        let store = self.conversations.store();
        let doc = approval::grant_doc(&inbound.channel, &inbound.user, inbound.thread.as_deref());
        let grant = match approval::read_grant(&**store, &doc).await {
            Ok(grant) => grant,
            Err(_) => return Err(Step::Unavailable),
        };
        let ttl_ms = self.config.question_ttl_secs * 1000;
        let now = unix_millis(self.conversations.clock().wall());
        let command = request.command_line();
        let matching = grant.filter(|g| {
            g.value.command == command
                && g.value.account == account.id
                && g.value.region == region
                && now.saturating_sub(g.value.granted_at_ms) <= ttl_ms
        });
        let not_approved = || {
            refuse(
                "approval",
                format!("`{command}` needs an approval by {approvers} before it runs here, and I have none for it, so nothing ran. Send the command again to ask for one."),
            )
        };
        let Some(grant) = matching else {
            return Err(not_approved());
        };
        match approval::take_grant(&**store, &doc, grant.version).await {
            Ok(true) => Ok(grant.value.approver),
            Ok(false) => Err(not_approved()),
            Err(_) => Err(Step::Unavailable),
        }
    }

    /// `whoami`, `approve <id>` and `deny <id>`, answered before planning; `None` for
    /// anything else (or a sender the channel doesn't admit: planning refuses them).
    pub(crate) async fn access_command(
        &self,
        inbound: &Inbound,
        record: &mut AuditRecord,
    ) -> Option<Reply> {
        let text = crate::normalize::normalize(&inbound.text);
        let mut words = text.split_whitespace();
        let first = words.next()?.to_ascii_lowercase();
        let (second, rest) = (words.next(), words.next());
        let command = match (first.as_str(), second, rest) {
            ("whoami", None, _) => Command::WhoAmI,
            ("approve", Some(id), None) => Command::Decide(id.to_owned(), true),
            ("deny", Some(id), None) => Command::Decide(id.to_owned(), false),
            _ => return None,
        };
        let channel = self.channel_of(inbound)?;
        let mut reply = match command {
            Command::WhoAmI => {
                record.decision = AuditDecision::Help;
                record.reason = Some("whoami".into());
                Reply::new(Outcome::Ok, self.whoami(inbound, channel).await)
            }
            Command::Decide(id, approve) => {
                let mut reply = self
                    .decide_approval(inbound, channel, &id, approve, record)
                    .await;
                if reply.closes_with.is_some() {
                    // The message that shows the request, however the decision came (a
                    // press, or typed anywhere): its buttons go.
                    let store = self.conversations.store();
                    reply.closes = approval::read_shown(&**store, &id)
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "the approval request's message is unknown: its buttons stay");
                            None
                        });
                }
                reply
            }
        };
        reply.mentions = mentions_in(&reply.text);
        Some(reply)
    }

    /// Which account, role, region and guardrails apply to the sender here.
    async fn whoami(&self, inbound: &Inbound, channel: &ChannelConfig) -> String {
        let known = self.known(inbound).await;
        let default = self.account(inbound, channel, &known);
        let region = known
            .memory
            .region
            .clone()
            .unwrap_or_else(|| channel.region.clone());
        let mut lines = vec![format!(
            "You are <@{}> in {} ({}).",
            inbound.user, channel.name, channel.id
        )];
        lines.push(match &default {
            Some(account) => format!("Commands run in {account} unless you name another account."),
            None => "Commands ask which account to use (this channel has no default yet).".into(),
        });
        for account in &channel.accounts {
            let role = match roles::resolve(
                channel,
                account,
                &inbound.user,
                &self.groups,
                &**self.conversations.clock(),
            )
            .await
            {
                Ok(Assigned {
                    role_arn,
                    via: None,
                }) => {
                    format!("the channel's role `{role_arn}`")
                }
                Ok(Assigned {
                    role_arn,
                    via: Some(via),
                }) if via == inbound.user => format!("your user role `{role_arn}`"),
                Ok(Assigned {
                    role_arn,
                    via: Some(group),
                }) => format!("your user role `{role_arn}` (through <!subteam^{group}>)"),
                Err(e) => format!("none: {e}"),
            };
            let required = if roles::requires_user_role(channel, account) {
                "a user role is required"
            } else {
                "a user role is not required"
            };
            lines.push(format!("• {account}: {role}; {required}."));
        }
        lines.push(format!("Region: {region}."));
        if channel.guardrails.is_empty() {
            lines.push("Guardrails: none; the built-in deny list still bounds every role here, and changes need a Yes.".into());
        } else {
            let files: Vec<String> = channel
                .guardrails
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect();
            lines.push(format!(
                "Guardrails: {} and the built-in deny list. They bound every role here: a Deny in them wins over what a role allows.",
                files.join(", ")
            ));
        }
        for rule in &channel.approvals {
            lines.push(format!(
                "Approval: {} need an approval by {} before the Yes.",
                rule.actions
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                approval::approvers_text(&[rule])
            ));
        }
        lines.join("\n")
    }

    /// Records the chat message that shows approval request `id` ([`Reply::shows_approval`]).
    pub async fn approval_shown(
        &self,
        id: &str,
        message: QuestionMessage,
    ) -> Result<(), StateError> {
        let ttl = std::time::Duration::from_secs(self.config.question_ttl_secs);
        let expires = expires_in(&**self.conversations.clock(), ttl + KEEP_EXPIRED);
        approval::put_shown(&**self.conversations.store(), id, &message, expires)
            .await
            .map(|_| ())
    }

    /// Approve or Deny pressed (or typed) on approval request `id`.
    async fn decide_approval(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        id: &str,
        approve: bool,
        record: &mut AuditRecord,
    ) -> Reply {
        record.decision = AuditDecision::Confirm;
        record.reason = Some(format!(
            "{} approval {id}",
            if approve { "approve" } else { "deny" }
        ));
        let store = self.conversations.store().clone();
        let clock = self.conversations.clock().clone();
        let ttl = std::time::Duration::from_secs(self.config.question_ttl_secs);
        let read = match approval::read_request(&*store, id).await {
            Ok(Some(read)) if read.value.channel == inbound.channel => read,
            Ok(_) => {
                return Reply::new(
                    Outcome::Invalid,
                    format!("There's no approval request `{id}` here: it was answered, or it expired, so nothing changed."),
                )
            }
            Err(e) => {
                record.reason = Some(format!("state store: {e}"));
                return Reply::new(Outcome::Unavailable, STORE_UNREACHABLE);
            }
        };
        let asked = &read.value;
        record.requester = Some(asked.requester.clone());
        record.account = Some(asked.account.clone());
        record.region = Some(asked.region.clone());
        let where_ = channel
            .account(&asked.account)
            .map_or(asked.account.clone(), ToString::to_string);
        let what = format!("`{}` in {where_} · {}", asked.command, asked.region);
        if let Some(note) = decided_note(&asked.state) {
            let mut reply = private(Reply::new(
                Outcome::Invalid,
                already_decided(&asked.state, &what),
            ));
            reply.closes_with = Some(note);
            return reply;
        }
        let now = unix_millis(clock.wall());
        let minutes = ttl.as_secs().div_ceil(60);
        if now.saturating_sub(asked.asked_at_ms) > ttl.as_millis() as u64 {
            let mut reply = Reply::new(
                Outcome::Invalid,
                format!(
                    "That approval request expired after {minutes} minutes, so {what} won't run. <@{}> can send the command again.",
                    asked.requester
                ),
            );
            reply.closes_with = Some(format!("⌛ Expired after {minutes} minutes: nothing ran."));
            return reply;
        }
        let request = match asked.request.clone().into_request() {
            Ok(request) => request,
            Err(e) => return Reply::new(Outcome::Invalid, e.to_string()),
        };
        let rules = approval::rules_for(channel, &request);
        let approvers = approval::approvers_text(&rules);
        let withdrawn = !approve && inbound.user == asked.requester;
        if approve && inbound.user == asked.requester {
            record.decision = AuditDecision::Deny;
            return private(Reply::new(
                Outcome::Refused,
                format!("Refused: you asked for {what}, so you can't approve it yourself. Another approver must: {approvers}."),
            ));
        }
        if !withdrawn {
            match self.is_approver(&rules, &inbound.user).await {
                Ok(true) => {}
                Ok(false) => {
                    record.decision = AuditDecision::Deny;
                    return private(Reply::new(
                        Outcome::Refused,
                        format!("Refused: only {approvers} can approve or deny {what}; you are not one of them."),
                    ));
                }
                Err(e) => {
                    record.decision = AuditDecision::Deny;
                    return private(Reply::new(Outcome::Refused, format!("Refused: {e}")));
                }
            }
        }
        let state = if approve {
            State::Approved {
                by: inbound.user.clone(),
            }
        } else {
            State::Denied {
                by: inbound.user.clone(),
            }
        };
        let expires = expires_in(&*clock, ttl + KEEP_EXPIRED);
        match approval::decide(&*store, id, &read, state, expires).await {
            Ok(true) => {}
            Ok(false) => {
                // Another press won: say what it did.
                let state = match approval::read_request(&*store, id).await {
                    Ok(Some(now)) => now.value.state,
                    _ => State::Pending,
                };
                let mut reply =
                    private(Reply::new(Outcome::Invalid, already_decided(&state, &what)));
                reply.closes_with = decided_note(&state);
                return reply;
            }
            Err(e) => {
                record.reason = Some(format!("state store: {e}"));
                return Reply::new(Outcome::Unavailable, STORE_UNREACHABLE);
            }
        }
        if !approve {
            let who = if withdrawn {
                format!("<@{}> withdrew the request", inbound.user)
            } else {
                format!("<@{}> denied it", inbound.user)
            };
            let mut reply = Reply::new(
                Outcome::Ok,
                format!("❌ {who}: {what} won't run. <@{}>", asked.requester),
            );
            reply.closes_with = Some(format!("❌ {who}."));
            return reply;
        }
        record.approved_by = Some(inbound.user.clone());
        let grant = Grant {
            approval: id.to_owned(),
            approver: inbound.user.clone(),
            command: asked.command.clone(),
            account: asked.account.clone(),
            region: asked.region.clone(),
            granted_at_ms: now,
        };
        let grant_doc =
            approval::grant_doc(&asked.channel, &asked.requester, asked.thread.as_deref());
        let key = ConversationKey {
            channel: asked.channel.clone(),
            user: asked.requester.clone(),
            thread: asked.thread.clone(),
        };
        let asked_id = match approval::put_grant(&*store, &grant_doc, &grant, expires).await {
            Ok(()) => {
                self.conversations
                    .ask(
                        key.clone(),
                        Pending::Confirmation {
                            request: Box::new(request),
                            account: asked.account.clone(),
                            region: asked.region.clone(),
                        },
                        crate::prompt::yes_no(),
                    )
                    .await
            }
            Err(e) => Err(e),
        };
        let asked_id = match asked_id {
            Ok(id) => id,
            Err(e) => {
                record.reason = Some(format!("state store: {e}"));
                return Reply::new(Outcome::Unavailable, STORE_UNREACHABLE);
            }
        };
        // The requester's Yes and No, as buttons only they may press: the question is
        // theirs, though the approver's press (or message) brought it.
        let text = format!(
            "✅ <@{}> approved {what}.\n<@{}>: run it now? Reply `@aws yes` or `@aws no`.",
            inbound.user, asked.requester
        );
        Reply {
            question: Some(Question {
                kind: QuestionKind::Confirmation,
                text: text.clone(),
                choices: crate::prompt::yes_no(),
            }),
            question_id: Some(asked_id),
            question_for: Some(key),
            closes_with: decided_note(&State::Approved {
                by: inbound.user.clone(),
            }),
            ..Reply::new(Outcome::Ok, text)
        }
    }

    /// Whether `user` is among the approvers of `rules` (named, or in an approver group).
    async fn is_approver(
        &self,
        rules: &[&crate::config::ApprovalConfig],
        user: &str,
    ) -> Result<bool, AccessError> {
        if rules.iter().any(|r| r.approvers.iter().any(|u| u == user)) {
            return Ok(true);
        }
        for group in rules.iter().flat_map(|r| r.approver_groups.iter()) {
            match self
                .groups
                .contains(group, user, &**self.conversations.clock())
                .await
            {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(reason) => {
                    return Err(AccessError::GroupLookup {
                        group: group.clone(),
                        reason,
                    })
                }
            }
        }
        Ok(false)
    }
}

/// A reply for the sender alone.
fn private(mut reply: Reply) -> Reply {
    reply.private = true;
    reply
}

/// What a press on a request someone already decided is told.
fn already_decided(state: &State, what: &str) -> String {
    match state {
        State::Approved { by } => format!("<@{by}> already approved {what}, so nothing changed."),
        State::Denied { by } => format!("<@{by}> already denied {what}, so nothing changed."),
        State::Pending => format!("Someone else answered {what}, so nothing changed."),
    }
}

/// The note that replaces a decided request's buttons; `None` while it is pending.
fn decided_note(state: &State) -> Option<String> {
    match state {
        State::Approved { by } => Some(format!("✅ Approved by <@{by}>.")),
        State::Denied { by } => Some(format!("❌ Denied by <@{by}>.")),
        State::Pending => None,
    }
}

enum Command {
    WhoAmI,
    Decide(String, bool),
}

/// Approval requests are kept this long past their expiry, so a late press hears it expired.
const KEEP_EXPIRED: std::time::Duration = std::time::Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::mentions_in;

    #[test]
    fn the_people_named_outside_code_spans_are_mentioned() {
        assert_eq!(
            mentions_in("🔐 <@U0ALICE> asks to run `x <@U0EVE> <!subteam^S0X>` by <@U0BOB> or <!subteam^S0LEADS> (not <@U0ALICE>)"),
            ["S0LEADS", "U0ALICE", "U0BOB"]
        );
        assert!(mentions_in("<@U0A B> <!subteam^> <@>").is_empty());
    }

    use super::super::{Inbound, Outcome, Pipeline};
    use crate::config::{ApprovalConfig, Config};
    use crate::execute::Executor;

    /// A pipeline needing no AWS: an approval request is answered before anything runs.
    fn offline() -> Pipeline {
        let mut config =
            Config::from_toml(include_str!("../../fixtures/config/demo.toml")).unwrap();
        config.channels[0].approvals = vec![ApprovalConfig {
            actions: vec!["lambda:Invoke*".into()],
            approvers: vec!["U0ALICE".into(), "U0BOB".into()],
            approver_groups: vec!["S0LEADS".into()],
        }];
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Pipeline::new(Arc::new(config), Arc::new(Executor::new(&sdk))).unwrap()
    }

    fn from(user: &str, text: &str) -> Inbound {
        Inbound {
            team: "T0DEMO".into(),
            channel: "C0DEMO".into(),
            user: user.into(),
            thread: None,
            text: text.into(),
            direct_message: false,
            account: Some("dev".into()),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// However "approve" is spelled (case, spacing, a leading mention, Slack's escaping),
        /// neither the requester nor someone who isn't an approver gets it approved, and the
        /// request stays open for a real approver. (U0DAVE is in no list; the approver group
        /// can't be read offline, which refuses too.)
        #[test]
        fn no_spelling_lets_the_requester_or_an_outsider_approve(
            flips in proptest::collection::vec(proptest::bool::ANY, 7),
            before in "[ \t]{0,2}",
            between in "[ \t]{1,3}",
            prefix in proptest::sample::select(vec!["", "@aws ", "<@U0BOT> ", "`"]),
            who in proptest::sample::select(vec!["U0ALICE", "U0DAVE"]),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            runtime.block_on(async {
                let p = offline();
                let asked = p
                    .handle(&from("U0ALICE", "@aws lambda invoke --function-name f --payload {}"))
                    .await;
                assert_eq!(asked.outcome, Outcome::Asked, "{}", asked.text);
                let id = asked.actions[0].answer.strip_prefix("approve ").unwrap().to_owned();
                let word: String = "approve"
                    .chars()
                    .zip(&flips)
                    .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
                    .collect();
                let suffix = if prefix == "`" { "`" } else { "" };
                let text = format!("{prefix}{before}{word}{between}{id}{suffix}");
                let reply = p.handle(&from(who, &text)).await;
                assert_ne!(reply.outcome, Outcome::Ok, "{text:?} by {who}: {}", reply.text);
                let bob = p.handle(&from("U0BOB", &format!("approve {id}"))).await;
                assert_eq!(bob.outcome, Outcome::Ok, "{text:?}: {}", bob.text);
            });
        }
    }
}
