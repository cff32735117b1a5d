//! Lambda function names, resolved the way Lambda resolves them, so a guardrail on
//! `function:prod-db` holds however the function is named: `prod-db`, `prod-db:PROD`,
//! `111111111111:function:prod-db`, the full ARN, with or without `--qualifier`.
//!
//! This is Lambda's own rule, not a guess: the forms are those of the `FunctionName` members'
//! pattern in the Lambda API model (`NamespacedFunctionName`; a test checks the model still
//! has it), so code per service is justified here.

use std::sync::LazyLock;

use regex::Regex;

/// The Lambda API model's `NamespacedFunctionName` pattern, anchored, with its groups named.
/// Lambda accepts exactly these forms; anything else it refuses, and so does the guard.
static FUNCTION_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?",
        r"(?:(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?",
        r"(?:(?P<account>\d{12}):)?",
        r"(?:function:)?",
        r"(?P<name>[a-zA-Z0-9_.-]+)",
        r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?$",
    ))
    .expect("the function name pattern compiles")
});

/// The model's pattern, as `commands/lambda.json` carries it; the test below keeps the two
/// in step.
#[cfg(test)]
const MODEL_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";

/// A function as a `FunctionName` value names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub partition: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub name: String,
    pub qualifier: Option<String>,
}

impl FunctionRef {
    /// `None` when Lambda would not accept the value as a function name.
    pub fn parse(value: &str) -> Option<FunctionRef> {
        let caps = FUNCTION_NAME.captures(value)?;
        let text = |group: &str| caps.name(group).map(|m| m.as_str().to_owned());
        // `us-east-1:my-fn` without an account is not a form Lambda documents; the pattern
        // admits it, but then `us-east-1` could as well be a name. Refuse the ambiguity.
        if caps.name("region").is_some() && caps.name("account").is_none() {
            return None;
        }
        Some(FunctionRef {
            partition: text("partition"),
            region: text("region"),
            account: text("account"),
            name: text("name")?,
            qualifier: text("qualifier"),
        })
    }

    /// The function's ARN, qualified or not, completing what the value left out with the
    /// channel's partition, region and account.
    pub fn arn(
        &self,
        partition: &str,
        region: &str,
        account: &str,
        qualifier: Option<&str>,
    ) -> String {
        let mut arn = format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition.as_deref().unwrap_or(partition),
            self.region.as_deref().unwrap_or(region),
            self.account.as_deref().unwrap_or(account),
            self.name
        );
        if let Some(q) = qualifier {
            arn.push(':');
            arn.push_str(q);
        }
        arn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(value: &str) -> Option<(Option<&'static str>, String, Option<String>)> {
        FunctionRef::parse(value).map(|r| {
            (
                r.account
                    .map(|a| if a == "111111111111" { "111" } else { "other" }),
                r.name,
                r.qualifier,
            )
        })
    }

    #[test]
    fn every_form_lambda_accepts() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(f("prod-db"), Some((None, "prod-db".into(), None)));
        assert_eq!(
            f("prod-db:PROD"),
            Some((None, "prod-db".into(), some("PROD")))
        );
        assert_eq!(
            f("prod-db:$LATEST"),
            Some((None, "prod-db".into(), some("$LATEST")))
        );
        assert_eq!(f("prod-db:7"), Some((None, "prod-db".into(), some("7"))));
        assert_eq!(
            f("111111111111:function:prod-db"),
            Some((Some("111"), "prod-db".into(), None))
        );
        assert_eq!(
            f("111111111111:function:prod-db:PROD"),
            Some((Some("111"), "prod-db".into(), some("PROD")))
        );
        assert_eq!(
            f("arn:aws:lambda:eu-west-1:222222222222:function:prod-db:3"),
            Some((Some("other"), "prod-db".into(), some("3")))
        );
        let r = FunctionRef::parse("arn:aws-cn:lambda:cn-north-1:111111111111:function:x").unwrap();
        assert_eq!(
            r.arn("aws", "us-east-1", "999999999999", None),
            "arn:aws-cn:lambda:cn-north-1:111111111111:function:x"
        );
        let r = FunctionRef::parse("x").unwrap();
        assert_eq!(
            r.arn("aws-us-gov", "us-gov-west-1", "111111111111", Some("PROD")),
            "arn:aws-us-gov:lambda:us-gov-west-1:111111111111:function:x:PROD"
        );
    }

    #[test]
    fn what_lambda_refuses_is_not_a_function() {
        for value in [
            "",
            "prod*",
            "prod db",
            "a:b:c",
            "arn:aws:lambda:us-east-1:111:function:x",
            "arn:aws:s3:::bucket",
            "us-east-1:prod-db",
            "111111111111:function:",
            "prod-db:PROD:extra",
        ] {
            assert_eq!(FunctionRef::parse(value), None, "{value}");
        }
    }

    #[test]
    fn the_pattern_is_still_the_models() {
        let model = crate::catalog::service_json("lambda");
        assert_eq!(
            model["shapes"]["NamespacedFunctionName"]["string"]["pattern"].as_str(),
            Some(MODEL_PATTERN),
            "Lambda's function name pattern changed: update FUNCTION_NAME"
        );
        let invoke_member = model["shapes"]["InvocationRequest"]["structure"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "FunctionName")
            .unwrap()
            .clone();
        assert_eq!(invoke_member["shape"], "NamespacedFunctionName");
    }

    proptest::proptest! {
        /// Whatever Lambda's (unanchored-in-the-model, anchored-here) pattern accepts, we
        /// parse, and the ARN we build names the same function.
        #[test]
        fn round_trips_through_the_arn(
            name in "[a-z][a-zA-Z0-9_.-]{0,19}",
            qualifier in proptest::option::of("[a-zA-Z0-9_-]{1,8}"),
            form in 0usize..3,
        ) {
            // `function:x` reads as the function `x`, in Lambda as here.
            proptest::prop_assume!(name != "function");
            let base = match form {
                0 => name.clone(),
                1 => format!("111111111111:function:{name}"),
                _ => format!("arn:aws:lambda:us-east-1:111111111111:function:{name}"),
            };
            let value = match &qualifier { Some(q) => format!("{base}:{q}"), None => base };
            let r = FunctionRef::parse(&value).expect("a valid function name parses");
            proptest::prop_assert_eq!(&r.name, &name);
            proptest::prop_assert_eq!(&r.qualifier, &qualifier);
            let arn = r.arn("aws", "us-east-1", "111111111111", r.qualifier.as_deref());
            proptest::prop_assert_eq!(FunctionRef::parse(&arn), Some(FunctionRef {
                partition: Some("aws".into()),
                region: Some("us-east-1".into()),
                account: Some("111111111111".into()),
                name,
                qualifier,
            }));
        }
    }
}
