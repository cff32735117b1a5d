//! Issue #15 through Slack: user groups read with `usergroups.users.list` (the Slack test
//! server answers in the shape of Slack's documented response), a failed lookup refusing,
//! `whoami`, and an approval request's buttons pressed by approvers and others.

use crate::slack_server;
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::config::{ApprovalConfig, Config, UserRoleConfig};
use aws_chatops::pipeline::Pipeline;
use aws_chatops::transport::slack::{SlackConnection, SlackOptions};
use slack_server::{wait_for, Posted, SlackServer};
use support::{demo_config, pipeline, Emulator};

const CHANNEL: &str = "C0DEMO";
const ALICE: &str = "U0ALICE";
const BOB: &str = "U0BOB";
const CAROL: &str = "U0CAROL";
const DAVE: &str = "U0DAVE";
const OPS_ROLE: &str = "arn:aws:iam::111111111111:role/chatops-ops";
const CHANNEL_ROLE: &str = "arn:aws:iam::111111111111:role/chatops-readonly";

struct Harness {
    emu: Emulator,
    slack: SlackServer,
    _pipeline: Arc<Pipeline>,
    bot: Option<SlackConnection>,
}

impl Harness {
    async fn start(edit: impl FnOnce(&mut Config)) -> Harness {
        let mut config = demo_config();
        edit(&mut config);
        assert_eq!(config.problems(), vec![]);
        let emu = Emulator::start();
        let slack = SlackServer::start().await;
        let pipeline = Arc::new(pipeline(&emu, config.clone()).await);
        // The channel uses the dev account, so commands don't ask which first.
        pipeline
            .conversations()
            .remember_account(CHANNEL, "111111111111")
            .await
            .unwrap();
        let options = SlackOptions {
            connections: 1,
            reconnect_delay_secs: 1,
            ping_interval_secs: 5,
            shutdown_grace: Duration::from_secs(10),
            ..SlackOptions::default()
        };
        let bot = slack
            .connect_bot(pipeline.clone(), Arc::new(config), options)
            .await;
        Harness {
            emu,
            slack,
            _pipeline: pipeline,
            bot: Some(bot),
        }
    }

