use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::parse::{self, Output, Parsed};

fn words(text: &str) -> Vec<String> {
    tokens::tokenize(text)
        .unwrap()
        .into_iter()
        .map(|t| match t {
            Token::Word(w) => w,
            Token::Operator(o) => panic!("operator {o} in {text}"),
        })
        .collect()
}

fn with<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn parameters_are_read_in_order_of_first_use() {
    let t = Template::parse(
        "logs start-query --log-group-name /aws/lambda/$fn --start-time $from --end-time $to --query-string 'fields $fn'",
    )
    .unwrap();
    assert_eq!(t.params(), ["fn", "from", "to"]);
    // `$` without a name is itself; `$(` is refused as it is in a command.
    assert_eq!(
        Template::parse("x --a $ --b $-1").unwrap().params(),
        Vec::<&str>::new()
    );
    assert!(matches!(
        Template::parse("x --a $(id)"),
        Err(TemplateError::Chained { .. })
    ));
}

#[test]
fn templates_that_cannot_be_kept_are_refused_with_the_reason() {
    for (text, expected) in [
        ("", "the command is empty"),
        (
            "lambda list-functions; rm x",
            "`;` would chain a second command",
        ),
        (
            "lambda get-function --$opt x",
            "`--$opt`: a parameter stands for a value",
        ),
        (
            "lambda get-function --a$b=1",
            "a parameter stands for a value",
        ),
        ("x 'unclosed", "the command can't be read"),
    ] {
        let e = Template::parse(text).unwrap_err().to_string();
        assert!(e.contains(expected), "{text}: {e}");
    }
    let long = format!("x --a {}", "y".repeat(MAX_TEMPLATE_CHARS));
    assert!(matches!(
        Template::parse(&long),
        Err(TemplateError::TooLong { .. })
    ));
    let many: String = (0..=MAX_PARAMS).map(|i| format!(" --o{i} $p{i}")).collect();
    assert!(matches!(
        Template::parse(&format!("x{many}")),
        Err(TemplateError::TooManyParams { count: 11 })
    ));
}

#[test]
fn filling_in_keeps_each_value_one_word() {
    let t = Template::parse("lambda get-function --function-name $fn --qualifier $q").unwrap();
    let text = t
        .fill(with(&[("fn", "my fn --region x"), ("q", "1")]))
        .unwrap();
    assert_eq!(
        text,
        "lambda get-function --function-name 'my fn --region x' --qualifier 1"
    );
    // A value starting with `-` is attached to its option.
    let text = t.fill(with(&[("fn", "--region"), ("q", "-1")])).unwrap();
    assert_eq!(
        words(&text),
        [
            "lambda",
            "get-function",
            "--function-name=--region",
            "--qualifier=-1"
        ]
    );
    // The parser reads it as the option's value, not as `--region`.
    let Ok(Parsed::Command(request)) = parse::parse(&text) else {
        panic!("{text} parses")
    };
    assert_eq!(request.params["FunctionName"], "--region");
    assert_eq!(request.params["Qualifier"], "-1");
    assert_eq!(request.region, None);
    // Quotes in a value stay in the value.
    let text = t.fill(with(&[("fn", "it's"), ("q", "\"a\"")])).unwrap();
    assert_eq!(words(&text)[3], "it's");
    assert_eq!(words(&text)[5], "\"a\"");
}

#[test]
fn a_missing_value_drops_its_option_so_the_pipeline_asks_for_it() {
    let t = Template::parse("lambda get-function --function-name $fn --qualifier=$q").unwrap();
    assert_eq!(t.fill(with(&[])).unwrap(), "lambda get-function");
    // Part of a word, alone after its option: dropped too.
    let t = Template::parse("logs tail --log-group-name /aws/lambda/$fn --since 1h").unwrap();
    assert_eq!(t.fill(with(&[])).unwrap(), "logs tail --since 1h");
    // One of several values, or a positional word: no option to drop.
    let t = Template::parse("x --names a $b").unwrap();
    assert_eq!(
        t.fill(with(&[])),
        Err(TemplateError::Missing { name: "b".into() })
    );
    let t = Template::parse("lambda invoke $fn").unwrap();
    assert!(matches!(
        t.fill(with(&[])),
        Err(TemplateError::Missing { .. })
    ));
}

