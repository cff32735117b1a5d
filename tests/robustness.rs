//! No message makes the bot panic, whatever it holds: every stage up to AWS, via `explain`.

mod support;

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
