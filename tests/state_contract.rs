//! The state store's contract (issue #13), run against both backends: the memory store, and
//! the DynamoDB store on moto (a table made by `create_table`, as `state create-table` does).
//! Time is a manual clock handed to the store: expiry is enforced on read, so nothing waits
//! for DynamoDB's TTL.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::clock::{Clock, ManualClock};
use aws_chatops::config::{StateBackend, StateConfig};
use aws_chatops::state::dynamodb::{Created, DynamoStore};
use aws_chatops::state::memory::MemoryStore;
use aws_chatops::state::{
    unix_millis, unix_secs, DocKind, MessageRead, Once, QuestionKey, QuestionMessage, StateError,
    StateStore, StoredMemory, StoredQuestion,
};
use support::Emulator;

fn key(user: &str) -> QuestionKey {
    QuestionKey {
        channel: "C0DEMO".into(),
        user: user.into(),
        thread: Some("1700000000.000100".into()),
    }
}

fn question(clock: &ManualClock, id: &str, body: &str, keep: u64) -> StoredQuestion {
    StoredQuestion {
        id: id.into(),
        asked_at_ms: unix_millis(clock.wall()),
        body: body.into(),
        message: None,
        expires: unix_secs(clock.wall()) + keep,
    }
}

fn later(clock: &ManualClock, secs: u64) -> u64 {
    unix_secs(clock.wall()) + secs
}

