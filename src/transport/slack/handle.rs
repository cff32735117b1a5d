//! Running what arrived: a mention, a press on a question's button or a Details/Next press
//! goes through the pipeline once (the Slack event id taken in the state store), and a slow
//! command shows a progress line that becomes its answer.

use std::future::Future;
use std::sync::Arc;

use super::events::{Mention, Press};
use super::message::{self, Outgoing};
use super::{bump, Bot, PROGRESS_EVERY};
use crate::pipeline::{Inbound, Reply};
use crate::prompt::ConversationKey;

impl Bot {
    pub(super) async fn handle_mention(
        self: &Arc<Self>,
        envelope_team: String,
        m: Mention,
        event_id: &str,
    ) -> bool {
        let person = match self.person(&m.user, &envelope_team).await {
            Ok(person) => person,
            Err(e) => {
                // Fail closed: without the user's team the guard can't tell an outsider.
                tracing::warn!(user = %m.user, error = %e, "could not look the user up: nothing runs");
                if !self.take_event(event_id).await {
                    return false;
                }
                let notice = message::notice(
                    "I couldn't check who you are with Slack just now, so nothing ran. Please try again.",
                );
                let sent = self
                    .api
                    .post_message(&m.channel, m.thread.as_deref(), &notice)
                    .await;
                self.delivered(&m.channel, m.thread.as_deref(), sent.map(|_| ()));
                return true;
            }
        };
        if person.is_bot {
            bump(&self.counters.skipped);
            tracing::debug!(user = %m.user, "mention by a bot ignored");
            return true;
        }
        if !m.direct_message
            && person.team == self.config.slack.team_id
            && self.config.channel(&m.channel).is_none()
            && !self
                .take_once(
                    crate::state::Once::UnconfiguredNotice,
                    &m.channel,
                    self.unconfigured_notice_every,
                    &self.told_unconfigured,
                )
                .await
        {
            tracing::info!(channel = %m.channel, "message in a channel that isn't set up: it was told so recently");
            return true;
        }
        let inbound = Inbound {
            team: person.team,
            channel: m.channel.clone(),
            user: m.user.clone(),
            thread: m.thread.clone(),
            text: m.text,
            direct_message: m.direct_message,
            account: None,
        };
        let key = ConversationKey {
            channel: m.channel,
            user: m.user,
            thread: m.thread,
        };
        let Some(reply) = self.exchange_once(&inbound, Some(event_id)).await else {
            return false;
        };
        if let Some(previous) = reply.previous_question.clone() {
            self.retire(&key, previous, &reply).await;
        }
        true
    }

    pub(super) async fn handle_press(self: &Arc<Self>, press: Press) {
        let key = ConversationKey {
            channel: press.channel.clone(),
            user: press.requester.clone(),
            thread: press.thread.clone(),
        };
        let open = match self.pipeline.conversations().question_message(&key).await {
            // The process that asked records the message once Slack has it: one that died in
            // between leaves none, and the press answers the open question all the same.
            Ok(open) => open.and_then(|(_, m)| match m {
                Some(m) if m.ts == press.message_ts => Some(m),
                Some(_) => None,
                None => Some(crate::state::QuestionMessage {
                    ts: press.message_ts.clone(),
                    text: press.question_text.clone().unwrap_or_default(),
                }),
            }),
            Err(e) => {
                // Nothing ran, and the person hears why; the press may be tried again.
                tracing::warn!(error = %e, "press not handled: the state store is unreachable");
                self.answered
                    .invalidate(&(press.channel.clone(), press.message_ts.clone()));
                self.tell_presser(&press, crate::pipeline::STORE_UNREACHABLE)
                    .await;
                return;
            }
        };
        let Some(open) = open else {
            // Answered by a message, replaced by a newer question, or expired.
            let text = press.question_text.clone().unwrap_or_default();
            let closed = message::closed_question(
                &text,
                "_This question is no longer open, so nothing ran. Send the command again._",
            );
            let sent = self
                .api
                .update(&press.channel, &press.message_ts, &closed)
                .await;
            self.delivered(&press.channel, press.thread.as_deref(), sent);
            return;
        };
        let inbound = sent_by(&press);
        // The pipeline takes the question by its id: of two presses racing (here or in
        // another process) one runs it, and the other presser alone hears so.
        let reply = self.pipeline.handle(&inbound).await;
        // A press read its question open, then found none when planned: another press (here
        // or in another process) answered it in between. That is the same loss as a failed take.
        let lost = reply.outcome == crate::pipeline::Outcome::NothingOpen;
        if reply.outcome == crate::pipeline::Outcome::AlreadyAnswered || lost {
            bump(&self.counters.duplicates);
            let text = if lost {
                crate::pipeline::ALREADY_ANSWERED
            } else {
                &reply.text
            };
            self.tell_presser(&press, text).await;
            return;
        }
        let closed = message::closed_question(
            &open.text,
            &message::decision_note(&press.user, &press.label),
        );
        let sent = self
            .api
            .update(&press.channel, &press.message_ts, &closed)
            .await;
        self.delivered(&press.channel, press.thread.as_deref(), sent);
        let _ = crate::transport::Transport::deliver(&**self, &inbound, &reply).await;
    }

