//! Envelopes in: slack-morphism's callbacks validate, dedupe and hand each mention or
//! press to its lane, then return, so the ack goes out at once; what no lane has room for is
//! answered "busy". An envelope that arrives while stopping is declined (no ack), and Slack
//! redelivers it to another connection.

use std::sync::Arc;
use std::time::Duration;

use slack_morphism::prelude::*;

use super::api::{self, ApiError, Client};
use super::events::{self, CardPress};
use super::lanes::Busy;
use super::{bot_in, bump, message, Bot, Person};
use crate::pipeline::Inbound;

/// Events: validate, dedupe, queue, return (the ack goes out when this returns).
pub(super) async fn on_push(
    event: SlackPushEventCallback,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(bot) = bot_in(&state).await {
        bot.decline_if_stopping()?;
        bot.on_event(event).await;
    }
    Ok(())
}

/// Button presses and selections: validate, queue, return.
pub(super) async fn on_interaction(
    event: SlackInteractionEvent,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> UserCallbackResult<()> {
    if let Some(bot) = bot_in(&state).await {
        bot.decline_if_stopping()?;
        match event {
            SlackInteractionEvent::BlockActions(actions) => bot.on_press(actions),
            _ => {
                bump(&bot.counters.envelopes);
                bot.arrived(false);
                tracing::debug!("interaction other than block_actions ignored");
            }
        }
    }
    Ok(())
}

/// What `on_push` and `on_interaction` return for an envelope that arrives while stopping.
#[derive(Debug)]
struct Stopping;

impl std::fmt::Display for Stopping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopping: envelope left for another connection")
    }
}

impl std::error::Error for Stopping {}

/// Anything the listener could not handle (an envelope that doesn't parse, a socket error):
/// logged, and answered OK so Slack doesn't redeliver what will never parse better. An
/// envelope declined while stopping is the exception: no ack, so Slack redelivers it.
pub(super) fn on_error(
    error: Box<dyn std::error::Error + Send + Sync + 'static>,
    _client: Arc<Client>,
    state: SlackClientEventsUserState,
) -> HttpStatusCode {
    if error.is::<Stopping>() {
        return ack_after(&*error);
    }
    let text = api::scrub(&error.to_string());
    tracing::warn!(error = %text, "Slack socket error");
    // A socket that failed is being replaced: not ready until the next hello.
    if text.contains("WSS") {
        if let Ok(storage) = state.try_read() {
            if let Some(metrics) = storage
                .get_user_state::<Arc<Bot>>()
                .and_then(|bot| bot.metrics.as_ref())
            {
                metrics.set_ready(false);
            }
        }
    }
    ack_after(&*error)
}

