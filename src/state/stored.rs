//! A parsed request as the store keeps it: the whole request (everything typed with the
//! command survives the answer, whichever process reads it), with its references into the
//! catalog kept as names and resolved again on the way back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::StateError;
use crate::catalog::Catalog;
use crate::parse::{Output, Paging, Request};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredRequest {
    service: String,
    operation: String,
    params: Map<String, Value>,
    region: Option<String>,
    output: String,
    query: Option<String>,
    paginate: bool,
    max_items: Option<u64>,
    page_size: Option<u64>,
    starting_token: Option<String>,
    refused_options: Vec<String>,
    file_values: Vec<String>,
    /// Missing members, by their AWS CLI option name.
    missing: Vec<String>,
    notes: Vec<String>,
    /// Absent from records written before aliases were audited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
}

fn output_name(output: Output) -> &'static str {
    match output {
        Output::Chat => "chat",
        Output::Json => "json",
        Output::Yaml => "yaml",
        Output::Text => "text",
        Output::Table => "table",
    }
}

impl StoredRequest {
    pub fn from_request(request: &Request) -> StoredRequest {
        StoredRequest {
            service: request.service.service.clone(),
            operation: request.operation.name.clone(),
            params: request.params.clone(),
            region: request.region.clone(),
            output: output_name(request.output).into(),
            query: request.query.clone(),
            paginate: request.paging.paginate,
            max_items: request.paging.max_items,
            page_size: request.paging.page_size,
            starting_token: request.paging.starting_token.clone(),
            refused_options: request.refused_options.clone(),
            file_values: request.file_values.clone(),
            missing: request.missing.iter().map(|m| m.cli_name.clone()).collect(),
            notes: request.notes.clone(),
            alias: request.alias.clone(),
        }
    }

    /// The request again, against the built-in catalog: a service, operation or member the
    /// catalog no longer has (a newer or older version of the bot wrote it) is an error.
    pub fn into_request(self) -> Result<Request, StateError> {
        let gone = |what: String| StateError::Corrupt(format!("{what} is not in this catalog"));
        let service = Catalog::builtin()
            .service(&self.service)
            .ok_or_else(|| gone(format!("service {}", self.service)))?;
        let operation = service
            .operation(&self.operation)
            .ok_or_else(|| gone(format!("{} {}", self.service, self.operation)))?;
        let members = service.input_members(operation);
        let missing = self
            .missing
            .iter()
            .map(|name| {
                members
                    .iter()
                    .find(|m| &m.cli_name == name)
                    .ok_or_else(|| gone(format!("option --{name}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = match self.output.as_str() {
            "chat" => Output::Chat,
            "json" => Output::Json,
            "yaml" => Output::Yaml,
            "text" => Output::Text,
            "table" => Output::Table,
            other => return Err(StateError::Corrupt(format!("output `{other}`"))),
        };
        Ok(Request {
            service,
            operation,
            params: self.params,
            region: self.region,
            output,
            query: self.query,
            paging: Paging {
                paginate: self.paginate,
                max_items: self.max_items,
                page_size: self.page_size,
                starting_token: self.starting_token,
            },
            refused_options: self.refused_options,
            file_values: self.file_values,
            missing,
            notes: self.notes,
            alias: self.alias,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse, Parsed};

    fn request(text: &str) -> Box<Request> {
        match parse(text) {
            Ok(Parsed::Command(r)) => r,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn a_request_survives_the_store_whole() {
        for text in [
            "lambda invoke --function-name f --payload '{\"a\": [1, 2]}' --output json --query StatusCode",
            "lambda list-functions --max-items 3 --region eu-west-1 --output table",
            "cloudwatch describe-alarms --state-value ALARM",
            "lambda get-function",
            "support create-case --subject 'Disk full'",
        ] {
            let mut original = request(text);
            original.alias = text.starts_with("lambda invoke").then(|| "hello".to_owned());
            let json = serde_json::to_string(&StoredRequest::from_request(&original)).unwrap();
            let back: StoredRequest = serde_json::from_str(&json).unwrap();
            let back = back.into_request().unwrap();
            assert_eq!(back.command_line(), original.command_line(), "{text}");
            assert_eq!(back.params, original.params, "{text}");
            assert_eq!(back.output, original.output, "{text}");
            assert_eq!(back.query, original.query, "{text}");
            assert_eq!(back.paging, original.paging, "{text}");
            assert_eq!(back.region, original.region, "{text}");
            assert_eq!(back.alias, original.alias, "{text}");
            let names = |r: &Request| {
                r.missing
                    .iter()
                    .map(|m| m.cli_name.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(names(&back), names(&original), "{text}");
            assert!(std::ptr::eq(back.operation, original.operation));
        }
    }

    #[test]
    fn a_request_kept_before_aliases_were_audited_reads_as_no_alias() {
        let mut json = serde_json::to_value(StoredRequest::from_request(&request(
            "lambda list-functions",
        )))
        .unwrap();
        assert!(json.get("alias").is_none());
        json.as_object_mut().unwrap().remove("alias");
        let back: StoredRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back.into_request().unwrap().alias, None);
    }

    #[test]
    fn a_request_the_catalog_no_longer_knows_is_refused() {
        let mut stored = StoredRequest::from_request(&request("lambda list-functions"));
        stored.operation = "list-everything".into();
        assert!(matches!(stored.into_request(), Err(StateError::Corrupt(_))));
    }
}