    /// One message through the pipeline and its reply delivered, as [`crate::transport::exchange`]; a
    /// command still running after [`super::SlackOptions::progress_after`] shows at once that it was
    /// heard, and that message becomes the answer, so nobody types it again.
    async fn exchange(&self, inbound: &Inbound) -> Reply {
        match self.exchange_once(inbound, None).await {
            Some(reply) => reply,
            None => unreachable!("a message with no event id to take is handled"),
        }
    }

    /// [`Bot::exchange`] for a message that is handled once per Slack event id: the id is
    /// taken while the pipeline reads the store for it (see [`Pipeline::handle_once`]);
    /// `None` when a redelivery lost the take, and nothing was said.
    async fn exchange_once(&self, inbound: &Inbound, event_id: Option<&str>) -> Option<Reply> {
        // What the work reports: that it calls AWS (and what, where), then how far it got
        // (pages, records scanned), which turns the progress line into "… page 3, 60 items
        // so far".
        let (reporter, mut reports) = crate::progress::Reporter::latest();
        let take = async {
            match event_id {
                Some(id) => self.take_event(id).await,
                None => true,
            }
        };
        let handling =
            crate::progress::reporting(reporter, self.pipeline.handle_once(inbound, take));
        tokio::pin!(handling);
        // A command still running after `progress_after` that calls AWS gets a progress line;
        // anything else (help, questions, refusals) answers without one, however long the
        // state store takes. The timer below is that deadline, raced against the work: nothing
        // waits on it for something to happen, and the reply goes out the moment it is ready.
        let slow = tokio::time::sleep(self.progress_after); // deadline: slow from here (raced, never awaited alone)
        tokio::pin!(slow);
        let (mut late, mut listening) = (false, true);
        let progress = loop {
            if late {
                if let Some(line) = reports.borrow_and_update().running.clone() {
                    break line;
                }
            }
            tokio::select! {
                biased;
                reply = &mut handling => {
                    let reply = reply?;
                    let _ = crate::transport::Transport::deliver(self, inbound, &reply).await;
                    return Some(reply);
                }
                () = &mut slow, if !late => late = true,
                changed = reports.changed(), if late && listening => listening = changed.is_ok(),
            }
        };
        if reports.borrow().how_far.is_some() {
            // Reported already (while the line was not up yet): shown as soon as it is.
            reports.mark_changed();
        }
        let thread = inbound.thread.as_deref();
        let progress = format!("⏳ {progress}");
        let line = message::notice(&progress);
        let posted = self.api.post_message(&inbound.channel, thread, &line).await;
        let Ok(ts) = posted else {
            let reply = handling.await?;
            let _ = crate::transport::Transport::deliver(self, inbound, &reply).await;
            return Some(reply);
        };
        let Some(reply) = self
            .follow_progress(&inbound.channel, &ts, &progress, handling, &mut reports)
            .await
        else {
            // A redelivery that lost the take calls no AWS, so it posts no line; were one
            // posted, it says what became of it rather than wait forever.
            let done = message::notice("This message was already handled.");
            let _ = self.api.update(&inbound.channel, &ts, &done).await;
            return None;
        };
        let key = ConversationKey {
            channel: inbound.channel.clone(),
            user: inbound.user.clone(),
            thread: inbound.thread.clone(),
        };
        match message::reply_message(&reply, &inbound.user, thread) {
            Outgoing::Message(body) if reply.question.is_none() => {
                match self.api.update(&inbound.channel, &ts, &body).await {
                    Ok(()) => {
                        self.delivered(&inbound.channel, thread, Ok(()));
                        // The progress line became the text; its pictures follow it.
                        self.upload_pictures(&inbound.channel, thread, &reply).await;
                    }
                    // Too big for an update as Slack measures it: the answer is posted.
                    Err(e) => {
                        tracing::warn!(channel = %inbound.channel, error = %e, "could not turn the progress line into the answer: posting it");
                        self.post_reply(&key, &reply).await;
                    }
                }
            }
            // A question or a file is posted as usual; the progress line says where.
            _ => {
                let done = message::notice("⏳ Done: the answer follows.");
                let _ = self.api.update(&inbound.channel, &ts, &done).await;
                self.post_reply(&key, &reply).await;
            }
        }
        Some(reply)
    }

