//! The stored-data rule (issue #12): reads that return what a service stores (S3 objects,
//! DynamoDB items, queue messages, stream records, decrypted parameters) run only where a
//! guardrail Allow names their IAM action, however the command is typed. PartiQL statements
//! (`dynamodb execute-statement`) need the action of their kind on the table they name: a
//! SELECT is such a read, anything else a write, and what the bot can't read is refused.

use crate::support;
use crate::support::seed;

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use aws_chatops::catalog::Catalog;
use aws_chatops::config::Config;
use aws_chatops::execute::Executor;
use aws_chatops::guard::DATA_PLANE;
use aws_chatops::pipeline::{Outcome, Pipeline};
use proptest::prelude::*;
use support::*;

/// A guardrail file of these statements, kept for the whole run.
fn guardrail(statements: &str) -> PathBuf {
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let path = dir.path().join("guardrail.json");
    std::fs::write(
        &path,
        format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#),
    )
    .unwrap();
    path
}

fn config_with(guardrail: Option<PathBuf>) -> Config {
    let mut config = demo_config();
    config.channels[0].guardrails = guardrail.into_iter().collect();
    config
}

/// A pipeline that plans but never reaches AWS (`explain`).
fn offline(config: Config) -> Pipeline {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    Pipeline::new(Arc::new(config), Arc::new(Executor::new(&sdk))).unwrap()
}

