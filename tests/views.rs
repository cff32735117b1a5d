//! Replies read at a glance (issue 14), against moto: the compact table, the first page of a
//! long list and its Next (anyone in the channel, typed or by number), Details, the AWS CLI's
//! paging options, and follow-ups that expire with the questions.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::pipeline::{Outcome, Reply};
use aws_chatops::prompt::ManualClock;
use serde_json::Value;
use support::*;

/// The names in a reply's table (its first column).
fn names(reply: &Reply) -> Vec<String> {
    reply
        .table
        .as_ref()
        .unwrap_or_else(|| panic!("no table: {}", reply.text))
        .grid
        .rows
        .iter()
        .map(|r| r[0].clone())
        .collect()
}

fn labels(reply: &Reply) -> Vec<&str> {
    reply.actions.iter().map(|a| a.label.as_str()).collect()
}

/// Every function name in dev, in the order AWS lists them.
async fn all_names(p: &aws_chatops::pipeline::Pipeline) -> Vec<String> {
    let json = say(
        p,
        message_in(
            "dev",
            "@aws lambda list-functions --query Functions[].FunctionName --output json",
        ),
    )
    .await;
    serde_json::from_str::<Vec<String>>(json.output.as_deref().unwrap()).unwrap()
}

fn in_channel(user: &str, text: &str) -> aws_chatops::pipeline::Inbound {
    aws_chatops::pipeline::Inbound {
        account: Some("dev".into()),
        ..message(user, text)
    }
}

#[tokio::test]
async fn a_long_list_pages_for_anyone_in_the_channel() {
    let emu = Emulator::start();
    let extra: Vec<String> = (0..40).map(|i| format!("fn-{i:02}")).collect();
    emu.create_functions("111111111111", &extra, "");
    let p = pipeline(&emu, demo_config()).await;
    let all = all_names(&p).await;
    assert!(all.len() > 40, "{all:?}");

    let first = say(&p, in_channel("U0ALICE", "@aws lambda list-functions")).await;
    assert_eq!(first.outcome, Outcome::Ok, "{}", first.text);
    assert!(
        first
            .text
            .contains(&format!("Showing 1–20 of {} functions.", all.len())),
        "{}",
        first.text
    );
    assert_eq!(names(&first), all[..20]);
    assert_eq!(labels(&first), ["Details", "Next 20"]);
    // Empty members are not in the compact reply, nor its noise.
    assert!(!first.text.contains("Layers"), "{}", first.text);

    // Bob, in the same channel, pages on from where Alice's reply stopped.
    let second = say(&p, in_channel("U0BOB", "@aws next")).await;
    assert_eq!(second.outcome, Outcome::Ok, "{}", second.text);
    assert!(
        second
            .text
            .starts_with("lambda list-functions · dev (111111111111) · us-east-1"),
        "{}",
        second.text
    );
    assert_eq!(names(&second), all[20..40]);
    // In the shell the buttons are numbers: 2 is Next.
    assert_eq!(labels(&second)[1], format!("Next {}", all.len() - 40));
    let third = say(&p, in_channel("U0ALICE", "2")).await;
    assert_eq!(names(&third), all[40..]);
    assert_eq!(labels(&third), ["Details"]);
    let end = say(&p, in_channel("U0ALICE", "next")).await;
    assert_eq!(end.text, "That was the last page.");

    // Details (the button sends `details <id>`; `1` in the shell) shows the page in full,
    // less the empty members.
    let details = say(&p, in_channel("U0BOB", "1")).await;
    assert_eq!(details.outcome, Outcome::Ok, "{}", details.text);
    for name in &all[40..] {
        assert!(
            details.text.contains(&format!("FunctionName: {name}")),
            "{}",
            details.text
        );
    }
    assert!(!details.text.contains(&format!("FunctionName: {}", all[0])));
    assert!(!details.text.contains(": none"), "{}", details.text);
    let button = &first.actions[0].answer;
    let earlier = say(&p, in_channel("U0BOB", button)).await;
    assert!(
        earlier.text.contains(&format!("FunctionName: {}", all[0])),
        "{}",
        earlier.text
    );
}