#[test]
fn a_value_inside_a_word_holds_plain_characters_only() {
    let t = Template::parse(
        "cloudwatch get-metric-statistics --dimensions Name=FunctionName,Value=$fn",
    )
    .unwrap();
    assert!(t.fill(with(&[("fn", "my-fn:prod")])).is_ok());
    for hostile in ["a,Name=Other,Value=x", "a b", "{\"x\":1}", "a=b", "a'b"] {
        assert!(
            matches!(
                t.fill(with(&[("fn", hostile)])),
                Err(TemplateError::NotPlain { .. })
            ),
            "{hostile}"
        );
    }
    // A value starting with `-` in a positional word is refused.
    let t = Template::parse("lambda invoke $fn").unwrap();
    assert!(matches!(
        t.fill(with(&[("fn", "--payload")])),
        Err(TemplateError::LeadingDash { .. })
    ));
}

/// Whatever characters a value holds: anything printable, quotes, backslashes, operators,
/// dashes, options of the AWS CLI, new lines, look-alikes.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::collection::vec(
        prop_oneof![
            Just("--region".to_owned()),
            Just("--query".to_owned()),
            Just("--output".to_owned()),
            Just("--endpoint-url".to_owned()),
            Just("--".to_owned()),
            Just("-".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("'".to_owned()),
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            Just("'\\''".to_owned()),
            Just("$(id)".to_owned()),
            Just("`id`".to_owned()),
            Just(";".to_owned()),
            Just("|".to_owned()),
            Just("&&".to_owned()),
            Just("{".to_owned()),
            Just("[".to_owned()),
            Just("=".to_owned()),
            Just(",".to_owned()),
            Just("\u{2014}".to_owned()),
            Just("\u{201C}".to_owned()),
            "[a-zA-Z0-9]{1,6}",
            any::<char>().prop_map(|c| c.to_string()),
        ],
        0..8,
    );
    pieces.prop_map(|p| p.concat())
}

proptest! {
    #[test]
    fn a_value_never_becomes_more_than_its_one_argument(value in hostile(), other in hostile()) {
        let t = Template::parse("lambda get-function --function-name $fn --qualifier $q").unwrap();
        let text = t.fill(with(&[("fn", &value), ("q", &other)])).unwrap();
        // The command line reads back as exactly the words filled in.
        let filled = t.fill_words(with(&[("fn", &value), ("q", &other)])).unwrap();
        prop_assert_eq!(words(&text), filled.clone());
        // Each value is its option's one word, or attached to it when it starts with `-`.
        let width = |v: &str| if v.starts_with('-') { 1 } else { 2 };
        prop_assert_eq!(filled.len(), 2 + width(&value) + width(&other));
        // And the parser sees one FunctionName and one Qualifier, nothing else: no region,
        // no output, no query, no other member.
        if let Ok(Parsed::Command(request)) = parse::parse(&text) {
            let keys: Vec<&String> = request.params.keys().collect();
            prop_assert!(keys.iter().all(|k| *k == "FunctionName" || *k == "Qualifier"), "{:?}", keys);
            prop_assert_eq!(request.params.get("FunctionName"), Some(&Value::String(value.clone())));
            prop_assert_eq!(request.params.get("Qualifier"), Some(&Value::String(other.clone())));
            prop_assert_eq!(request.region, None);
            prop_assert_eq!(request.output, Output::Chat);
            prop_assert_eq!(request.query, None);
        }
    }

    #[test]
    fn a_value_inside_a_word_is_plain_or_refused(value in hostile()) {
        let t = Template::parse("logs start-query --log-group-name /aws/lambda/$fn --query-string x --start-time 1 --end-time 2").unwrap();
        match t.fill_words(with(&[("fn", &value)])) {
            Ok(filled) => {
                prop_assert!(value.chars().all(is_plain_in_word));
                prop_assert_eq!(&filled[3], &format!("/aws/lambda/{value}"));
                prop_assert_eq!(words(&command_line(&filled)), filled);
            }
            Err(e) => prop_assert!(matches!(e, TemplateError::NotPlain { .. } | TemplateError::ValueTooLong { .. }), "{e}"),
        }
    }

    #[test]
    fn any_word_reads_back_as_itself(word in hostile()) {
        prop_assert_eq!(words(&quote(&word)), vec![word]);
    }
}