/// A stored-data command: service, operation, its options (`(name, value)`, an empty value
/// for a flag), and the IAM action a guardrail must name.
type Row = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// One command for each row of [`DATA_PLANE`], with its required options (and the flag that
/// makes it a read of stored data), and the IAM action a guardrail must name.
const STORED: &[Row] = &[
    (
        "s3api",
        "get-object",
        &[("bucket", "amzn-s3-demo-bucket"), ("key", "k")],
        "s3:GetObject",
    ),
    (
        "s3api",
        "select-object-content",
        &[
            ("bucket", "amzn-s3-demo-bucket"),
            ("key", "k"),
            ("expression", "SELECT * FROM S3Object"),
            ("expression-type", "SQL"),
            ("input-serialization", "{}"),
            ("output-serialization", "{}"),
        ],
        "s3:GetObject",
    ),
    (
        "s3api",
        "get-object-torrent",
        &[("bucket", "amzn-s3-demo-bucket"), ("key", "k")],
        "s3:GetObjectTorrent",
    ),
    (
        "dynamodb",
        "get-item",
        &[
            ("table-name", "Music"),
            ("key", r#"{"Artist": {"S": "a"}}"#),
        ],
        "dynamodb:GetItem",
    ),
    (
        "dynamodb",
        "batch-get-item",
        &[("request-items", "{}")],
        "dynamodb:BatchGetItem",
    ),
    (
        "dynamodb",
        "transact-get-items",
        &[("transact-items", "[]")],
        "dynamodb:GetItem",
    ),
    (
        "dynamodb",
        "query",
        &[("table-name", "Music")],
        "dynamodb:Query",
    ),
    (
        "dynamodb",
        "scan",
        &[("table-name", "Music")],
        "dynamodb:Scan",
    ),
    (
        "dynamodb",
        "execute-statement",
        &[("statement", "SELECT * FROM Music")],
        "dynamodb:PartiQLSelect",
    ),
    (
        "dynamodb",
        "batch-execute-statement",
        &[("statements", r#"[{"Statement": "SELECT * FROM Music"}]"#)],
        "dynamodb:PartiQLSelect",
    ),
    (
        "dynamodbstreams",
        "get-records",
        &[("shard-iterator", "i")],
        "dynamodb:GetRecords",
    ),
    (
        "sqs",
        "receive-message",
        &[(
            "queue-url",
            "https://sqs.us-east-1.amazonaws.com/111111111111/q",
        )],
        "sqs:ReceiveMessage",
    ),
    (
        "kinesis",
        "get-records",
        &[("shard-iterator", "i")],
        "kinesis:GetRecords",
    ),
    (
        "ssm",
        "get-parameter",
        &[("name", "p"), ("with-decryption", "")],
        "ssm:GetParameter",
    ),
    (
        "ssm",
        "get-parameters",
        &[("names", "p"), ("with-decryption", "")],
        "ssm:GetParameters",
    ),
    (
        "ssm",
        "get-parameters-by-path",
        &[("path", "/p"), ("with-decryption", "")],
        "ssm:GetParametersByPath",
    ),
    (
        "ssm",
        "get-parameter-history",
        &[("name", "p"), ("with-decryption", "")],
        "ssm:GetParameterHistory",
    ),
];

/// No guardrail: stored data is refused.
static NONE: LazyLock<Pipeline> = LazyLock::new(|| offline(config_with(None)));

/// A guardrail that names every stored-data action.
static NAMED: LazyLock<Pipeline> = LazyLock::new(|| {
    let mut actions: Vec<&str> = STORED.iter().map(|row| row.3).collect();
    actions.sort();
    actions.dedup();
    offline(config_with(Some(guardrail(&format!(
        r#"{{"Effect": "Allow", "Action": {}, "Resource": "*"}}"#,
        serde_json::to_string(&actions).unwrap()
    )))))
});

/// A guardrail that allows everything without naming anything.
static EVERYTHING: LazyLock<Pipeline> = LazyLock::new(|| {
    offline(config_with(Some(guardrail(
        r#"{"Effect": "Allow", "Action": "*", "Resource": "*"}"#,
    ))))
});

#[test]
fn every_stored_data_read_has_its_row() {
    for (service, op, ..) in DATA_PLANE {
        assert!(
            STORED.iter().any(|(s, o, ..)| s == service && o == op),
            "{service} {op}: add it to STORED"
        );
    }
    assert_eq!(STORED.len(), DATA_PLANE.len());
}

/// `s` with the letters flipped to upper case where `flips` says so.
fn flipped(s: &str, flips: &[bool]) -> String {
    s.chars()
        .zip(flips.iter().chain(std::iter::repeat(&false)))
        .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
        .collect()
}

/// A value as typed: bare where the shell would keep it whole (a JSON word on its own runs to
/// its closing bracket), else quoted in one of the ways chat sends quotes (curly quotes are
/// undone by normalize).
fn quoted(value: &str, style: usize, after_equals: bool) -> String {
    let bare = !value.contains([' ', '"', '\'']);
    let json = value.starts_with(['{', '[']) && !after_equals;
    match style % 4 {
        0 if bare || json => value.to_owned(),
        1 if !value.contains('"') => format!("\"{value}\""),
        2 if !value.contains('"') => format!("\u{201C}{value}\u{201D}"),
        3 => format!("\u{2018}{value}\u{2019}"),
        _ => format!("'{value}'"),
    }
}

/// One spelling of a stored-data command (see the strategy below).
#[derive(Debug, Clone)]
struct Spelling {
    prefix: &'static str,
    wrap: usize,
    service_case: Vec<bool>,
    op_case: Vec<bool>,
    short_form: bool,
    dash: &'static str,
    equals: Vec<bool>,
    quoting: Vec<usize>,
    order: Vec<usize>,
    region: bool,
}

fn spelling() -> impl Strategy<Value = Spelling> {
    (
        prop::sample::select(vec!["", "@aws ", "aws ", "@aws   "]),
        0..3usize,
        prop::collection::vec(any::<bool>(), 16),
        prop::collection::vec(any::<bool>(), 24),
        any::<bool>(),
        // Phones turn `--` into an em or en dash.
        prop::sample::select(vec!["--", "\u{2014}", "\u{2013}"]),
        prop::collection::vec(any::<bool>(), 8),
        prop::collection::vec(0..4usize, 8),
        Just((0..8).collect::<Vec<usize>>()).prop_shuffle(),
        any::<bool>(),
    )
        .prop_map(
            |(
                prefix,
                wrap,
                service_case,
                op_case,
                short_form,
                dash,
                equals,
                quoting,
                order,
                region,
            )| {
                Spelling {
                    prefix,
                    wrap,
                    service_case,
                    op_case,
                    short_form,
                    dash,
                    equals,
                    quoting,
                    order,
                    region,
                }
            },
        )
}

fn typed(service: &str, op: &str, options: &[(&str, &str)], s: &Spelling) -> String {
    let mut words = vec![];
    // The short form (`@aws get-item …`) where only one service has the operation.
    let unique = Catalog::builtin().names_with(op) == [service.to_owned()];
    if !(s.short_form && unique) {
        words.push(flipped(service, &s.service_case));
    }
    words.push(flipped(op, &s.op_case));
    let mut order: Vec<usize> = s
        .order
        .iter()
        .copied()
        .filter(|i| *i < options.len())
        .collect();
    order.dedup();
    for i in order {
        let (name, value) = options[i];
        let option = format!("{}{name}", s.dash);
        if value.is_empty() {
            words.push(option);
        } else if s.equals[i] {
            words.push(format!("{option}={}", quoted(value, s.quoting[i], true)));
        } else {
            words.push(option);
            words.push(quoted(value, s.quoting[i], false));
        }
    }
    if s.region {
        words.push(format!("{}region us-east-1", s.dash));
    }
    let text = format!("{}{}", s.prefix, words.join(" "));
    match s.wrap {
        1 => format!("`{text}`"),
        2 => format!("```{text}```"),
        _ => text,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Issue 12: however a stored-data read is typed, it is refused without a guardrail Allow
    /// that names its action (a bare `*` names none), the refusal says which action to allow,
    /// and it runs with one.
    #[test]
    fn issue_12_stored_data_needs_an_allow_naming_it_in_every_spelling(
        row in prop::sample::select(STORED.to_vec()),
        s in spelling(),
    ) {
        let (service, op, options, action) = row;
        let text = typed(service, op, options, &s);
        for refusing in [&*NONE, &*EVERYTHING] {
            let e = refusing.explain(&message_in("dev", &text));
            prop_assert_eq!(e.decision, "deny", "{}: {:?}", text, e.reason);
            prop_assert_eq!(e.rule.as_deref(), Some("stored-data"), "{}: {:?}", text, e.reason);
            let reason = e.reason.unwrap_or_default();
            let named = format!(r#""Action": "{action}""#);
            prop_assert!(reason.contains(&named), "{}: {}", text, reason);
        }
        let e = NAMED.explain(&message_in("dev", &text));
        prop_assert_eq!(e.decision, "run", "{}: {:?}", text, e.reason);
    }

    /// Without decryption a parameter's value stays encrypted: no stored data, it runs.
    #[test]
    fn ssm_parameters_without_decryption_run_unguarded(
        row in prop::sample::select(STORED.iter().filter(|r| r.0 == "ssm").cloned().collect::<Vec<_>>()),
        s in spelling(),
        no in any::<bool>(),
    ) {
        let (service, op, options, _) = row;
        let options: Vec<(&str, &str)> = options
            .iter()
            .filter(|(name, _)| *name != "with-decryption")
            .copied()
            .chain(no.then_some(("no-with-decryption", "")))
            .collect();
        let text = typed(service, op, &options, &s);
        let e = NONE.explain(&message_in("dev", &text));
        prop_assert_eq!(e.decision, "run", "{}: {:?}", text, e.reason);
    }
}

// ---- PartiQL ----

/// An Allow of SELECTs on the table Music alone.
static MUSIC: LazyLock<Pipeline> = LazyLock::new(|| {
    offline(config_with(Some(guardrail(
        r#"{"Effect": "Allow", "Action": "dynamodb:PartiQLSelect",
            "Resource": "arn:aws:dynamodb:us-east-1:111111111111:table/Music"}"#,
    ))))
});

/// Every DynamoDB action, everywhere: only the read-only rule stands between a statement and
/// the table.
static DYNAMODB: LazyLock<Pipeline> = LazyLock::new(|| {
    offline(config_with(Some(guardrail(
        r#"{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}"#,
    ))))
});

/// What may stand between tokens: whitespace and comments (no `'`: the statement is typed in
/// single quotes).
fn gap() -> impl Strategy<Value = String> {
    let comment_text = "[A-Za-z0-9 *;,\"()=-]{0,16}";
    prop::collection::vec(
        prop_oneof![
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\t".to_owned()),
            Just("\r\n".to_owned()),
            comment_text.prop_map(|c| format!(" --{c}\n")),
            comment_text
                .prop_filter("closes early", |c| !c.contains("*/")
                    && !c.contains("/*")
                    && !c.ends_with('*'))
                .prop_map(|c| format!(" /*{c}*/ ")),
        ],
        1..3,
    )
    .prop_map(|parts| parts.concat())
}

/// A keyword in any letter case.
fn keyword(word: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), word.len()).prop_map(move |flips| {
        word.chars()
            .zip(flips)
            .map(|(c, up)| {
                if up {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

/// A table name as typed, bare or quoted.
fn table(name: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![Just(name.to_owned()), Just(format!("\"{name}\""))]
}

fn execute(statement: &str) -> String {
    // `=`: a statement that starts with `--` would otherwise be read as an option.
    format!("@aws dynamodb execute-statement --statement='{statement}'")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Issue 12: a SELECT, however spelled, is a read of stored data on the table its FROM
    /// names: refused without an Allow naming dynamodb:PartiQLSelect, run where the Allow
    /// covers the table, refused where it covers another.
    #[test]
    fn issue_12_a_select_in_any_spelling_needs_partiql_select_on_its_table(
        lead in prop::option::of(gap()),
        select in keyword("select"),
        gaps in prop::collection::vec(gap(), 4),
        from in keyword("from"),
        name in prop::sample::select(vec!["Music", "Albums"]).prop_flat_map(|n| (Just(n), table(n))),
        tail in prop::sample::select(vec!["", " WHERE Artist = 1", " where a IN [1, 2]", ";"]),
    ) {
        let (name, typed_name) = name;
        let statement = format!(
            "{}{select}{}*{}{from}{}{typed_name}{tail}",
            lead.unwrap_or_default(), gaps[0], gaps[1], gaps[2]
        );
        let text = execute(&statement);
        let e = NONE.explain(&message_in("dev", &text));
        prop_assert_eq!(e.rule.as_deref(), Some("stored-data"), "{}: {:?}", text, e.reason);
        prop_assert!(e.reason.unwrap_or_default().contains("dynamodb:PartiQLSelect"));
        let e = MUSIC.explain(&message_in("dev", &text));
        if name == "Music" {
            prop_assert_eq!(e.decision, "run", "{}: {:?}", text, e.reason);
        } else {
            prop_assert_eq!(e.decision, "deny", "{}: {:?}", text, e.reason);
        }
        prop_assert_eq!(DYNAMODB.explain(&message_in("dev", &text)).decision, "run");
    }

    /// Issue 12: a write never runs, whatever a guardrail allows, however it is spelled, and
    /// whatever SELECT its comments hold.
    #[test]
    fn issue_12_a_partiql_write_never_runs(
        lead in prop::option::of(gap()),
        decoy in prop::sample::select(vec![
            "", "/* SELECT * FROM Music */ ", "-- SELECT * FROM Music\n", "--SELECT\n",
        ]),
        (verb, action) in prop::sample::select(vec![
            ("delete", "dynamodb:PartiQLDelete"),
            ("update", "dynamodb:PartiQLUpdate"),
            ("insert", "dynamodb:PartiQLInsert"),
        ]).prop_flat_map(|(verb, action)| (keyword(verb), Just(action))),
        gap in gap(),
        name in table("Music"),
    ) {
        let rest = match verb.to_ascii_lowercase().as_str() {
            "delete" => format!("FROM{gap}{name} WHERE Artist = 1"),
            "update" => format!("{name}{gap}SET a = 1"),
            _ => format!("INTO{gap}{name} VALUE {{}}"),
        };
        let statement = format!("{}{decoy}{verb}{gap}{rest}", lead.unwrap_or_default());
        let text = execute(&statement);
        for p in [&*NONE, &*MUSIC, &*DYNAMODB, &*EVERYTHING] {
            let e = p.explain(&message_in("dev", &text));
            prop_assert_eq!(e.decision, "deny", "{}: {:?}", text, e.reason);
            prop_assert_eq!(e.rule.as_deref(), Some("read-only"), "{}: {:?}", text, e.reason);
            prop_assert!(e.reason.unwrap_or_default().contains(action));
        }
    }

    /// Whatever precedes a statement's first word that isn't whitespace or a comment (a
    /// parenthesis, an invisible or look-alike character, a comment inside a comment), the
    /// bot can't be sure what the statement does: refused, with the reason.
    #[test]
    fn issue_12_a_statement_the_bot_cant_read_is_refused(
        junk in prop::sample::select(vec![
            "(", "\u{200B}", "\u{FEFF}", "\u{2028}", "\u{3000}", "/* /* */ ", "-- x\u{2028}", "EXISTS ",
            "ſ", "\u{FF33}ELECT ",
        ]),
        gap in gap(),
    ) {
        let text = execute(&format!("{junk}{gap}SELECT * FROM Music"));
        let e = DYNAMODB.explain(&message_in("dev", &text));
        prop_assert_eq!(e.decision, "deny", "{}: {:?}", text, e.reason);
        prop_assert_eq!(e.rule.as_deref(), Some("partiql-statement"), "{}: {:?}", text, e.reason);
    }
}

/// Issue 12, end to end against moto: a SELECT the guardrail allows returns the items; one of
/// another table, or a write, reaches no AWS API at all.
#[tokio::test]
async fn issue_12_execute_statement_runs_a_select_of_an_allowed_table_against_moto() {
    let emu = Emulator::start();
    seed::in_dev(
        &emu,
        r#"
ddb = client("dynamodb")
for name in ("Music", "Secrets"):
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
ddb.put_item(TableName="Music", Item={"Artist": {"S": "No One You Know"}, "SongTitle": {"S": "Call Me Today"}})
ddb.put_item(TableName="Secrets", Item={"Artist": {"S": "x"}, "Code": {"S": "hidden-4711"}})
"#,
    );
    let allowed = guardrail(
        r#"{"Effect": "Allow", "Action": "dynamodb:PartiQLSelect",
            "Resource": "arn:aws:dynamodb:us-east-1:111111111111:table/Music"}"#,
    );
    let p = pipeline(&emu, config_with(Some(allowed))).await;
    for statement in [
        "SELECT * FROM Music",
        "select SongTitle FROM \"Music\" WHERE Artist = 'No One You Know'",
    ] {
        let reply = say(
            &p,
            message_in(
                "dev",
                &format!(
                    "@aws dynamodb execute-statement --statement \"{}\"",
                    statement.replace('"', "\\\"")
                ),
            ),
        )
        .await;
        assert_eq!(reply.outcome, Outcome::Ok, "{statement}: {}", reply.text);
        assert!(
            reply.text.contains("Call Me Today"),
            "{statement}: {}",
            reply.text
        );
    }

    emu.start_recording();
    for statement in [
        "SELECT * FROM Secrets",
        "SELECT * FROM \"Music\".\"ByArtist\"",
        "DELETE FROM Music WHERE Artist = 'No One You Know'",
        "/* SELECT * FROM Music */ DELETE FROM Music WHERE Artist = 'No One You Know'",
        "EXISTS (SELECT * FROM Music)",
    ] {
        let reply = say(
            &p,
            message_in(
                "dev",
                &format!(
                    "@aws dynamodb execute-statement --statement \"{}\"",
                    statement.replace('"', "\\\"")
                ),
            ),
        )
        .await;
        assert_eq!(
            reply.outcome,
            Outcome::Refused,
            "{statement}: {}",
            reply.text
        );
        assert!(!reply.text.contains("hidden-4711"), "{}", reply.text);
    }
    assert_eq!(emu.recorded().len(), 0, "{:?}", emu.recorded());

    // Without the guardrail the channel sees no items, and is told what to allow.
    let p = pipeline(&emu, config_with(None)).await;
    let reply = say(
        &p,
        message_in(
            "dev",
            "@aws dynamodb execute-statement --statement 'SELECT * FROM Music'",
        ),
    )
    .await;
    assert_eq!(reply.outcome, Outcome::Refused, "{}", reply.text);
    assert!(
        reply.text.contains(r#""Action": "dynamodb:PartiQLSelect""#),
        "{}",
        reply.text
    );
    // The item is still there: the DELETEs above never ran.
    let items = seed::in_dev(
        &emu,
        r#"print(len(client("dynamodb").scan(TableName="Music")["Items"]))"#,
    );
    assert_eq!(items.trim(), "1");
}