/// The status slack-morphism turns into an ack (a success) or none (anything else) for an
/// envelope whose callback failed with `error`.
fn ack_after(error: &(dyn std::error::Error + 'static)) -> HttpStatusCode {
    if error.is::<Stopping>() {
        HttpStatusCode::SERVICE_UNAVAILABLE
    } else {
        HttpStatusCode::OK
    }
}

impl Bot {
    /// While stopping, an envelope is not taken: counted and left unacknowledged.
    fn decline_if_stopping(&self) -> Result<(), Stopping> {
        if !self.stopping() {
            return Ok(());
        }
        bump(&self.counters.declined);
        tracing::debug!("stopping: an envelope left unacknowledged for another connection");
        Err(Stopping)
    }

    /// Counts an envelope (EventsProcessed), and whether it was for the engine.
    fn arrived(&self, supported: bool) {
        if let Some(metrics) = &self.metrics {
            metrics.event_processed();
            if !supported {
                metrics.unsupported_event();
            }
        }
        if !supported {
            bump(&self.counters.skipped);
        }
    }

    /// Takes `id` of kind `once` for `ttl` in the state store, so one process of several
    /// acts on it; while the store is unreachable, in this process's own memory (`local`):
    /// nothing is dropped for want of the store.
    pub(super) async fn take_once(
        &self,
        once: crate::state::Once,
        id: &str,
        ttl: Duration,
        local: &moka::sync::Cache<String, ()>,
    ) -> bool {
        let conversations = self.pipeline.conversations();
        let expires = crate::state::expires_in(&**conversations.clock(), ttl);
        match conversations.store().take(once, id, expires).await {
            Ok(taken) => {
                if let Some(metrics) = &self.metrics {
                    metrics.set_store_reachable(true);
                }
                taken
            }
            Err(e) => {
                tracing::warn!(error = %e, ?once, "state store unreachable: deduplicated in this process only");
                if let Some(metrics) = &self.metrics {
                    metrics.set_store_reachable(false);
                }
                local.entry(id.to_owned()).or_insert(()).is_fresh()
            }
        }
    }

    /// A mention is handed to its lane with its event id, and taken there: the take and the
    /// store's reads for the message go out together (one round trip), and in the lane, so
    /// they come after the sender's earlier messages here. An event that is no mention is
    /// skipped without a take (skipping twice does nothing).
    async fn on_event(self: &Arc<Self>, event: SlackPushEventCallback) {
        bump(&self.counters.envelopes);
        let mention = match events::mention(&event.event, &self.identity.user_id) {
            Ok(mention) => mention,
            Err(skip) => {
                self.arrived(false);
                tracing::debug!(event_id = %event.event_id.0, ?skip, "event skipped");
                return;
            }
        };
        self.arrived(true);
        let bot = self.clone();
        let team = event.team_id.0.clone();
        let event_id = event.event_id.0.clone();
        let (channel, user, thread) = (
            mention.channel.clone(),
            mention.user.clone(),
            mention.thread.clone(),
        );
        let submitted = self
            .lanes
            .submit((channel.clone(), user.clone()), async move {
                if bot.handle_mention(team, mention, &event_id).await {
                    bump(&bot.counters.handled);
                }
            });
        if let Err(busy) = submitted {
            self.busy(busy, channel, user, thread);
        }
    }

    /// A message or press the lanes had no room for: counted, logged, and the first of a
    /// flood answered (outside the lanes, which are full) so the person knows to wait.
    fn busy(self: &Arc<Self>, busy: Busy, channel: String, user: String, thread: Option<String>) {
        bump(&self.counters.throttled);
        if let Some(metrics) = &self.metrics {
            metrics.event_throttled();
        }
        let (first, text) = match busy {
            Busy::Lane { first } => (
                first,
                format!(
                    "You have {} commands waiting or running here already, so I didn't run this one. \
                     Please wait for your earlier commands to finish, then send it again.",
                    self.lanes.per_lane()
                ),
            ),
            Busy::Everyone { first } => (
                first,
                "I'm busy with too many commands right now, so I didn't run this one. \
                 Please wait a minute, then send it again."
                    .to_owned(),
            ),
        };
        if !first {
            // The rest of a flood: counted, not logged one by one.
            tracing::debug!(%channel, %user, ?busy, "lanes full: message not run");
            return;
        }
        tracing::warn!(%channel, %user, ?busy, "lanes full: message not run, the sender is told to wait");
        let bot = self.clone();
        tokio::spawn(async move {
            let notice = message::notice(&text);
            let sent = bot
                .api
                .post_message(&channel, thread.as_deref(), &notice)
                .await;
            bot.delivered(&channel, thread.as_deref(), sent.map(|_| ()));
        });
    }

    fn on_press(self: &Arc<Self>, event: SlackInteractionBlockActionsEvent) {
        bump(&self.counters.envelopes);
        let press = match events::press(&event) {
            Ok(press) => press,
            Err(skip) => match events::card_press(&event) {
                Ok(card) => return self.on_card_press(card),
                Err(_) => {
                    self.arrived(false);
                    tracing::debug!(?skip, "block action skipped");
                    return;
                }
            },
        };
        self.arrived(true);
        let bot = self.clone();
        let (channel, user, thread) = (
            press.channel.clone(),
            press.user.clone(),
            press.thread.clone(),
        );
        if press.follow {
            // Details and Next: anyone in the channel may press, as often as they like.
            let submitted =
                self.lanes
                    .submit((press.channel.clone(), press.user.clone()), async move {
                        bot.handle_follow(press).await;
                        bump(&bot.counters.handled);
                    });
            if let Err(busy) = submitted {
                self.busy(busy, channel, user, thread);
            }
            return;
        }
        if press.user != press.requester {
            let submitted =
                self.lanes
                    .submit((press.channel.clone(), press.user.clone()), async move {
                        let text = format!("Only <@{}> can answer this.", press.requester);
                        bot.tell_presser(&press, &text).await;
                        bump(&bot.counters.handled);
                    });
            if let Err(busy) = submitted {
                self.busy(busy, channel, user, thread);
            }
            return;
        }
        let message_ts = press.message_ts.clone();
        if !self
            .answered
            .entry((press.channel.clone(), press.message_ts.clone()))
            .or_insert(())
            .is_fresh()
        {
            bump(&self.counters.duplicates);
            tracing::info!(channel = %press.channel, "question already answered: press ignored");
            return;
        }
        let submitted =
            self.lanes
                .submit((press.channel.clone(), press.user.clone()), async move {
                    bot.handle_press(press).await;
                    bump(&bot.counters.handled);
                });
        if let Err(busy) = submitted {
            // The press is lost: let it be pressed again.
            self.answered.invalidate(&(channel.clone(), message_ts));
            self.busy(busy, channel, user, thread);
        }
    }

    /// A card's button (Show logs): anyone in the channel may press it, as often as they
    /// like; each press runs its message as the presser, in the card's thread, in their lane.
    fn on_card_press(self: &Arc<Self>, press: CardPress) {
        self.arrived(true);
        let bot = self.clone();
        let (channel, user, thread) = (
            press.channel.clone(),
            press.user.clone(),
            Some(press.thread.clone()),
        );
        let submitted = self
            .lanes
            .submit((channel.clone(), user.clone()), async move {
                tracing::info!(channel = %press.channel, user = %press.user, button = %press.label, "card button pressed");
                let inbound = Inbound {
                    team: press.team,
                    channel: press.channel,
                    user: press.user,
                    thread: Some(press.thread),
                    text: press.message,
                    direct_message: false,
                    account: Some(press.account),
                };
                let _ = crate::transport::exchange(&bot.pipeline, &*bot, &inbound).await;
                bump(&bot.counters.handled);
            });
        if let Err(busy) = submitted {
            self.busy(busy, channel, user, thread);
        }
    }

    /// Who wrote a message, from `users.info` (cached for an hour).
    pub(super) async fn person(
        &self,
        user: &str,
        envelope_team: &str,
    ) -> Result<Person, Arc<ApiError>> {
        self.people
            .try_get_with(user.to_owned(), async {
                let info = self.api.user_info(user).await?;
                Ok::<_, ApiError>(Person {
                    team: info
                        .team_id
                        .map(|t| t.0)
                        .unwrap_or_else(|| envelope_team.to_owned()),
                    is_bot: info.flags.is_bot.unwrap_or(false),
                })
            })
            .await
    }

    /// Takes the mention's event id and handles it; false when it was a redelivery another
    /// delivery (here or in another process) took.
    pub(super) async fn take_event(&self, event_id: &str) -> bool {
        let taken = self
            .take_once(
                crate::state::Once::Event,
                event_id,
                Duration::from_secs(3600),
                &self.seen_events,
            )
            .await;
        if !taken {
            bump(&self.counters.duplicates);
            tracing::info!(%event_id, "redelivered event ignored: it was already taken");
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_declined_while_stopping_gets_no_ack_and_any_other_failure_does() {
        assert!(!ack_after(&Stopping).is_success());
        let unparsable = serde_json::from_str::<u8>("x").unwrap_err();
        assert!(ack_after(&unparsable).is_success());
    }
}