/// Every rule of the contract, against one store whose clock is `clock`.
async fn contract(store: Arc<dyn StateStore>, clock: ManualClock) {
    // Questions: open, read, answered once by id, replaced, closed.
    let alice = key("UALICE");
    assert_eq!(store.question(&alice).await.unwrap(), None);
    let q1 = question(&clock, "q1", r#"{"pending":1}"#, 600);
    store.put_question(&alice, &q1).await.unwrap();
    assert_eq!(store.question(&alice).await.unwrap(), Some(q1.clone()));
    assert_eq!(store.question(&key("UBOB")).await.unwrap(), None);
    let message = QuestionMessage {
        ts: "1700000001.000200".into(),
        text: "Run it?".into(),
    };
    store
        .set_question_message(&alice, "q1", &message)
        .await
        .unwrap();
    // The message of another asking is not recorded on this one.
    store
        .set_question_message(
            &alice,
            "other",
            &QuestionMessage {
                ts: "9".into(),
                text: "x".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.question(&alice).await.unwrap().unwrap().message,
        Some(message)
    );
    let q2 = question(&clock, "q2", r#"{"pending":2}"#, 600);
    store.put_question(&alice, &q2).await.unwrap();
    assert!(!store.take_question(&alice, "q1").await.unwrap());
    assert!(store.take_question(&alice, "q2").await.unwrap());
    assert!(!store.take_question(&alice, "q2").await.unwrap());
    assert_eq!(store.question(&alice).await.unwrap(), None);
    store.put_question(&alice, &q1).await.unwrap();
    assert!(store.close_question(&alice).await.unwrap());
    assert!(!store.close_question(&alice).await.unwrap());

    // Two answers racing on one question: exactly one takes it.
    store.put_question(&alice, &q1).await.unwrap();
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let alice = alice.clone();
            tokio::spawn(async move { store.take_question(&alice, "q1").await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1, "one answer takes the question");

    // Expiry is enforced on read, whatever the backend still holds.
    store
        .put_question(&alice, &question(&clock, "q3", "{}", 10))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(11));
    assert_eq!(store.question(&alice).await.unwrap(), None);
    assert!(!store.take_question(&alice, "q3").await.unwrap());

    // Channel memory: each field kept while the other changes, until it expires.
    assert_eq!(store.memory("C1").await.unwrap(), StoredMemory::default());
    let account = StoredMemory {
        account: Some("111111111111".into()),
        region: None,
    };
    let region = StoredMemory {
        account: None,
        region: Some("eu-west-1".into()),
    };
    store
        .remember("C1", &account, later(&clock, 100))
        .await
        .unwrap();
    store
        .remember("C1", &region, later(&clock, 100))
        .await
        .unwrap();
    assert_eq!(
        store.memory("C1").await.unwrap(),
        StoredMemory {
            account: Some("111111111111".into()),
            region: Some("eu-west-1".into()),
        }
    );
    assert_eq!(store.memory("C2").await.unwrap(), StoredMemory::default());
    clock.advance(Duration::from_secs(101));
    assert_eq!(store.memory("C1").await.unwrap(), StoredMemory::default());
    // A write after expiry starts afresh: the old account does not come back.
    store
        .remember("C1", &region, later(&clock, 100))
        .await
        .unwrap();
    assert_eq!(store.memory("C1").await.unwrap(), region);

    // Takes: once each, per kind, until they expire or are released.
    for once in [Once::Event, Once::Notification, Once::UnconfiguredNotice] {
        assert!(store.take(once, "Ev1", later(&clock, 60)).await.unwrap());
        assert!(!store.take(once, "Ev1", later(&clock, 60)).await.unwrap());
    }
    assert!(store
        .take(Once::Event, "Ev2", later(&clock, 60))
        .await
        .unwrap());
    store.release(Once::Notification, "Ev1").await.unwrap();
    assert!(store
        .take(Once::Notification, "Ev1", later(&clock, 60))
        .await
        .unwrap());
    clock.advance(Duration::from_secs(61));
    assert!(store
        .take(Once::Event, "Ev1", later(&clock, 60))
        .await
        .unwrap());
    // A redelivery racing on several processes: one takes it.
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let expires = later(&clock, 60);
            tokio::spawn(async move { store.take(Once::Event, "Ev3", expires).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1, "one process takes an event");

    // Notification threads: the first message started it; a later claim gets that one.
    assert_eq!(store.thread("C1", "alarm-x").await.unwrap(), None);
    assert_eq!(
        store
            .claim_thread("C1", "alarm-x", "111.1", later(&clock, 60))
            .await
            .unwrap(),
        "111.1"
    );
    assert_eq!(
        store
            .claim_thread("C1", "alarm-x", "222.2", later(&clock, 60))
            .await
            .unwrap(),
        "111.1"
    );
    assert_eq!(
        store.thread("C1", "alarm-x").await.unwrap().as_deref(),
        Some("111.1")
    );
    assert_eq!(store.thread("C2", "alarm-x").await.unwrap(), None);

    // A record beyond DynamoDB's item size is refused, whichever backend.
    let huge = question(&clock, "big", &"x".repeat(400 * 1024), 60);
    assert!(matches!(
        store.put_question(&alice, &huge).await,
        Err(StateError::TooLarge { .. })
    ));
    // Keys are not confused by the characters in their parts.
    let odd = QuestionKey {
        channel: "C#1".into(),
        user: "U\"]".into(),
        thread: None,
    };
    store
        .put_question(&odd, &question(&clock, "odd", "{}", 60))
        .await
        .unwrap();
    let near = QuestionKey {
        channel: "C".into(),
        user: "1#U\"]".into(),
        thread: None,
    };
    assert_eq!(store.question(&near).await.unwrap(), None);
    assert!(store.ping().await.is_ok());

    // Documents: compare-and-set on the version, so of two writers over one version one wins.
    assert_eq!(store.doc(DocKind::Aliases, "C1").await.unwrap(), None);
    assert!(store
        .put_doc(DocKind::Aliases, "C1", "[1]", None, later(&clock, 60))
        .await
        .unwrap());
    assert!(!store
        .put_doc(DocKind::Aliases, "C1", "[other]", None, later(&clock, 60))
        .await
        .unwrap());
    let first = store.doc(DocKind::Aliases, "C1").await.unwrap().unwrap();
    assert_eq!((first.body.as_str(), first.version), ("[1]", 1));
    assert!(store
        .put_doc(DocKind::Aliases, "C1", "[1,2]", Some(1), later(&clock, 60))
        .await
        .unwrap());
    assert!(!store
        .put_doc(DocKind::Aliases, "C1", "[1,3]", Some(1), later(&clock, 60))
        .await
        .unwrap());
    let second = store.doc(DocKind::Aliases, "C1").await.unwrap().unwrap();
    assert_eq!((second.body.as_str(), second.version), ("[1,2]", 2));
    // Kinds and ids are apart.
    assert_eq!(store.doc(DocKind::Approval, "C1").await.unwrap(), None);
    assert_eq!(store.doc(DocKind::Aliases, "C2").await.unwrap(), None);
    // Taking acts once, and only on the version read.
    assert!(!store.take_doc(DocKind::Aliases, "C1", 1).await.unwrap());
    assert!(store.take_doc(DocKind::Aliases, "C1", 2).await.unwrap());
    assert!(!store.take_doc(DocKind::Aliases, "C1", 2).await.unwrap());
    assert_eq!(store.doc(DocKind::Aliases, "C1").await.unwrap(), None);
    // A document past its time is gone, and its id is free again.
    store
        .put_doc(DocKind::FollowUp, "f1", "{}", None, later(&clock, 10))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(11));
    assert_eq!(store.doc(DocKind::FollowUp, "f1").await.unwrap(), None);
    assert!(!store.take_doc(DocKind::FollowUp, "f1", 1).await.unwrap());
    assert!(store
        .put_doc(DocKind::FollowUp, "f1", "{}", None, later(&clock, 10))
        .await
        .unwrap());
    assert!(matches!(
        store
            .put_doc(
                DocKind::FollowUp,
                "big",
                &"x".repeat(400 * 1024),
                None,
                later(&clock, 10)
            )
            .await,
        Err(StateError::TooLarge { .. })
    ));

    // What a message reads, at once: the same as the three reads one by one, expiry included.
    let bob = key("UBOB");
    let read = store.read_message(&bob, "C9", None).await.unwrap();
    assert_eq!(read, MessageRead::default());
    let q3 = question(&clock, "q3", "{}", 60);
    store.put_question(&bob, &q3).await.unwrap();
    let region = StoredMemory {
        account: None,
        region: Some("eu-west-1".into()),
    };
    store
        .remember("C9", &region, later(&clock, 60))
        .await
        .unwrap();
    store
        .put_doc(
            DocKind::FollowUp,
            "f9",
            "{\"n\":9}",
            None,
            later(&clock, 30),
        )
        .await
        .unwrap();
    let read = store
        .read_message(&bob, "C9", Some((DocKind::FollowUp, "f9")))
        .await
        .unwrap();
    assert_eq!(read.question, Some(q3.clone()));
    assert_eq!(read.memory, region);
    assert_eq!(
        read.doc.map(|d| (d.body, d.version)),
        Some(("{\"n\":9}".to_owned(), 1))
    );
    let read = store
        .read_message(&bob, "C9", Some((DocKind::Aliases, "f9")))
        .await
        .unwrap();
    assert_eq!(read.doc, None);
    clock.advance(Duration::from_secs(31));
    let read = store
        .read_message(&bob, "C9", Some((DocKind::FollowUp, "f9")))
        .await
        .unwrap();
    assert_eq!((read.question.is_some(), read.doc), (true, None));
}

#[tokio::test]
async fn the_memory_store_keeps_the_contract() {
    let clock = ManualClock::new();
    contract(Arc::new(MemoryStore::new(Arc::new(clock.clone()))), clock).await;
}

fn dynamo_config(table: &str) -> StateConfig {
    StateConfig {
        backend: StateBackend::Dynamodb,
        table: Some(table.into()),
        region: Some("us-east-1".into()),
    }
}

#[tokio::test]
async fn the_dynamodb_store_keeps_the_contract_on_moto() {
    let emu = Emulator::start();
    let clock = ManualClock::new();
    let store = DynamoStore::new(
        &emu.sdk_config().await,
        &dynamo_config("chatops-state"),
        Arc::new(clock.clone()),
    )
    .unwrap();
    // Before the table exists, the store says so rather than pretend.
    assert!(matches!(
        store.question(&key("U")).await,
        Err(StateError::Unreachable(_))
    ));
    assert_eq!(store.create_table().await.unwrap(), Created::Created);
    // Idempotent: a second run finds it, with its TTL on.
    assert_eq!(store.create_table().await.unwrap(), Created::AlreadyThere);
    let check = store.check().await.unwrap();
    assert!(check.usable() && check.ttl_on, "{check:?}");
    contract(Arc::new(store), clock).await;
}

#[tokio::test]
async fn an_unreachable_dynamodb_store_says_so_quickly() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    let store = DynamoStore::new(
        &sdk,
        &dynamo_config("chatops-state"),
        Arc::new(ManualClock::new()),
    )
    .unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(
        store.take(Once::Event, "Ev1", u64::MAX / 2).await,
        Err(StateError::Unreachable(_))
    ));
    assert!(matches!(
        store.ping().await,
        Err(StateError::Unreachable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A DynamoDB store on a port nothing listens on.
async fn dead_store() -> DynamoStore {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    DynamoStore::new(
        &sdk,
        &dynamo_config("chatops-state"),
        Arc::new(ManualClock::new()),
    )
    .unwrap()
}

#[tokio::test]
async fn with_the_store_unreachable_what_needs_no_question_runs_and_the_rest_says_why() {
    use aws_chatops::pipeline::Outcome;
    let emu = Emulator::start();
    let metrics = aws_chatops::metrics::Metrics::new();
    metrics.set_ready(true);
    let p = support::pipeline(&emu, support::demo_config())
        .await
        .with_metrics(metrics.clone())
        .with_store(Arc::new(dead_store().await), Arc::new(ManualClock::new()));
    // A read-only command in a named account needs no question: it runs.
    let listed = support::say(&p, support::message_in("dev", "lambda list-functions")).await;
    assert_eq!(listed.outcome, Outcome::Ok, "{}", listed.text);
    assert!(listed.text.contains("myHelloWorld"));
    assert!(!metrics.is_ready(), "/readyz reports the store");
    // The metrics name the process.
    let exposed = metrics.encode();
    assert!(
        exposed.contains(&format!(
            "aws_chatops_instance_info{{instance=\"{}\"}} 1",
            aws_chatops::instance()
        )),
        "{exposed}"
    );
    // Everything that needs a question (to ask or to answer) hears why nothing ran.
    for inbound in [
        // Which account? (two accounts, none remembered)
        support::message("U0DEMO", "lambda list-functions"),
        // A confirmation.
        support::message_in("dev", "lambda invoke --function-name myHelloWorld"),
        // A missing parameter.
        support::message_in("dev", "lambda get-function"),
        // Answers.
        support::message("U0DEMO", "yes"),
        support::message("U0DEMO", "2"),
        support::message("U0DEMO", "set default-account dev"),
    ] {
        let reply = support::say(&p, inbound.clone()).await;
        assert_eq!(
            reply.outcome,
            Outcome::Unavailable,
            "{}: {}",
            inbound.text,
            reply.text
        );
        assert!(
            reply.text.contains("can't reach my state store"),
            "{}: {}",
            inbound.text,
            reply.text
        );
        assert!(reply.question.is_none());
    }
}

/// A card as posted: channel, title, thread.
type Post = (String, String, Option<String>);

/// Cards posted.
#[derive(Default, Clone)]
struct Cards(Arc<std::sync::Mutex<Vec<Post>>>);

impl aws_chatops::events::notify::CardSink for Cards {
    async fn post(
        &self,
        channel: &str,
        card: &aws_chatops::events::format::Card,
        thread: Option<&str>,
    ) -> Result<String, aws_chatops::events::notify::SinkError> {
        let mut posts = self.0.lock().unwrap();
        posts.push((
            channel.into(),
            card.title.clone(),
            thread.map(str::to_owned),
        ));
        Ok(format!("ts-{}", posts.len()))
    }
}

#[tokio::test]
async fn two_processes_post_a_redelivered_notification_once_in_one_thread() {
    use aws_chatops::events::notify::{Disposition, Notifier};
    use aws_chatops::events::queue::Queue;
    let emu = Emulator::start();
    let sdk = emu.sdk_config().await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let table = DynamoStore::new(&sdk, &dynamo_config("chatops-state"), clock.clone()).unwrap();
    table.create_table().await.unwrap();
    let mut config = support::demo_config();
    let url = format!("{}/123456789012/aws-chatops-notifications", emu.url);
    config.notifications.queues = vec![url.clone()];
    let config = Arc::new(config);
    let cards = Cards::default();
    let process = || {
        let store = DynamoStore::new(&sdk, &dynamo_config("chatops-state"), clock.clone()).unwrap();
        Notifier::new(
            config.clone(),
            cards.clone(),
            aws_chatops::metrics::Metrics::new(),
            Arc::new(aws_chatops::audit::Auditor::new(&config).unwrap()),
        )
        .with_store(Arc::new(store))
    };
    let (a, b) = (process(), process());
    let queue = Queue::new(&sdk, &url).with_wait_seconds(1);
    let alarm = include_str!("../fixtures/notifications/cloudwatch-alarm.json");
    emu.publish(Some("ALARM"), alarm);
    let message = queue.receive().await.unwrap().remove(0);
    // The same message in both processes at once (a redelivery after a visibility timeout).
    let (da, db) = tokio::join!(a.handle(&message), b.handle(&message));
    assert_eq!((da, db), (Disposition::Delete, Disposition::Delete));
    queue.delete(&message).await.unwrap();
    // The alarm's next state change, through the other process, goes into the same thread.
    emu.publish(
        Some("OK"),
        &alarm.replace("\"NewStateValue\": \"ALARM\"", "\"NewStateValue\": \"OK\""),
    );
    let next = queue.receive().await.unwrap().remove(0);
    assert_eq!(b.handle(&next).await, Disposition::Delete);
    let posts = cards.0.lock().unwrap().clone();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[0].2, None);
    assert_eq!(posts[1].2.as_deref(), Some("ts-1"), "{posts:?}");
}
