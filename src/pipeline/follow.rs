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
use crate::followups::{Found, Listing};
use crate::parse::Request;
use crate::prompt::Choice;
use crate::render::view::{self, Body, PAGE_ROWS};

use super::plan::Step;
use super::{Inbound, Outcome, Pipeline, Reply, TableReply};

/// A follow-up asked for.
#[derive(Debug)]
pub(crate) enum Follow {
    /// The next page, from the kept response.
    Page { id: u64, listing: Box<Listing> },
    /// The full rendering of the rows a reply showed (from `start`), or of the latest.
    Details {
        listing: Box<Listing>,
        start: Option<usize>,
    },
}

/// What a message asks of a follow-up: `next [id]`, `details [id [start]]` (a button names
/// the rows its reply showed, since later pages move the listing on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Next(Option<u64>),
    Details(Option<u64>, Option<usize>),
}

fn parse_ask(text: &str) -> Option<Ask> {
    let mut words = text.split_whitespace();
    let first = words.next()?.to_ascii_lowercase();
    let mut number = || -> Result<Option<u64>, ()> {
        match words.next() {
            None => Ok(None),
            Some(w) => w.parse().map(Some).map_err(|_| ()),
        }
    };
    let id = number().ok()?;
    let start = number().ok()?;
    if words.next().is_some() {
        return None;
    }
    match first.as_str() {
        "next" | "more" if start.is_none() => Some(Ask::Next(id)),
        "details" => Some(Ask::Details(id, start.map(|s| s as usize))),
        _ => None,
    }
}

/// The buttons under a reply of listing `id`; `from_aws` is how many items a page fetched
/// from AWS past the kept response holds (`--max-items`, or a page).
pub(crate) fn actions(id: u64, body: &Body, from_aws: usize) -> Vec<Choice> {
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
            answer: format!("next {id}"),
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
    pub(crate) fn present(
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
        self.page(listing, None, 0, account, notes)
    }

    /// A reply showing `listing` from row `start`; `id` when it is kept already.
    fn page(
        &self,
        mut listing: Listing,
        id: Option<u64>,
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
        let id = match id {
            Some(id) => {
                self.followups.shown(id, body.shown.clone());
                Some(id)
            }
            None if body.details || body.more => {
                listing.shown = body.shown.clone();
                Some(self.followups.put(listing))
            }
            None => None,
        };
        let actions = id
            .map(|id| actions(id, &body, from_aws))
            .unwrap_or_default();
        body_reply(&header, &body, notes, actions)
    }

    /// What a message asks of the reply it follows, if it does: `next`, `details` (with the
    /// listing's id when a button sent it), or a number typed in the shell when no question
    /// is open. `None` when the message is something else.
    pub(crate) fn plan_follow_up(
        &self,
        inbound: &Inbound,
        channel: &ChannelConfig,
        text: &str,
        question_open: bool,
    ) -> Option<Step> {
        let ask = match parse_ask(text) {
            Some(ask) => ask,
            None if !question_open => {
                let n: usize = text.trim().parse().ok()?;
                let Found::Open(id, listing) = self
                    .followups
                    .latest(&inbound.channel, inbound.thread.as_deref())
                else {
                    return None;
                };
                let body = self.body_of(&listing, listing.shown.start);
                let chosen = actions(id, &body, page_from_aws(&listing.request))
                    .into_iter()
                    .nth(n.checked_sub(1)?)?;
                parse_ask(&chosen.answer)?
            }
            None => return None,
        };
        let id = match ask {
            Ask::Next(id) | Ask::Details(id, _) => id,
        };
        let found = match id {
            Some(id) => self.followups.get(id, &inbound.channel),
            None => self
                .followups
                .latest(&inbound.channel, inbound.thread.as_deref()),
        };
        let (id, listing) = match found {
            Found::Open(id, listing) => (id, listing),
            Found::Expired { minutes } => {
                return Some(Step::Invalid(format!(
                    "That result expired after {minutes} min, so nothing more can be shown. Send the command again."
                )))
            }
            Found::None => {
                return Some(Step::Invalid(
                    "There's no list here to continue. Send the command first.".into(),
                ))
            }
        };
        let Some(account) = channel.account(&listing.account).cloned() else {
            return Some(Step::Invalid(
                "That account is no longer configured here.".into(),
            ));
        };
        Some(match ask {
            Ask::Details(_, start) => Step::Follow(Follow::Details {
                listing: Box::new(listing),
                start,
            }),
            Ask::Next(_) => {
                let body = self.body_of(&listing, listing.shown.start);
                if body.shown.end < body.total {
                    Step::Follow(Follow::Page {
                        id,
                        listing: Box::new(listing),
                    })
                } else if let Some(token) = listing.next_token.clone() {
                    // Past what AWS returned: the same request from where AWS stopped, in the
                    // same account and region, decided by the guard again.
                    let mut request = listing.request.clone();
                    request.paging.starting_token = Some(token);
                    self.plan_in(channel, request, account, listing.region.clone())
                } else {
                    Step::Help("That was the last page.".into())
                }
            }
        })
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
    pub(crate) fn follow(&self, inbound: &Inbound, follow: Follow) -> Reply {
        let Some(channel) = self.channel_of(inbound) else {
            return Reply::new(Outcome::Invalid, "This channel isn't set up.");
        };
        match follow {
            Follow::Page { id, listing } => {
                let Some(account) = channel.account(&listing.account).cloned() else {
                    return Reply::new(
                        Outcome::Invalid,
                        "That account is no longer configured here.",
                    );
                };
                let start = listing.shown.end;
                self.page(*listing, Some(id), start, &account, &[])
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
        assert_eq!(parse_ask("next"), Some(Ask::Next(None)));
        assert_eq!(parse_ask("Next 12"), Some(Ask::Next(Some(12))));
        assert_eq!(parse_ask("details 3"), Some(Ask::Details(Some(3), None)));
        assert_eq!(
            parse_ask("details 3 20"),
            Some(Ask::Details(Some(3), Some(20)))
        );
        assert_eq!(parse_ask("next 3 20"), None);
        assert_eq!(parse_ask("next page please"), None);
        assert_eq!(parse_ask("next x"), None);
        assert_eq!(parse_ask("lambda list-functions"), None);
    }
}
