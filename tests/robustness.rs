//! No message makes the bot panic, whatever it holds: every stage up to AWS, via `explain`.

use crate::support;

use std::sync::Arc;

use aws_chatops::execute::Executor;
use aws_chatops::pipeline::Pipeline;
use proptest::prelude::*;
use support::{demo_config, message_in};

static PIPELINE: std::sync::LazyLock<Pipeline> = std::sync::LazyLock::new(|| {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    Pipeline::new(Arc::new(demo_config()), Arc::new(Executor::new(&sdk))).unwrap()
});

fn pipeline() -> &'static Pipeline {
    &PIPELINE
}

const DECISIONS: [&str; 6] = ["run", "confirm", "prompt", "help", "deny", "error"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_gets_a_decision(text in "\\PC{0,120}") {
        let p = pipeline();
        let e = p.explain(&message_in("dev", &text));
        prop_assert!(DECISIONS.contains(&e.decision));
    }

    #[test]
    fn command_shaped_text_gets_a_decision(
        service in prop::sample::select(vec!["lambda", "cloudwatch", "support", "invoke", "iam", "ec2", "@aws lambda"]),
        op in prop::sample::select(vec!["list-functions", "invoke", "describe-alarms", "get-metric-data", "create-case", "x"]),
        args in prop::collection::vec(
            "(—|–|-|--)[a-z-]{1,14}|[A-Za-z0-9=,{}\\[\\]\":'“”<>|&;` ]{0,16}|\\{\"[a-z]{1,5}\": [0-9]{1,3}\\}",
            0..6,
        ),
    ) {
        let p = pipeline();
        let e = p.explain(&message_in("dev", &format!("{service} {op} {}", args.join(" "))));
        prop_assert!(DECISIONS.contains(&e.decision));
        if e.decision == "run" || e.decision == "confirm" {
            prop_assert!(e.service.as_deref() != Some("iam"));
        }
    }
}

/// Issue 9: a line of invalid UTF-8 used to end the shell silently.
#[test]
fn issue_9_the_shell_says_a_line_is_not_utf8_and_reads_on() {
    use std::io::Write;
    let mut child = std::process::Command::new(support::bin())
        .args(["shell", "--config"])
        .arg(support::root().join("fixtures/config/demo.toml"))
        .args(["--channel", "C0DEMO", "--user", "U0DEMO"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"@aws lambda \xff\xfe list-functions\n@aws lambda --help\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("the shell writes UTF-8");
    assert!(
        text.contains("That line is not UTF-8 text (byte 0xff at position 12)"),
        "{text}"
    );
    assert!(text.contains("list-functions"), "{text}");
    assert!(
        text.contains("invoke"),
        "the help after the bad line: {text}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Issue 9: nesting and repetition of any depth, in every place a recursive parser
    /// reads (the query, shorthand, JSON, the tokenizer), is refused, never a stack overflow.
    #[test]
    fn deep_nesting_anywhere_is_an_error_not_a_crash(
        unit in prop::sample::select(vec![
            "!", "[", "(", "{a:", ".a", "|a", "&", "A={", "[{", "{\"a\":", "[[", "A=[", "'",
        ]),
        place in prop::sample::select(vec![
            "lambda list-functions --query a{}",
            "lambda list-functions --query '{}'",
            "cloudwatch describe-alarms-for-metric --metric-name M --namespace N --dimensions {}",
            "cloudwatch describe-alarms-for-metric --metric-name M --namespace N --dimensions Name=a,Value={}",
            "lambda invoke --function-name f --payload {}",
            "{}",
        ]),
        depth in 100usize..13_000,
    ) {
        let text = place.replace("{}", &unit.repeat(depth));
        let e = pipeline().explain(&message_in("dev", &text));
        prop_assert!(DECISIONS.contains(&e.decision));
        // A Lambda payload is text to the bot unless it starts like JSON (`A=[[[` is text).
        let payload_text = place.contains("--payload") && !unit.starts_with(['{', '[']);
        // An even run of quotes is a run of empty strings, which a shell (and the AWS CLI)
        // joins to what stands before them: `a` then four quotes is the valid query `a`.
        let balanced_quotes = unit == "'" && depth % 2 == 0;
        // In a shorthand value `(`, `!`, `.a`, `A=[` and `A={` are plain characters: the AWS
        // CLI sends `Value=((((` and `Value=A=[A=[` as they are (its ShorthandParser), and
        // only the model's limit (a DimensionValue is at most 1,024 characters) refuses a
        // longer one.
        let plain_value = place.ends_with("Value={}")
            && ["(", "!", ".a", "A=[", "A={"].contains(&unit)
            && unit.len() * depth <= 1024;
        if !payload_text && !balanced_quotes && !plain_value {
            // Refused as invalid, or as a chained command (`|`, `&` outside quotes).
            prop_assert!(
                e.decision == "error" || e.decision == "deny",
                "{}: {:?}",
                e.decision,
                e.reason
            );
        }
    }
}
