use super::*;
use serde_json::json;

fn request(text: &str) -> Request {
    match parse(text) {
        Ok(Parsed::Command(r)) => *r,
        other => panic!("{text}: {other:?}"),
    }
}

fn error(text: &str) -> String {
    match parse(text) {
        Err(e) => e.to_string(),
        other => panic!("{text}: expected an error, got {other:?}"),
    }
}

#[test]
fn every_operation_builds_a_valid_clap_command() {
    for service in Catalog::builtin().services() {
        for op in &service.operations {
            clap_command(service, op).debug_assert();
        }
    }
}

#[test]
fn abbreviated_options_as_the_aws_cli_takes_them() {
    let r = request("cloudwatch describe-alarms --state ALARM");
    assert_eq!(r.params.get("StateValue"), Some(&json!("ALARM")));
    let r = request("lambda list-functions --max 5");
    assert_eq!(r.paging.max_items, Some(5));
    let r = request("lambda list-functions -max-items 2");
    assert_eq!(r.paging.max_items, Some(2));
}

#[test]
fn simplified_form_fills_the_required_parameter() {
    let r = request("invoke my-fn --payload {\"a\": 1}");
    assert_eq!(r.service.service, "lambda");
    assert_eq!(r.operation.name, "invoke");
    assert_eq!(r.params.get("FunctionName"), Some(&json!("my-fn")));
    assert_eq!(r.params.get("Payload"), Some(&json!("{\"a\": 1}")));
    assert!(r.missing.is_empty());
}

#[test]
fn the_aws_cli_output_file_of_invoke_is_not_written() {
    let r = request("lambda invoke --function-name f --cli-binary-format raw-in-base64-out --payload '{}' response.json");
    assert_eq!(r.params.get("FunctionName"), Some(&json!("f")));
    assert!(r.notes[0].contains("response.json"), "{:?}", r.notes);
}

#[test]
fn missing_required_parameters_are_listed() {
    let r = request("lambda get-function");
    let missing: Vec<&str> = r.missing.iter().map(|m| m.cli_name.as_str()).collect();
    assert_eq!(missing, ["function-name"]);
}

#[test]
fn shorthand_and_json_values() {
    let r = request(
        "cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name Errors \
         --dimensions Name=FunctionName,Value=myHelloWorld --start-time 2024-01-01 \
         --end-time 2024-01-02T00:00:00Z --period 60 --statistics Sum Average",
    );
    assert_eq!(
        r.params.get("Dimensions"),
        Some(&json!([{"Name": "FunctionName", "Value": "myHelloWorld"}]))
    );
    assert_eq!(r.params.get("Period"), Some(&json!(60)));
    assert_eq!(r.params.get("Statistics"), Some(&json!(["Sum", "Average"])));
    let r = request(
        "cloudwatch get-metric-statistics --namespace N --metric-name M --start-time 0 --end-time 1 \
         --period 60 --dimensions [{\"Name\": \"A\", \"Value\": \"b\"}]",
    );
    assert_eq!(
        r.params.get("Dimensions"),
        Some(&json!([{"Name": "A", "Value": "b"}]))
    );
}

#[test]
fn booleans_take_no_and_yes_forms() {
    let r = request("support describe-cases --include-resolved-cases");
    assert_eq!(r.params.get("includeResolvedCases"), Some(&json!(true)));
    let r = request("support describe-cases --no-include-resolved-cases");
    assert_eq!(r.params.get("includeResolvedCases"), Some(&json!(false)));
}

#[test]
fn global_options() {
    let r = request(
        "lambda list-functions --region eu-west-1 --output json --query Functions[].FunctionName",
    );
    assert_eq!(r.region.as_deref(), Some("eu-west-1"));
    assert_eq!(r.output, Output::Json);
    assert_eq!(r.query.as_deref(), Some("Functions[].FunctionName"));
    assert!(error("lambda list-functions --region eu-west-9").contains("not an AWS region"));
    assert!(error("lambda list-functions --output xml").contains("json, yaml, text or table"));
    assert!(error("lambda list-functions --query 'Functions[.'").starts_with("Invalid --query"));
}

#[test]
fn refused_options_and_file_values_are_recorded_for_the_guard() {
    let r = request("lambda list-functions --endpoint-url http://evil --profile x");
    assert_eq!(r.refused_options, ["--endpoint-url", "--profile"]);
    let r = request("lambda invoke --function-name f --payload file://secret.json");
    assert_eq!(r.file_values, ["file://secret.json"]);
}

