//! Replies read at a glance, and what follows them: a command's chat reply as its view's
//! compact table (or its lines less the empty members), one page of a long list, and the
//! **Details** and **Next** that continue it (buttons anyone in the channel may press,
//! `@aws next` / `@aws details`, or a number in the shell).
//!
//! Planning a follow-up is pure like any plan: a page still in the kept response is shown
//! from it; past it, the same request runs again from AWS's `--starting-token`, in the same
//! account and region, and the guard decides again.

use std::sync::Arc;

use serde_json::Value;

use crate::config::{AccountConfig, ChannelConfig};
use crate::followups::{is_id, Found, Kept, Listing};
use crate::parse::Request;
use crate::prompt::Choice;
use crate::render::view::{self, Body, PAGE_ROWS};

use super::plan::{Effect, Plan, Step};
use super::{Inbound, Known, Outcome, Pipeline, Reply, TableReply};

/// What the loser of two presses of one Next hears (if anything: Slack says nothing).
pub const PAGE_ALREADY_SHOWN: &str = "That page was already shown, so it isn't shown again.";

/// A follow-up asked for.
#[derive(Debug)]
pub(crate) enum Follow {
    /// The next page, from the kept response, as read (showing it writes over that version).
    Page { kept: Box<Kept> },
    /// The full rendering of the rows a reply showed (from `start`), or of the latest.
    Details {
        listing: Box<Listing>,
        start: Option<usize>,
    },
}

/// What a message asks of a follow-up: `next [id [from]]`, `details [id [start]]`. A button
/// names the rows its reply showed (Details) or where its next page starts (Next), since
/// later pages move the listing on: a Next button shows its page once, however often or
/// through however many processes it is pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ask {
    Next(Option<String>, Option<usize>),
    Details(Option<String>, Option<usize>),
}

fn parse_ask(text: &str) -> Option<Ask> {
    let mut words = text.split_whitespace();
    let first = words.next()?.to_ascii_lowercase();
    let id = match words.next() {
        None => None,
        Some(w) if is_id(w) => Some(w.to_ascii_lowercase()),
        Some(_) => return None,
    };
    let start = match words.next() {
        None => None,
        Some(w) => Some(w.parse::<usize>().ok()?),
    };
    if words.next().is_some() {
        return None;
    }
    match first.as_str() {
        "next" | "more" if id.is_some() || start.is_none() => Some(Ask::Next(id, start)),
        "details" if id.is_some() || start.is_none() => Some(Ask::Details(id, start)),
        _ => None,
    }
}

/// Which kept listing a message (normalized) may continue, to read with it: the one its
/// button names, or the latest of the channel and thread (`next`, or a number typed in the
/// shell, which continues it only when no question is open).
pub(crate) enum Wanted {
    Id(String),
    Latest,
}

/// Whether the message says `next` or `details` (not a number).
pub(crate) fn wanted_by_word(text: &str) -> bool {
    parse_ask(text).is_some()
}

pub(crate) fn wanted(text: &str) -> Option<Wanted> {
    match parse_ask(text) {
        Some(Ask::Next(Some(id), _) | Ask::Details(Some(id), _)) => Some(Wanted::Id(id)),
        Some(_) => Some(Wanted::Latest),
        None => text.trim().parse::<usize>().ok().map(|_| Wanted::Latest),
    }
}

/// The buttons under a reply of listing `id`; `from_aws` is how many items a page fetched
/// from AWS past the kept response holds (`--max-items`, or a page).
pub(crate) fn actions(id: &str, body: &Body, from_aws: usize) -> Vec<Choice> {
    let mut actions = Vec::new();
    if body.details {
        actions.push(Choice {
            label: "Details".into(),
            answer: format!("details {id} {}", body.shown.start),
        });
    }
    if body.more {
        let n = match body.next_rows {
            0 => from_aws,
            n => n,
        };
        actions.push(Choice {
            label: format!("Next {n}"),
            answer: format!("next {id} {}", body.shown.end),
        });
    }
    actions
}

/// How many items the next call to AWS brings: `--max-items` as typed, at most a page.
fn page_from_aws(request: &Request) -> usize {
    request
        .paging
        .max_items
        .map_or(PAGE_ROWS, |n| (n as usize).min(PAGE_ROWS))
}