    /// What a message says, as its text reads (the reply's text is escaped for Slack).
    fn read(message: &Posted) -> String {
        message
            .all_text()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    /// `user` mentions the bot; returns the reply (the next message in the channel).
    async fn ask(&self, user: &str, text: &str) -> Posted {
        let seen = self.slack.messages(CHANNEL).len();
        self.slack.mention(CHANNEL, user, text, None).await;
        self.slack.wait_nth_message(CHANNEL, seen + 1).await
    }

    /// `user` presses `label` on `message`; returns what they alone are told (an ephemeral
    /// message), after checking the channel heard nothing.
    async fn press_privately(&self, message: &Posted, user: &str, label: &str) -> String {
        let (seen, told) = (
            self.slack.messages(CHANNEL).len(),
            self.slack.ephemerals().len(),
        );
        self.slack.press(message, user, label).await;
        let note = wait_for("an ephemeral reply", || {
            self.slack.ephemerals().get(told).cloned()
        })
        .await;
        assert_eq!(note.user, user);
        assert_eq!(
            self.slack.messages(CHANNEL).len(),
            seen,
            "nothing in the channel"
        );
        note.text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    /// `message` once its buttons are gone, as its text reads.
    async fn closed(&self, message: &Posted) -> String {
        let now = wait_for("the buttons closed", || {
            self.slack
                .message(CHANNEL, &message.ts)
                .filter(|m| m.choices().is_empty())
        })
        .await;
        Harness::read(&now)
    }

    /// `user` presses `label` on `message`; returns the reply it brings.
    async fn press(&self, message: &Posted, user: &str, label: &str) -> Posted {
        let seen = self.slack.messages(CHANNEL).len();
        self.slack.press(message, user, label).await;
        self.slack.wait_nth_message(CHANNEL, seen + 1).await
    }

    async fn finish(mut self) {
        wait_for("every envelope acked", || {
            self.slack.unacked().is_empty().then_some(())
        })
        .await;
        let stats = self.bot.take().unwrap().shutdown().await;
        assert_eq!(stats.undelivered, 0, "{stats:?}");
    }
}

fn ops_group(config: &mut Config) {
    config.channels[0].accounts[0].user_roles = vec![UserRoleConfig {
        users: vec![],
        groups: vec!["S0OPS".into()],
        role_arn: OPS_ROLE.into(),
    }];
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_a_user_group_runs_as_the_groups_role_and_slack_is_asked_once() {
    let h = Harness::start(ops_group).await;
    h.slack.set_group("S0OPS", &[CAROL, "W0GUEST"]);
    h.emu.start_recording();
    for user in [CAROL, CAROL, BOB] {
        let reply = h.ask(user, "lambda list-functions").await;
        assert!(reply.all_text().contains("myHelloWorld"), "{reply:?}");
    }
    let roles = h.emu.assumed_roles();
    assert_eq!(
        roles,
        [
            (OPS_ROLE.to_owned(), format!("chatbot-{CAROL}")),
            (CHANNEL_ROLE.to_owned(), format!("chatbot-{BOB}")),
        ],
        "Carol's credentials are cached for her second command"
    );
    // The members were read once, for the group the configuration names.
    let lookups = h.slack.calls("usergroups.users.list");
    assert_eq!(lookups.len(), 1, "{lookups:?}");
    assert_eq!(lookups[0].params["usergroup"], "S0OPS");
    // whoami names the role and the group it comes through.
    let whoami = Harness::read(&h.ask(CAROL, "whoami").await);
    assert!(
        whoami.contains(&format!(
            "your user role `{OPS_ROLE}` (through <!subteam^S0OPS>)"
        )),
        "{whoami}"
    );
    let bob = Harness::read(&h.ask(BOB, "whoami").await);
    assert!(
        bob.contains(&format!("the channel's role `{CHANNEL_ROLE}`")),
        "{bob}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_lookup_that_fails_refuses_and_says_why() {
    let h = Harness::start(ops_group).await;
    h.slack.fail_group("S0OPS", "missing_scope");
    h.emu.start_recording();
    let reply = h.ask(BOB, "lambda list-functions").await.all_text();
    assert!(
        reply.contains("couldn't read your Slack user group S0OPS"),
        "{reply}"
    );
    assert!(reply.contains("missing_scope"), "{reply}");
    assert!(h.emu.assumed_roles().is_empty(), "nothing ran");
    // Not cached as "not a member": once Slack answers, the command runs.
    h.slack.set_group("S0OPS", &[CAROL]);
    let reply = h.ask(BOB, "lambda list-functions").await.all_text();
    assert!(reply.contains("myHelloWorld"), "{reply}");
    assert_eq!(h.slack.calls("usergroups.users.list").len(), 2);
    h.finish().await;
}

/// A bot whose channel needs an approval by `approvers` or `groups` for Lambda invokes, and
/// the request Alice's invoke brings (with its Approve and Deny buttons); invocations are
/// recorded from here on.
async fn alices_invoke_needing_approval(approvers: &[&str], groups: &[&str]) -> (Harness, Posted) {
    let owned = |ids: &[&str]| ids.iter().map(|&id| id.to_owned()).collect();
    let (approvers, approver_groups) = (owned(approvers), owned(groups));
    let h = Harness::start(|c| {
        c.channels[0].approvals = vec![ApprovalConfig {
            actions: vec!["lambda:Invoke*".into()],
            approvers,
            approver_groups,
        }];
    })
    .await;
    h.emu.start_recording();
    let request = h
        .ask(
            ALICE,
            "lambda invoke --function-name myHelloWorld --payload {}",
        )
        .await;
    assert_eq!(request.choices(), ["Approve", "Deny"]);
    (h, request)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_request_is_approved_with_its_button_by_another_approver() {
    let (h, request) = alices_invoke_needing_approval(&[BOB, ALICE], &["S0LEADS"]).await;
    h.slack.set_group("S0LEADS", &[CAROL]);
    let text = Harness::read(&request);
    assert!(
        text.contains("<@U0ALICE> asks to run `lambda invoke"),
        "{text}"
    );
    assert!(text.contains("dev (111111111111) · us-east-1"), "{text}");
    // The requester and the approvers are mentioned, so Slack notifies them.
    for mention in ["<@U0ALICE>", "<@U0BOB>", "<!subteam^S0LEADS>"] {
        assert!(
            request.text.contains(mention),
            "{mention} in {}",
            request.text
        );
    }

    // Someone who isn't an approver: a clear refusal, to them alone; nothing changes.
    let dave = h.press_privately(&request, DAVE, "Approve").await;
    assert!(
        dave.contains("only <@U0BOB>, <@U0ALICE> or <!subteam^S0LEADS> can approve"),
        "{dave}"
    );
    // The requester, although an approver: not of her own request.
    let own = h.press_privately(&request, ALICE, "Approve").await;
    assert!(own.contains("can't approve it yourself"), "{own}");
    assert_eq!(h.emu.count_invocations(), 0);

    // Carol approves through her group.
    let approval = h.press(&request, CAROL, "Approve").await;
    let approved = Harness::read(&approval);
    assert!(approved.contains("<@U0CAROL> approved"), "{approved}");
    assert!(
        approval.text.contains("<@U0ALICE>: run it now?"),
        "the requester is told, with a mention: {}",
        approval.text
    );
    // The request's buttons go, and it says who approved.
    let closed = h.closed(&request).await;
    assert!(closed.contains("Approved by <@U0CAROL>"), "{closed}");
    assert!(closed.contains("asks to run `lambda invoke"), "{closed}");
    // Bob, too late (on the buttons his Slack still showed).
    let late = h.press_privately(&request, BOB, "Approve").await;
    assert!(late.contains("<@U0CAROL> already approved"), "{late}");
    assert_eq!(h.emu.count_invocations(), 0);

    // The approval asks the requester's Yes, with buttons only she may press: Carol's press
    // (an approver, and maybe with a question of her own) runs nothing.
    assert_eq!(approval.choices(), ["Yes", "No"]);
    let carol = h.press_privately(&approval, CAROL, "Yes").await;
    assert!(carol.contains("Only <@U0ALICE> can answer this"), "{carol}");
    assert_eq!(h.emu.count_invocations(), 0);
    // Alice's Yes runs it, as her, once.
    let ran = h.press(&approval, ALICE, "Yes").await.all_text();
    assert!(ran.contains("StatusCode: 200"), "{ran}");
    assert_eq!(h.emu.count_invocations(), 1);
    assert_eq!(h.emu.assumed_roles()[0].1, format!("chatbot-{ALICE}"));
    let answered = h.closed(&approval).await;
    assert!(answered.contains("<@U0ALICE>"), "{answered}");
    h.finish().await;
}

/// The approval request's id, from its text (`@aws approve <id>`).
fn approval_id(request: &Posted) -> String {
    let text = Harness::read(request);
    let (_, rest) = text
        .split_once("@aws approve ")
        .expect("the request names its id");
    rest.chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_typed_elsewhere_gives_the_requester_buttons_that_answer_in_her_thread() {
    let h = Harness::start(|c| {
        c.channels[0].approvals = vec![ApprovalConfig {
            actions: vec!["lambda:Invoke*".into()],
            approvers: vec![BOB.into()],
            approver_groups: vec![],
        }];
    })
    .await;
    h.emu.start_recording();
    // Alice asks in a thread of her own; Bob approves by typing, in the channel.
    let thread = "1600000000.000100";
    let seen = h.slack.messages(CHANNEL).len();
    h.slack
        .mention(
            CHANNEL,
            ALICE,
            "lambda invoke --function-name myHelloWorld --payload {}",
            Some(thread),
        )
        .await;
    let request = h.slack.wait_nth_message(CHANNEL, seen + 1).await;
    assert_eq!(request.thread_ts.as_deref(), Some(thread));
    let id = approval_id(&request);
    let approval = h.ask(BOB, &format!("approve {id}")).await;
    assert_eq!(approval.thread_ts, None, "Bob is answered where he typed");
    assert_eq!(approval.choices(), ["Yes", "No"]);
    // The request in Alice's thread loses its buttons all the same.
    let closed = h.closed(&request).await;
    assert!(closed.contains("Approved by <@U0BOB>"), "{closed}");
    // Alice's press answers her question, in her thread.
    let ran = h.press(&approval, ALICE, "Yes").await;
    assert_eq!(ran.thread_ts.as_deref(), Some(thread));
    assert!(
        ran.all_text().contains("StatusCode: 200"),
        "{}",
        ran.all_text()
    );
    assert_eq!(h.emu.count_invocations(), 1);
    // The Yes is spent: typing it again runs nothing more.
    let seen = h.slack.messages(CHANNEL).len();
    h.slack.mention(CHANNEL, ALICE, "yes", Some(thread)).await;
    let again = Harness::read(&h.slack.wait_nth_message(CHANNEL, seen + 1).await);
    assert!(!again.contains("StatusCode"), "{again}");
    assert_eq!(h.emu.count_invocations(), 1);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_approval_request_loses_its_buttons_and_nothing_runs() {
    let (h, request) = alices_invoke_needing_approval(&[BOB], &[]).await;
    // A refusal leaves the buttons for the approvers.
    let dave = h.press_privately(&request, DAVE, "Deny").await;
    assert!(dave.contains("Refused"), "{dave}");
    let open = h.slack.message(CHANNEL, &request.ts).unwrap();
    assert_eq!(open.choices(), ["Approve", "Deny"]);

    let denied = Harness::read(&h.press(&request, BOB, "Deny").await);
    assert!(denied.contains("<@U0BOB> denied it"), "{denied}");
    let closed = h.closed(&request).await;
    assert!(closed.contains("<@U0BOB> denied it."), "{closed}");
    let yes = Harness::read(&h.ask(ALICE, "yes").await);
    assert!(!yes.contains("StatusCode"), "{yes}");
    assert_eq!(h.emu.count_invocations(), 0);
    h.finish().await;
}