    /// Waits for the work while its progress line (`ts`, saying `line`) follows what it
    /// reports: "⏳ Running `logs start-query` in dev · us-east-1… scanned 12,000 records,
    /// 34 matched". The first report shows at once, later ones at most every
    /// [`PROGRESS_EVERY`] (chat.update is rate limited); only the latest counts.
    async fn follow_progress<T, F: Future<Output = T>>(
        &self,
        channel: &str,
        ts: &str,
        line: &str,
        mut handling: std::pin::Pin<&mut F>,
        reports: &mut tokio::sync::watch::Receiver<crate::progress::Progress>,
    ) -> T {
        let mut next_update = tokio::time::Instant::now();
        let mut pending = false;
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                reply = handling.as_mut() => return reply,
                changed = reports.changed(), if open && !pending => match changed {
                    Ok(()) => pending = true,
                    Err(_) => open = false,
                },
                () = tokio::time::sleep_until(next_update), if pending => { // rate limit: earliest next chat.update
                    pending = false;
                    let how_far = reports.borrow_and_update().how_far.clone();
                    if let Some(how_far) = how_far {
                        let text = message::notice(&format!("{line} {how_far}"));
                        if let Err(e) = self.api.update(channel, ts, &text).await {
                            tracing::debug!(channel, error = %e, "progress not shown");
                        }
                    }
                    next_update = tokio::time::Instant::now() + PROGRESS_EVERY;
                }
            }
        }
    }

    /// A press on Details or Next: the message it carries, sent by whoever pressed.
    pub(super) async fn handle_follow(self: &Arc<Self>, press: Press) {
        let inbound = sent_by(&press);
        let reply = self.exchange(&inbound).await;
        // An approval request decided (or found decided, or expired): its buttons go, and
        // the message says what became of it (delivering the reply did, if the store knew
        // the message).
        let closed_already = reply
            .closes
            .as_ref()
            .is_some_and(|m| m.ts == press.message_ts);
        if let (Some(note), Some(text), false) =
            (&reply.closes_with, &press.question_text, closed_already)
        {
            let closed = message::closed_question(text, note);
            let sent = self
                .api
                .update(&press.channel, &press.message_ts, &closed)
                .await;
            self.delivered(&press.channel, press.thread.as_deref(), sent);
        }
    }
}

/// The message a press sends: its answer, from whoever pressed, where the question is.
fn sent_by(press: &Press) -> Inbound {
    Inbound {
        team: press.team.clone(),
        channel: press.channel.clone(),
        user: press.user.clone(),
        thread: press.thread.clone(),
        text: press.answer.clone(),
        direct_message: press.channel.starts_with('D'),
        account: None,
    }
}