/// A reply made of a header, a body and notes.
pub(crate) fn body_reply(
    header: &str,
    body: &Body,
    notes: &[String],
    actions: Vec<Choice>,
) -> Reply {
    let mut before = header.to_owned();
    if let Some(summary) = &body.summary {
        before.push('\n');
        before.push_str(summary);
    }
    let after: Vec<String> = notes.iter().map(|n| format!("_{n}_")).collect();
    let after = after.join("\n");
    let main = match &body.grid {
        Some(grid) => format!("```\n{}\n```", grid.monospace()),
        None => body.lines.clone(),
    };
    let mut text = format!("{before}\n{main}");
    if !after.is_empty() {
        text.push('\n');
        text.push_str(&after);
    }
    Reply {
        actions,
        table: body.grid.clone().map(|grid| TableReply {
            before,
            grid,
            after,
        }),
        ..Reply::new(Outcome::Ok, text)
    }
}

/// `lambda list-functions · dev (111111111111) · us-east-1`
pub(crate) fn header(request: &Request, account: &AccountConfig, region: &str) -> String {
    format!(
        "{} {} · {} · {}",
        request.service.service, request.operation.name, account, region
    )
}

impl Pipeline {
    /// The chat reply of a command that ran: its view or its lines, the first page of a long
    /// list, and the buttons that continue it.
    pub(crate) async fn present(
        &self,
        inbound: &Inbound,
        request: &Request,
        account: &AccountConfig,
        region: &str,
        mut value: Value,
        notes: &[String],
    ) -> Reply {
        let paginated = request.operation.paginator.is_some() && request.paging.paginate;
        let next_token = match (&mut value, paginated) {
            (Value::Object(map), true) => match map.remove("NextToken") {
                Some(Value::String(token)) => Some(token),
                _ => None,
            },
            _ => None,
        };
        let listing = Listing {
            channel: inbound.channel.clone(),
            thread: inbound.thread.clone(),
            request: Box::new(request.clone()),
            account: account.id.clone(),
            region: region.to_owned(),
            value: Arc::new(value),
            shown: 0..0,
            next_token,
        };
        self.page(listing, None, 0, account, notes).await
    }