#[test]
fn unknown_names_suggest_the_closest() {
    assert_eq!(
        error("lamda list-functions"),
        format!(
            "Unknown service `lamda`. Did you mean `lambda`? `@aws --help` lists the {} services.",
            Catalog::builtin().entries().len()
        )
    );
    assert!(error("ec3 describe-instances").contains("Did you mean `ec2`?"));
    assert!(error("elbv3 describe-load-balancers").contains("Did you mean `elbv2`?"));
    assert!(error("s3apj list-buckets").contains("Did you mean `s3api`?"));
    assert!(error("ec2 describe-instance").contains("Did you mean `describe-instances`?"));
    assert!(error("lambda list-functon").contains("Did you mean `list-functions`?"));
    assert!(
        error("lambda list-functions --mster-region x").contains("Did you mean `--master-region`?")
    );
    assert!(error("lambda list-functions --ma 1").contains("could mean"));
}

#[test]
fn unsupported_services_go_to_the_guard() {
    // Every service of the AWS CLI parses; a name far from all of them goes to the guard.
    assert!(matches!(
        parse("ec2 get-password-data --instance-id i-1"),
        Ok(Parsed::Command(_))
    ));
    match parse("qqqq get-things --thing-id i-1").unwrap() {
        Parsed::Unsupported { service, operation } => {
            assert_eq!(service, "qqqq");
            assert_eq!(operation.as_deref(), Some("get-things"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn chained_commands_and_lookalikes_are_refusals() {
    for text in [
        "lambda list-functions; lambda delete-function --function-name x",
        "lambda list-functions && x",
        "lambda list-functions | x",
        "lambda list-functions `id`",
        "lambda list-functions $(id)",
        "lambda list-functions\nlambda delete-function --function-name x",
    ] {
        let err = parse(text).unwrap_err();
        assert!(err.is_refusal(), "{text}: {err}");
    }
    let err = parse("l\u{0430}mbda list-functions").unwrap_err();
    assert!(
        err.is_refusal() && err.to_string().contains("U+0430"),
        "{err}"
    );
    let err = parse("lambda list\u{200B}-functions").unwrap_err();
    assert!(err.is_refusal(), "{err}");
}

#[test]
fn help_at_every_level() {
    for text in [
        "--help",
        "help",
        "lambda --help",
        "lambda",
        "lambda invoke --help",
        "cloudwatch describe-alarms help",
    ] {
        assert!(matches!(parse(text), Ok(Parsed::Help(_))), "{text}");
    }
    let Ok(Parsed::Help(h)) = parse("cloudwatch describe-alarms --help") else {
        panic!()
    };
    assert!(h.contains("--state-value"), "{h}");
    assert!(h.contains("OK | ALARM | INSUFFICIENT_DATA"), "{h}");
}

#[test]
fn help_across_every_service() {
    let help = |text: &str| match parse(text) {
        Ok(Parsed::Help(h)) => h,
        other => panic!("{text}: {other:?}"),
    };
    // The top lists every service by the AWS CLI's name.
    let top = help("--help");
    for entry in Catalog::builtin().entries() {
        assert!(
            top.contains(&format!(" {},", entry.service))
                || top.contains(&format!("\n{},", entry.service))
                || top.ends_with(&entry.service)
                || top.contains(&format!(" {}\n", entry.service)),
            "{}",
            entry.service
        );
    }
    // A service's help fits a chat message even for ec2 (hundreds of commands).
    for service in ["ec2", "s3api", "elbv2", "logs", "runtime.sagemaker"] {
        let h = help(&format!("{service} --help"));
        assert!(h.len() < 12_000, "{service}: {} characters", h.len());
    }
    let ec2 = help("ec2 --help");
    assert!(ec2.contains("describe-instances"), "{ec2}");
    assert!(
        ec2.contains("commands that change resources (refused here"),
        "{ec2}"
    );
    // Options of a command of a new service, and of the high-level s3 commands.
    let h = help("ecs list-services --help");
    assert!(h.contains("--cluster"), "{h}");
    let s3 = help("s3 --help");
    assert!(
        s3.contains("s3 ls: For the buckets, `@aws s3api list-buckets`"),
        "{s3}"
    );
    assert!(s3.contains("s3 presign"), "{s3}");
    assert_eq!(help("s3"), s3);
}

#[test]
fn command_line_round_trips() {
    let r = request("invoke my-fn --payload {\"a\": \"b c\"}");
    assert_eq!(
        r.command_line(),
        "lambda invoke --function-name my-fn --payload {\"a\": \"b c\"}"
    );
    let again = request(&r.command_line());
    assert_eq!(again.params, r.params);
}

#[test]
fn bad_values_say_where() {
    let err = error("invoke f --payload {\"a\": 1 \"b\": 2}");
    assert!(err.contains("invalid JSON"), "{err}");
    let err = error("cloudwatch describe-alarms --max-records abc");
    assert!(
        err.contains("--max-records") || err.contains("has no option"),
        "{err}"
    );
    let err = error("x 'unclosed");
    assert!(err.contains("never closed"), "{err}");
}

proptest::proptest! {
    #[test]
    fn no_message_makes_it_panic(text in "\\PC{0,80}") {
        let _ = parse(&crate::normalize::normalize(&text));
    }

    #[test]
    fn no_option_soup_makes_it_panic(
        op in proptest::sample::select(vec!["lambda invoke", "cloudwatch describe-alarms", "support create-case", "lambda list-functions"]),
        args in proptest::collection::vec("(--?[a-z-]{1,12}|[a-zA-Z0-9=,{}\\[\\]\":]{0,12})", 0..8),
    ) {
        let _ = parse(&format!("{op} {}", args.join(" ")));
    }
}

/// Issue 9: the paging members the AWS CLI hides but takes are taken, sent as typed, and
/// turn automatic paging off, as in the AWS CLI.
#[test]
fn issue_9_hidden_paging_members_are_taken() {
    let r = request("cloudwatch describe-alarms --max-records 5 --next-token abc");
    assert_eq!(r.params["MaxRecords"], 5);
    assert_eq!(r.params["NextToken"], "abc");
    assert!(!r.paging.paginate);
    let r = request("lambda list-functions --marker m");
    assert_eq!(r.params["Marker"], "m");
    assert!(!r.paging.paginate);
    // Lambda's own MaxItems stays shadowed by the AWS CLI's --max-items.
    let r = request("lambda list-functions --max-items 3");
    assert_eq!(r.paging.max_items, Some(3));
    assert!(r.params.get("MaxItems").is_none());
    assert!(r.paging.paginate);
    let r = request("cloudwatch describe-alarms");
    assert!(r.paging.paginate && r.params.is_empty());
    // Hidden, as in the AWS CLI's help.
    let Ok(Parsed::Help(h)) = parse("cloudwatch describe-alarms --help") else {
        panic!()
    };
    assert!(
        !h.contains("--next-token") && !h.contains("--max-records"),
        "{h}"
    );
    let err = error("cloudwatch describe-alarms --max-records many");
    assert!(err.contains("--max-records"), "{err}");
}

/// Issue 9: backtick literals the AWS CLI (jmespath.py) reads as strings work here too.
#[test]
fn issue_9_legacy_jmespath_literals() {
    use super::legacy_literals;
    let cases = [
        (
            "Functions[?Runtime==`nodejs18.x`]",
            r#"Functions[?Runtime==`"nodejs18.x"`]"#,
        ),
        ("a[?b==`python3.12`].c", r#"a[?b==`"python3.12"`].c"#),
        ("a[?b==`1`]", "a[?b==`1`]"),
        (r#"a[?b==`"x"`]"#, r#"a[?b==`"x"`]"#),
        ("a[?b==`true`]", "a[?b==`true`]"),
        ("a[?b==`[1, 2]`]", "a[?b==`[1, 2]`]"),
        ("a[?b==` spaced`]", r#"a[?b==`"spaced"`]"#),
        ("a[?b=='`raw`']", "a[?b=='`raw`']"),
        ("a[?b==`unclosed", "a[?b==`unclosed"),
        (r"a[?b==`x\`y`]", r#"a[?b==`"x\`y"`]"#),
    ];
    for (query, expected) in cases {
        assert_eq!(legacy_literals(query), expected, "{query}");
    }
    let r =
        request("lambda list-functions --query 'Functions[?Runtime==`nodejs18.x`].FunctionName'");
    assert_eq!(
        r.query.as_deref(),
        Some(r#"Functions[?Runtime==`"nodejs18.x"`].FunctionName"#)
    );
}

/// Issue 9: values the AWS CLI would read as a file or fetch as a URL are refused the same
/// way wherever they are given.
#[test]
fn file_and_url_values_are_recorded_for_every_option_and_spelling() {
    let dims = "cloudwatch describe-alarms-for-metric --metric-name M --namespace N --dimensions";
    let cases = [
        "lambda invoke --function-name f --payload file://x".to_owned(),
        "lambda invoke --function-name f --payload FILEB://x".into(),
        "lambda get-function --function-name https://evil/x".into(),
        "lambda get-function --function-name ' HTTP://evil'".into(),
        "lambda get-function --function-name \"Https://x\"".into(),
        "lambda get-function http://x".into(),
        "lambda list-functions --starting-token https://x".into(),
        "lambda list-functions --query file://q.txt".into(),
        "lambda list-functions --max-items file://n".into(),
        "lambda list-functions --page-size http://n".into(),
        "lambda list-functions --region http://x".into(),
        "lambda list-functions --output file://x".into(),
        "lambda list-functions --cli-read-timeout https://x".into(),
        "lambda list-functions --cli-connect-timeout fileb://x".into(),
        "lambda list-functions --cli-binary-format file://x".into(),
        "lambda list-functions --color http://x".into(),
        "lambda list-functions --cli-input-json file://in.json".into(),
        "lambda list-functions --endpoint-url http://evil".into(),
        format!("{dims} Name=a,Value=file://x"),
        format!("{dims} Name=a,Value@=file://x"),
        format!("{dims} \"Name=a,Value='https://x'\""),
        format!("{dims} Name=a,Value=\"HTTP://x\""),
        format!("{dims} Name=a,Value=x Name=b,Value=fileb://y"),
        format!("{dims} '[{{\"Name\":\"a\",\"Value\":\"fileb://x\"}}]'"),
        format!("{dims} [{{\"Name\":\"a\",\"Value\":\"https://x\"}}]"),
        // A value that would not parse anyway is still refused as a file, not as a typo.
        format!("{dims} Nme=a,Value=file://x"),
        "cloudwatch describe-alarms --alarm-names ok file://x".into(),
        "cloudwatch describe-alarms --alarm-names '[\"ok\",\"http://x\"]'".into(),
        "cloudwatch get-metric-statistics --namespace N --metric-name M --start-time file://t \
         --end-time 1 --period 60"
            .into(),
    ];
    for text in &cases {
        let r = request(text);
        assert!(!r.file_values.is_empty(), "{text}: {r:?}");
    }
    // Text that merely mentions a URL is a value like any other.
    for text in [
        "support create-case --subject s --communication-body 'see https://example.com'",
        "lambda invoke --function-name f --payload '{\"url\": \"https://example.com\"}'",
        "lambda get-function --function-name file",
    ] {
        let r = request(text);
        assert!(r.file_values.is_empty(), "{text}: {r:?}");
    }
    // What the refusal quotes is cut short.
    let long = format!(
        "lambda get-function --function-name file://{}",
        "a".repeat(5_000)
    );
    assert!(request(&long).file_values[0].chars().count() <= 101);
}

proptest::proptest! {
    /// Any capitalisation of any prefix, after any spaces or quotes, in any position.
    #[test]
    fn a_file_or_url_value_never_parses_into_a_runnable_request(
        prefix in proptest::sample::select(vec!["file://", "fileb://", "http://", "https://"]),
        upper in proptest::collection::vec(proptest::bool::ANY, 8),
        lead in proptest::sample::select(vec!["", " ", "'", "\"", " '"]),
        template in proptest::sample::select(vec![
            "lambda get-function --function-name {}",
            "lambda get-function {}",
            "lambda list-functions --starting-token {}",
            "lambda list-functions --query {}",
            "lambda list-functions --region {}",
            "lambda list-functions --cli-read-timeout {}",
            "lambda list-functions --max-items {}",
            "cloudwatch describe-alarms --alarm-names a {}",
            "cloudwatch describe-alarms-for-metric --metric-name M --namespace N --dimensions Name=a,Value={}",
            "cloudwatch describe-alarms-for-metric --metric-name M --namespace N --dimensions Name=a,Value@={}",
            "cloudwatch describe-alarms-for-metric --metric-name M --namespace N --dimensions '[{\"Name\":\"a\",\"Value\":\"{}\"}]'",
        ]),
    ) {
        let spelled: String = prefix
            .chars()
            .zip(upper.iter().cycle())
            .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
            .collect();
        let value = format!("{spelled}x/y");
        // The lead goes inside shell quotes so it reaches the value.
        let value = match lead {
            "" => value,
            lead => format!("\"{}{value}\"", lead.replace('"', "\\\"")),
        };
        let text = template.replace("{}", &value);
        match parse(&text) {
            Ok(Parsed::Command(r)) => {
                proptest::prop_assert!(!r.file_values.is_empty(), "{text}: {r:?}")
            }
            // Unquoted, every template parses: the property is not decided by errors.
            other => proptest::prop_assert!(!lead.is_empty(), "{text}: {other:?}"),
        }
    }
}