#[tokio::test]
async fn max_items_and_starting_token_page_as_the_aws_cli_does() {
    let emu = Emulator::start();
    let extra: Vec<String> = (0..8).map(|i| format!("fn-{i:02}")).collect();
    emu.create_functions("111111111111", &extra, "");
    let p = pipeline(&emu, demo_config()).await;
    let all = all_names(&p).await;

    let first = say(
        &p,
        in_channel("U0ALICE", "@aws lambda list-functions --max-items 3"),
    )
    .await;
    assert_eq!(names(&first), all[..3]);
    assert!(
        first.text.contains("Showing 1–3 of 3+ functions."),
        "{}",
        first.text
    );
    assert_eq!(labels(&first), ["Details", "Next 3"]);
    emu.start_recording();
    // Past what AWS returned: the same command again from AWS's token, same account.
    let second = say(&p, in_channel("U0BOB", "next")).await;
    assert_eq!(second.outcome, Outcome::Ok, "{}", second.text);
    assert_eq!(names(&second), all[3..6]);
    assert!(
        second.text.contains("dev (111111111111)"),
        "{}",
        second.text
    );
    assert!(
        emu.recorded()
            .iter()
            .any(|(url, _)| url.contains("/functions")),
        "{:?}",
        emu.recorded()
    );
    // The AWS CLI's own paging options still print what it prints.
    let json = say(
        &p,
        message_in(
            "dev",
            "@aws lambda list-functions --max-items 2 --output json",
        ),
    )
    .await;
    let v: Value = serde_json::from_str(json.output.as_deref().unwrap()).unwrap();
    let token = v["NextToken"].as_str().expect("a NextToken");
    let rest = say(
        &p,
        message_in(
            "dev",
            &format!("@aws lambda list-functions --starting-token {token} --max-items 2"),
        ),
    )
    .await;
    assert_eq!(names(&rest), all[2..4]);
    let unpaged = say(
        &p,
        message_in("dev", "@aws lambda list-functions --no-paginate"),
    )
    .await;
    assert_eq!(names(&unpaged), all[..all.len().min(20)]);
}

#[tokio::test]
async fn follow_ups_expire_with_the_questions_and_explain_agrees() {
    let emu = Emulator::start();
    let mut config = demo_config();
    config.question_ttl_secs = 60;
    let clock = ManualClock::new();
    let p = pipeline(&emu, config)
        .await
        .with_clock(Arc::new(clock.clone()));
    let none = say(&p, in_channel("U0ALICE", "next")).await;
    assert_eq!(none.outcome, Outcome::Invalid, "{}", none.text);
    let shown = say(
        &p,
        in_channel(
            "U0ALICE",
            "@aws lambda get-function --function-name myHelloWorld",
        ),
    )
    .await;
    assert!(shown.text.contains("name: myHelloWorld"), "{}", shown.text);
    assert!(shown.text.contains("last modified: "), "{}", shown.text);
    assert_eq!(labels(&shown), ["Details"]);
    let explained = p.explain(&in_channel("U0BOB", "details"));
    assert_eq!(explained.decision, "help");
    assert_eq!(explained.operation.as_deref(), Some("get-function"));
    assert_eq!(explained.account.as_deref(), Some("111111111111"));
    clock.advance(Duration::from_secs(61));
    let late = say(&p, in_channel("U0BOB", "details")).await;
    assert_eq!(
        late.text,
        "That result expired after 1 min, so nothing more can be shown. Send the command again."
    );
}

