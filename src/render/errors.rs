//! AWS errors as chat text people can act on: who was refused what where, and what was
//! already tried. (A name that doesn't exist is offered the closest existing names by the
//! conversation, which can look them up.)

use crate::execute::{is_throttling, ExecError};

/// What the reply knows about the command that failed.
#[derive(Debug, Clone)]
pub struct Failed<'a> {
    /// The IAM actions the command needs (`lambda:ListFunctions`).
    pub actions: Vec<&'a str>,
    /// `dev (111111111111)`
    pub account: String,
    pub region: &'a str,
}

/// Whether an AWS error code says the caller may not do this.
pub fn is_access_denied(code: &str) -> bool {
    let lower = code.to_ascii_lowercase();
    lower.contains("accessdenied")
        || lower.contains("unauthorized")
        || lower == "authorizationerror"
}

/// Whether an AWS error code says the named resource doesn't exist.
pub fn is_not_found(code: &str) -> bool {
    code.ends_with("NotFoundException")
        || code.ends_with("NotFound")
        || code == "ResourceNotFound"
        || code == "CaseIdNotFound"
}

/// The text of an AWS error in chat.
pub fn aws_error(error: &ExecError, failed: &Failed) -> String {
    let ExecError::Service {
        code,
        message,
        role,
        retries,
        ..
    } = error
    else {
        return error.to_string();
    };
    let actions = match failed.actions.as_slice() {
        [] => "this".to_owned(),
        some => some
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(" and "),
    };
    if is_access_denied(code) {
        return format!(
            "{code}: {message}\nThe channel's role `{role}` in account {} may not call {actions} in {}. An administrator can allow it in that role's IAM policy (or its permissions boundary or an SCP is what refuses it).",
            failed.account, failed.region
        );
    }
    if is_throttling(code) {
        let tried = match retries {
            0 => "without retrying (the retry quota was used up by other commands)".to_owned(),
            1 => "after retrying once with backoff".to_owned(),
            n => format!("after retrying {n} times with backoff"),
        };
        return format!(
            "{code}: {message}\nAWS is throttling {actions} in account {}; I gave up {tried}. Try again in a minute.",
            failed.account
        );
    }
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str, retries: u32) -> ExecError {
        ExecError::Service {
            code: code.into(),
            message: "Rate exceeded".into(),
            status: 400,
            request_id: None,
            role: "arn:aws:iam::111111111111:role/chatops-readonly".into(),
            retries,
        }
    }

    fn failed() -> Failed<'static> {
        Failed {
            actions: vec!["lambda:ListFunctions"],
            account: "dev (111111111111)".into(),
            region: "us-east-1",
        }
    }

    #[test]
    fn access_denied_names_the_role_the_action_and_the_account() {
        for code in [
            "AccessDeniedException",
            "AccessDenied",
            "UnauthorizedOperation",
        ] {
            let text = aws_error(&service(code, 0), &failed());
            assert!(
                text.starts_with(&format!("{code}: Rate exceeded\n")),
                "{text}"
            );
            assert!(
                text.contains("`arn:aws:iam::111111111111:role/chatops-readonly`"),
                "{text}"
            );
            assert!(text.contains("`lambda:ListFunctions`"), "{text}");
            assert!(text.contains("dev (111111111111)"), "{text}");
        }
    }

    #[test]
    fn throttling_says_how_often_it_was_retried() {
        let text = aws_error(&service("ThrottlingException", 2), &failed());
        assert_eq!(
            text,
            "ThrottlingException: Rate exceeded\nAWS is throttling `lambda:ListFunctions` in account dev (111111111111); I gave up after retrying 2 times with backoff. Try again in a minute."
        );
        assert!(
            aws_error(&service("TooManyRequestsException", 1), &failed())
                .contains("after retrying once")
        );
        assert!(aws_error(&service("Throttling", 0), &failed()).contains("without retrying"));
    }

    #[test]
    fn other_errors_read_as_before() {
        let e = service("ValidationException", 0);
        assert_eq!(aws_error(&e, &failed()), e.to_string());
        assert!(is_not_found("ResourceNotFoundException"));
        assert!(is_not_found("CaseIdNotFound"));
        assert!(!is_not_found("ValidationException"));
    }
}