    /// A reply showing `listing` from row `start`; `kept` when it is kept already (then the
    /// page shows only if nobody showed it since `kept` was read).
    async fn page(
        &self,
        mut listing: Listing,
        kept: Option<&Kept>,
        start: usize,
        account: &AccountConfig,
        notes: &[String],
    ) -> Reply {
        let request = &listing.request;
        let (service, op) = (request.service, request.operation);
        let mut shown_value = (*listing.value).clone();
        view::readable_times(service, op, &mut shown_value, self.clock.wall());
        let body = view::body(
            service,
            op,
            &shown_value,
            start,
            listing.next_token.is_some(),
        );
        let header = header(request, account, &listing.region);
        let from_aws = page_from_aws(request);
        let mut notes = notes.to_vec();
        let id = match kept {
            Some(kept) => match self.followups.shown(kept, body.shown.clone()).await {
                Ok(true) => Some(kept.id.clone()),
                // Another press (here or in another process) showed this page first.
                Ok(false) => return Reply::new(Outcome::AlreadyAnswered, PAGE_ALREADY_SHOWN),
                Err(e) => {
                    tracing::warn!(error = %e, "next page not shown: the state store did not keep its place");
                    return Reply::new(Outcome::Unavailable, super::STORE_UNREACHABLE);
                }
            },
            None if body.details || body.more => {
                listing.shown = body.shown.clone();
                match self.followups.put(&listing).await {
                    Ok(id) => Some(id),
                    Err(crate::state::StateError::TooLarge { .. }) => {
                        notes.push("The whole result is too large to keep, so it has no Details or Next: narrow the command (--max-items, --query).".into());
                        None
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "listing not kept: its reply has no Details or Next");
                        None
                    }
                }
            }
            None => None,
        };
        let actions = id
            .map(|id| actions(&id, &body, from_aws))
            .unwrap_or_default();
        body_reply(&header, &body, &notes, actions)
    }

    /// What a message asks of the reply it follows, if it does: `next`, `details` (with the
    /// listing's id when a button sent it), or a number typed in the shell when no question
    /// is open; the listing is what `known` read for it. `None` when the message is
    /// something else. A follow-up keeps any open question open.
    pub(crate) fn plan_follow_up(
        &self,
        channel: &ChannelConfig,
        text: &str,
        question_open: bool,
        known: &Known,
    ) -> Option<Plan> {
        let plan = |step| Some(Plan::new(step, Effect::Keep));
        let ask = match parse_ask(text) {
            Some(ask) => ask,
            None if !question_open && known.unreachable.is_none() => {
                let n: usize = text.trim().parse().ok()?;
                let Found::Open(kept) = &known.follow else {
                    return None;
                };
                let body = self.body_of(&kept.listing, kept.listing.shown.start);
                let chosen = actions(&kept.id, &body, page_from_aws(&kept.listing.request))
                    .into_iter()
                    .nth(n.checked_sub(1)?)?;
                parse_ask(&chosen.answer)?
            }
            None => return None,
        };
        if known.unreachable.is_some() {
            return plan(Step::Unavailable);
        }
        let named = match &ask {
            Ask::Next(id, _) | Ask::Details(id, _) => id.as_deref(),
        };
        let kept = match &known.follow {
            Found::Open(kept) if named.is_none_or(|id| id == kept.id) => kept,
            Found::Expired { minutes } => {
                return plan(Step::Invalid(format!(
                    "That result expired after {minutes} min, so nothing more can be shown. Send the command again."
                )))
            }
            _ => {
                return plan(Step::Invalid(
                    "There's no list here to continue. Send the command first.".into(),
                ))
            }
        };
        let listing = &kept.listing;
        let Some(account) = channel.account(&listing.account).cloned() else {
            return plan(Step::Invalid(
                "That account is no longer configured here.".into(),
            ));
        };
        match ask {
            Ask::Details(_, start) => plan(Step::Follow(Follow::Details {
                listing: Box::new(listing.clone()),
                start,
            })),
            // This button's page was shown already (pressed before, here or through another
            // process): nothing is shown again.
            Ask::Next(_, Some(from)) if from != listing.shown.end || kept.continued => {
                plan(Step::AlreadyShown)
            }
            Ask::Next(..) => {
                let body = self.body_of(listing, listing.shown.start);
                if body.shown.end < body.total {
                    plan(Step::Follow(Follow::Page { kept: kept.clone() }))
                } else if let Some(token) = listing.next_token.clone() {
                    // Past what AWS returned: the same request from where AWS stopped, in the
                    // same account and region, decided by the guard again. Running it claims
                    // the listing first, so two presses racing run it once.
                    let mut request = listing.request.clone();
                    request.paging.starting_token = Some(token);
                    let step = self.plan_in(channel, request, account, listing.region.clone());
                    let claims = matches!(step, Step::Run { .. }).then(|| kept.clone());
                    Some(Plan {
                        claims,
                        ..Plan::new(step, Effect::Keep)
                    })
                } else {
                    plan(Step::Help("That was the last page.".into()))
                }
            }
        }
    }

    fn body_of(&self, listing: &Listing, start: usize) -> Body {
        view::body(
            listing.request.service,
            listing.request.operation,
            &listing.value,
            start,
            listing.next_token.is_some(),
        )
    }

    /// Carries out a planned follow-up.
    pub(crate) async fn follow(&self, inbound: &Inbound, follow: Follow) -> Reply {
        let Some(channel) = self.channel_of(inbound) else {
            return Reply::new(Outcome::Invalid, "This channel isn't set up.");
        };
        match follow {
            Follow::Page { kept } => {
                let Some(account) = channel.account(&kept.listing.account).cloned() else {
                    return Reply::new(
                        Outcome::Invalid,
                        "That account is no longer configured here.",
                    );
                };
                let start = kept.listing.shown.end;
                self.page(kept.listing.clone(), Some(&kept), start, &account, &[])
                    .await
            }
            Follow::Details { listing, start } => {
                let request = &listing.request;
                let (service, op) = (request.service, request.operation);
                let mut value = (*listing.value).clone();
                view::readable_times(service, op, &mut value, self.clock.wall());
                let member = view::paged_member(service, op, &value);
                let header = match channel.account(&listing.account) {
                    Some(account) => header(request, account, &listing.region),
                    None => format!("{} {}", service.service, op.name),
                };
                let shown = match start {
                    Some(start) => start..start.saturating_add(PAGE_ROWS),
                    None => listing.shown.clone(),
                };
                let text = view::full(&value, member.as_deref(), shown);
                Reply::new(Outcome::Ok, format!("{header}\n{text}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_up_words() {
        let id = "00ff00ff00ff00ff";
        assert_eq!(parse_ask("next"), Some(Ask::Next(None, None)));
        assert_eq!(
            parse_ask(&format!("Next {id}")),
            Some(Ask::Next(Some(id.into()), None))
        );
        assert_eq!(
            parse_ask(&format!("next {id} 20")),
            Some(Ask::Next(Some(id.into()), Some(20)))
        );
        assert_eq!(
            parse_ask(&format!("details {id}")),
            Some(Ask::Details(Some(id.into()), None))
        );
        assert_eq!(
            parse_ask(&format!("details {id} 20")),
            Some(Ask::Details(Some(id.into()), Some(20)))
        );
        assert_eq!(parse_ask("next 12"), None);
        assert_eq!(parse_ask("details 3 20"), None);
        assert_eq!(parse_ask("next page please"), None);
        assert_eq!(parse_ask("next x"), None);
        assert_eq!(parse_ask("lambda list-functions"), None);
    }
}