#[tokio::test]
async fn a_name_that_does_not_exist_offers_the_closest_and_the_pick_runs() {
    let emu = Emulator::start();
    emu.create_functions("111111111111", &["orders-api".to_owned()], "");
    let p = pipeline(&emu, demo_config()).await;
    let reply = say(
        &p,
        message_in(
            "dev",
            "@aws lambda get-function --function-name myHeloWorld",
        ),
    )
    .await;
    assert_eq!(reply.outcome, Outcome::AwsError, "{}", reply.text);
    assert!(
        reply.text.contains("ResourceNotFoundException"),
        "{}",
        reply.text
    );
    assert!(
        reply
            .text
            .contains("There is no function-name `myHeloWorld` in dev (111111111111) · us-east-1"),
        "{}",
        reply.text
    );
    let question = reply.question.expect("a question");
    let labels: Vec<&str> = question.choices.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels[0], "myHelloWorld", "{labels:?}");
    assert!(!labels.contains(&"orders-api"), "{labels:?}");
    let picked = say(&p, message_in("dev", "1")).await;
    assert_eq!(picked.outcome, Outcome::Ok, "{}", picked.text);
    assert!(
        picked.text.contains("name: myHelloWorld"),
        "{}",
        picked.text
    );
    // Nothing close: the error alone.
    let far = say(
        &p,
        message_in("dev", "@aws lambda get-function --function-name zzzzzz"),
    )
    .await;
    assert_eq!(far.outcome, Outcome::AwsError);
    assert!(far.question.is_none(), "{}", far.text);
}

#[tokio::test]
async fn times_read_by_the_pipelines_clock() {
    let emu = Emulator::start();
    // Three hours after the seeding: the alarm's state changed "3 h ago".
    let clock = ManualClock::at(std::time::SystemTime::now() + Duration::from_secs(3 * 3600));
    let p = pipeline(&emu, demo_config())
        .await
        .with_clock(Arc::new(clock));
    let reply = say(&p, message_in("dev", "@aws cloudwatch describe-alarms")).await;
    let rows = &reply.table.as_ref().expect("a table").grid.rows;
    let since = &rows[0][3];
    assert!(since.ends_with(" UTC (3 h ago)"), "{}", reply.text);
    // The AWS CLI's own formats keep the epoch number.
    let json = say(
        &p,
        message_in("dev", "@aws cloudwatch describe-alarms --output json"),
    )
    .await;
    let v: Value = serde_json::from_str(json.output.as_deref().unwrap()).unwrap();
    assert!(
        v["MetricAlarms"][0]["StateUpdatedTimestamp"].is_number()
            || v["MetricAlarms"][0]["StateUpdatedTimestamp"].is_string(),
        "{v}"
    );
    assert!(!json.text.contains(" ago)"), "{}", json.text);
}

#[tokio::test]
async fn issue_14_times_a_query_selects_read_in_chat_and_stay_exact_in_the_cli_formats() {
    let emu = Emulator::start();
    let clock = ManualClock::at(std::time::SystemTime::now() + Duration::from_secs(3 * 3600));
    let p = pipeline(&emu, demo_config())
        .await
        .with_clock(Arc::new(clock));
    let query = "--query MetricAlarms[].[AlarmName,StateUpdatedTimestamp]";
    let chat = say(
        &p,
        message_in("dev", &format!("@aws cloudwatch describe-alarms {query}")),
    )
    .await;
    assert_eq!(chat.outcome, Outcome::Ok, "{}", chat.text);
    assert!(chat.text.contains(" UTC (3 h ago)"), "{}", chat.text);
    for output in ["json", "text", "yaml", "table"] {
        let exact = say(
            &p,
            message_in(
                "dev",
                &format!("@aws cloudwatch describe-alarms {query} --output {output}"),
            ),
        )
        .await;
        let out = exact.output.as_deref().expect("the AWS CLI's output");
        assert!(!out.contains(" ago)"), "--output {output}: {out}");
        assert!(!out.is_empty(), "--output {output}");
    }
}
