//! The AWS wire protocols of the supported services, driven by the API model in `commands/`.
//!
//! Why not the typed SDK crates (aws-sdk-lambda, …)? Their outputs have no serialization, and
//! `--output json` must print exactly what the AWS CLI prints: member names, model order,
//! wire types. The AWS CLI gets that by reading the same models we ship and (de)serializing
//! generically; so do we, for every operation of every service in the catalog, with SigV4
//! signing and credentials from the SDK (see [`super`]). Five protocols cover them: `json`
//! (Support, DynamoDB), `query` (CloudWatch as the AWS CLI v1 speaks it, RDS, SNS), `ec2`,
//! and the REST ones ([`super::rest`]): `rest-json` (Lambda, EKS) and `rest-xml` (S3, Route 53,
//! CloudFront). XML is read and written in [`super::xml`]; what botocore does beyond the
//! models for particular operations is in [`super::customize`].

use aws_smithy_types::date_time::Format;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Number, Value};

use super::customize;
use super::rest::{self, Body};
use super::xml;
use crate::catalog::{Operation, Protocol, Service, Shape};
use crate::parse::value::parse_timestamp;

/// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded.
pub(super) const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
pub(super) const GREEDY: &AsciiSet = &UNRESERVED.remove(b'/');

/// An HTTP request before the endpoint and signature are added.
#[derive(Debug, Default)]
pub struct WireRequest {
    pub method: Method,
    /// Path and query, starting with `/`: path-style for S3 (`/bucket/key`).
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// S3: the bucket the path starts with, for virtual-host addressing.
    pub bucket: Option<String>,
    /// Prepended to the endpoint's host (the operation's host prefix, labels filled in).
    pub host_prefix: Option<String>,
    /// S3 listings: we asked for URL-encoded keys, so they are decoded again.
    pub url_encoded_keys: bool,
}

/// A failed call as AWS reported it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// S3: the bucket's region, when the call went to another (`x-amz-bucket-region`, or the
    /// `Region` of an `AuthorizationHeaderMalformed`), so it can be sent again there.
    pub bucket_region: Option<String>,
}

pub fn serialize(service: &Service, op: &Operation, params: &Map<String, Value>) -> WireRequest {
    let (params, url_encoded_keys) = customize::before_serialize(service, op, params);
    let params = params.as_ref();
    let mut wire = match service.protocol {
        Protocol::RestJson => rest::request(service, op, params, Body::Json),
        Protocol::RestXml => rest::request(service, op, params, Body::Xml),
        Protocol::Json => {
            let mut headers = HeaderMap::new();
            let target = format!(
                "{}.{}",
                service.target_prefix.as_deref().unwrap_or_default(),
                op.api
            );
            headers.insert("x-amz-target", header(&target));
            let version = service.json_version.as_deref().unwrap_or("1.1");
            headers.insert(
                "content-type",
                header(&format!("application/x-amz-json-{version}")),
            );
            let body = match op.input.as_deref() {
                Some(shape) => json_body(service, shape, &Value::Object(params.clone())),
                None => Value::Object(Map::new()),
            };
            WireRequest {
                method: Method::POST,
                path_and_query: "/".into(),
                headers,
                body: Bytes::from(body.to_string()),
                ..WireRequest::default()
            }
        }
        Protocol::Query | Protocol::Ec2 => {
            let mut pairs = vec![
                ("Action".into(), op.api.clone()),
                ("Version".into(), service.api_version.clone()),
            ];
            if let Some(shape) = op.input.as_deref() {
                let naming = if service.protocol == Protocol::Ec2 {
                    Naming::Ec2
                } else {
                    Naming::Query
                };
                // The structure's members, without copying the parameters into a Value.
                if let Shape::Structure { .. } = service.shape(shape) {
                    query_members(service, shape, params, naming, &mut pairs);
                }
            }
            let mut headers = HeaderMap::new();
            headers.insert(
                "content-type",
                HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
            );
            WireRequest {
                method: Method::POST,
                path_and_query: "/".into(),
                headers,
                body: Bytes::from(form_urlencoded_pairs(pairs)),
                ..WireRequest::default()
            }
        }
    };
    wire.url_encoded_keys = url_encoded_keys;
    wire.host_prefix = op.host_prefix.as_deref().map(|prefix| {
        // `{AccountId}.`: labels are input members.
        let mut host = prefix.to_owned();
        for (name, value) in params {
            if let Some(text) = value.as_str() {
                host = host.replace(&format!("{{{name}}}"), text);
            }
        }
        host
    });
    wire
}

/// Whether the operation's output is a streaming body (S3 `get-object`): it is not read, so
/// nothing of it is held or printed; the AWS CLI writes it to a file and prints the rest.
pub fn streams_output(service: &Service, op: &Operation) -> bool {
    let Some(Shape::Structure {
        members,
        payload: Some(payload),
        ..
    }) = op.output.as_deref().map(|o| service.shape(o))
    else {
        return false;
    };
    members.iter().any(|m| {
        &m.name == payload
            && (m.streaming
                || matches!(
                    service.shape(&m.shape),
                    Shape::Blob {
                        streaming: true,
                        ..
                    }
                ))
    })
}

pub(super) fn header(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(super) fn form_urlencoded_pairs(pairs: Vec<(String, String)>) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, UNRESERVED),
                utf8_percent_encode(v, UNRESERVED)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Clone, Copy)]
pub(super) enum TimeFormat {
    Iso,
    HttpDate,
    Epoch,
}

pub(super) fn format_time(text: &str, format: TimeFormat) -> Value {
    let Some(t) = parse_timestamp(text) else {
        return Value::String(text.to_owned());
    };
    match format {
        TimeFormat::Iso => Value::String(t.fmt(Format::DateTime).unwrap_or_default()),
        TimeFormat::HttpDate => Value::String(t.fmt(Format::HttpDate).unwrap_or_default()),
        // Epoch timestamps carry milliseconds (as Smithy's epoch-seconds format and the AWS
        // CLI print them); through the decimal text, so 50.011 stays 50.011, not 50.010999….
        TimeFormat::Epoch if t.subsec_nanos() < 1_000_000 => Value::Number(t.secs().into()),
        TimeFormat::Epoch => format!("{}.{:03}", t.secs(), t.subsec_nanos() / 1_000_000)
            .trim_end_matches('0')
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::Null, Value::Number),
    }
}

pub(super) fn scalar_text(shape: &Shape, value: &Value, times: TimeFormat) -> String {
    match (shape, value) {
        (Shape::Timestamp { .. }, Value::String(s)) => match format_time(s, times) {
            Value::String(s) => s,
            other => other.to_string(),
        },
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// A value as a JSON protocol body carries it: wire names, epoch-second timestamps, base64
/// blobs.
pub(super) fn json_body(service: &Service, shape_name: &str, value: &Value) -> Value {
    match (service.shape(shape_name), value) {
        (Shape::Structure { members, .. }, Value::Object(given)) => {
            let mut out = Map::new();
            for member in members {
                if let Some(v) = given.get(&member.name) {
                    out.insert(
                        member.wire_name().to_owned(),
                        json_body(service, &member.shape, v),
                    );
                }
            }
            Value::Object(out)
        }
        (Shape::List { member, .. }, Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|i| json_body(service, &member.shape, i))
                .collect(),
        ),
        (Shape::Map { value: v, .. }, Value::Object(entries)) => Value::Object(
            entries
                .iter()
                .map(|(k, x)| (k.clone(), json_body(service, &v.shape, x)))
                .collect(),
        ),
        (Shape::Timestamp { .. }, Value::String(s)) => format_time(s, TimeFormat::Epoch),
        (Shape::Blob { .. }, Value::String(s)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(s))
        }
        (_, other) => other.clone(),
    }
}

/// How the query protocols name members: `query` by the member's `locationName` (else its
/// name), lists as `Name.member.N`; `ec2` by `queryName`, else the capitalised
/// `locationName`, else the name, lists as `Name.N` (botocore `EC2Serializer`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Naming {
    Query,
    Ec2,
}

fn query_name(member: &crate::catalog::Member, naming: Naming) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    match (naming, &member.query_name, &member.location_name) {
        (Naming::Ec2, Some(q), _) => Cow::Borrowed(q),
        (Naming::Ec2, None, Some(l)) => {
            let mut chars = l.chars();
            match chars.next() {
                Some(first) if first.is_lowercase() => {
                    Cow::Owned(first.to_uppercase().chain(chars).collect())
                }
                _ => Cow::Borrowed(l),
            }
        }
        _ => Cow::Borrowed(member.wire_name()),
    }
}

/// Flattens a value into the query protocols' `Prefix.member.N.Name=value` pairs.
fn query_params(
    service: &Service,
    shape_name: &str,
    value: &Value,
    prefix: &str,
    naming: Naming,
    out: &mut Vec<(String, String)>,
) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match (service.shape(shape_name), value) {
        (Shape::Structure { members, .. }, Value::Object(given)) => {
            for member in members {
                let Some(v) = given.get(&member.name).filter(|v| !v.is_null()) else {
                    continue;
                };
                let name = join(&query_name(member, naming));
                match (service.shape(&member.shape), v) {
                    // A member marked flattened: `Name.N`, as a flattened list shape.
                    (Shape::List { member: m, .. }, Value::Array(items))
                        if member.flattened && naming == Naming::Query =>
                    {
                        flattened_list(service, m, items, &name, out);
                    }
                    _ => query_params(service, &member.shape, v, &name, naming, out),
                }
            }
        }
        (Shape::List { member, .. }, Value::Array(items)) if naming == Naming::Ec2 => {
            for (i, item) in items.iter().enumerate() {
                let name = format!("{prefix}.{}", i + 1);
                query_params(service, &member.shape, item, &name, naming, out);
            }
        }
        (
            Shape::List {
                member, flattened, ..
            },
            Value::Array(items),
        ) => {
            if *flattened {
                flattened_list(service, member, items, prefix, out);
                return;
            }
            if items.is_empty() {
                out.push((prefix.to_owned(), String::new()));
            }
            let item_name = member.location_name.as_deref().unwrap_or("member");
            for (i, item) in items.iter().enumerate() {
                let name = format!("{prefix}.{item_name}.{}", i + 1);
                query_params(service, &member.shape, item, &name, naming, out);
            }
        }
        (
            Shape::Map {
                key,
                value: v,
                flattened,
                ..
            },
            Value::Object(entries),
        ) => {
            let key_name = key.location_name.as_deref().unwrap_or("key");
            let value_name = v.location_name.as_deref().unwrap_or("value");
            for (i, (k, x)) in entries.iter().enumerate() {
                let entry = if *flattened {
                    format!("{prefix}.{}", i + 1)
                } else {
                    format!("{prefix}.entry.{}", i + 1)
                };
                out.push((format!("{entry}.{key_name}"), k.clone()));
                let name = format!("{entry}.{value_name}");
                query_params(service, &v.shape, x, &name, naming, out);
            }
        }
        (Shape::Blob { .. }, Value::String(s)) => out.push((
            prefix.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(s),
        )),
        (Shape::Boolean {}, Value::Bool(b)) => {
            out.push((prefix.to_owned(), if *b { "true" } else { "false" }.into()))
        }
        (shape, v) => out.push((prefix.to_owned(), scalar_text(shape, v, TimeFormat::Iso))),
    }
}

/// The input structure's members as query pairs.
fn query_members(
    service: &Service,
    shape: &str,
    params: &Map<String, Value>,
    naming: Naming,
    out: &mut Vec<(String, String)>,
) {
    let Shape::Structure { members, .. } = service.shape(shape) else {
        return;
    };
    for member in members {
        let Some(v) = params.get(&member.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let name = query_name(member, naming);
        match (service.shape(&member.shape), v) {
            (Shape::List { member: m, .. }, Value::Array(items))
                if member.flattened && naming == Naming::Query =>
            {
                flattened_list(service, m, items, &name, out);
            }
            _ => query_params(service, &member.shape, v, &name, naming, out),
        }
    }
}

/// A flattened query list: `Name.N`, where a named list member replaces the last part of the
/// prefix (botocore `QuerySerializer._serialize_type_list`); an empty list is `Name=`.
fn flattened_list(
    service: &Service,
    item: &crate::catalog::ShapeRef,
    items: &[Value],
    prefix: &str,
    out: &mut Vec<(String, String)>,
) {
    if items.is_empty() {
        out.push((prefix.to_owned(), String::new()));
        return;
    }
    let list_prefix = match &item.location_name {
        Some(name) => match prefix.rsplit_once('.') {
            Some((parent, _)) => format!("{parent}.{name}"),
            None => name.clone(),
        },
        None => prefix.to_owned(),
    };
    for (i, x) in items.iter().enumerate() {
        let name = format!("{list_prefix}.{}", i + 1);
        query_params(service, &item.shape, x, &name, Naming::Query, out);
    }
}

/// Reads a response into the output shape's JSON, or the error AWS reported.
pub fn deserialize(
    service: &Service,
    op: &Operation,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ServiceError> {
    read_response(service, op, &WireRequest::default(), status, headers, body)
}

/// [`deserialize`] for the request that was sent (which may ask for botocore's
/// after-the-fact customizations, [`customize::after_parse`]).
pub fn read_response(
    service: &Service,
    op: &Operation,
    sent: &WireRequest,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ServiceError> {
    if !(200..300).contains(&status) {
        return Err(match service.protocol {
            Protocol::Query | Protocol::Ec2 => xml_error(status, headers, body),
            Protocol::RestXml => rest_xml_error(status, headers, body),
            Protocol::Json | Protocol::RestJson => json_error(status, headers, body),
        });
    }
    let Some(output) = op.output.as_deref() else {
        return Ok(Value::Object(Map::new()));
    };
    let mut value = match service.protocol {
        Protocol::Json => {
            let doc: Value = parse_body_json(status, body)?;
            from_json(service, output, &doc)
        }
        Protocol::RestJson => rest::response(service, output, status, headers, body, Body::Json)?,
        Protocol::RestXml => rest::response(service, output, status, headers, body, Body::Xml)?,
        // The ec2 protocol has no result wrapper: the root element is the output.
        Protocol::Query | Protocol::Ec2 => rest::with_xml(status, body, |root| {
            let result = match op.result_wrapper.as_deref() {
                Some(wrapper) => xml::child(root, wrapper),
                None => Some(root),
            };
            result.map_or(Value::Object(Map::new()), |node| {
                xml::read(service, output, node)
            })
        })?,
    };
    customize::after_parse(
        service,
        op,
        sent.url_encoded_keys,
        headers,
        body,
        &mut value,
    );
    Ok(value)
}

pub(super) fn decode_error(status: u16, what: &str) -> ServiceError {
    ServiceError {
        status,
        code: "InvalidResponse".into(),
        message: format!("AWS sent a response that could not be read: {what}"),
        ..ServiceError::default()
    }
}

pub(super) fn parse_body_json(status: u16, body: &[u8]) -> Result<Value, ServiceError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body).map_err(|e| decode_error(status, &format!("invalid JSON ({e})")))
}

/// A JSON body value in model terms: members in model order under their model names, values
/// as they came on the wire (as the AWS CLI prints them), unmodelled keys dropped.
pub(super) fn from_json(service: &Service, shape_name: &str, value: &Value) -> Value {
    match (service.shape(shape_name), value) {
        (Shape::Structure { members, .. }, Value::Object(given)) => {
            let mut out = Map::new();
            for member in members {
                if let Some(v) = given.get(member.wire_name()).filter(|v| !v.is_null()) {
                    out.insert(member.name.clone(), from_json(service, &member.shape, v));
                }
            }
            Value::Object(out)
        }
        (Shape::List { member, .. }, Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|i| from_json(service, &member.shape, i))
                .collect(),
        ),
        (Shape::Map { value: v, .. }, Value::Object(entries)) => Value::Object(
            entries
                .iter()
                .map(|(k, x)| (k.clone(), from_json(service, &v.shape, x)))
                .collect(),
        ),
        (_, other) => other.clone(),
    }
}

fn json_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ServiceError {
    let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    // A query-compatible service (SQS) names the query protocol's code in
    // `x-amzn-query-error: Code;Sender`, which botocore prefers.
    let query_code = headers
        .get("x-amzn-query-error")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let header_code = query_code.or_else(|| {
        headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v))
            .map(|c| c.rsplit('#').next().unwrap_or(c).to_owned())
    });
    let body_code = ["__type", "code", "Code"]
        .iter()
        .find_map(|k| doc.get(k).and_then(Value::as_str))
        .map(|c| c.rsplit('#').next().unwrap_or(c).to_owned());
    let message = ["message", "Message", "errorMessage"]
        .iter()
        .find_map(|k| doc.get(k).and_then(Value::as_str))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("the service answered HTTP {status} without details"));
    ServiceError {
        status,
        code: header_code
            .or(body_code)
            // botocore names an error without a code by its status (`500`).
            .unwrap_or_else(|| status.to_string()),
        message,
        request_id: headers
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        bucket_region: None,
    }
}

/// A query or ec2 error: `ErrorResponse/Error` or `Response/Errors/Error`, with the request
/// id as `RequestId` (query) or `RequestID` (ec2).
fn xml_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ServiceError {
    let text = String::from_utf8_lossy(body);
    let find = |doc: &roxmltree::Document, name: &str| {
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or_default().to_owned())
    };
    match xml::parse(&text) {
        Ok(doc) => ServiceError {
            status,
            code: find(&doc, "Code").unwrap_or_else(|| status.to_string()),
            message: find(&doc, "Message").unwrap_or_default(),
            request_id: find(&doc, "RequestId")
                .or_else(|| find(&doc, "RequestID"))
                .or_else(|| header_request_id(headers)),
            bucket_region: None,
        },
        Err(_) => status_error(status, headers),
    }
}

/// A rest-xml error: S3's `Error` or Route 53's and CloudFront's `ErrorResponse/Error`; a
/// response without a body (S3's HEAD) is named by its status, as botocore names it (`404`,
/// `Not Found`).
fn rest_xml_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ServiceError {
    let mut e = if body.iter().all(u8::is_ascii_whitespace) {
        status_error(status, headers)
    } else {
        xml_error(status, headers, body)
    };
    if e.code.is_empty() {
        e.code = status.to_string();
    }
    // botocore's S3RegionRedirector: where the bucket really is, from the header or the body.
    e.bucket_region = headers
        .get("x-amz-bucket-region")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            let text = std::str::from_utf8(body).ok()?;
            let doc = xml::parse(text).ok()?;
            let region = doc
                .descendants()
                .find(|n| n.is_element() && n.tag_name().name() == "Region")?
                .text()?
                .to_owned();
            Some(region)
        });
    e
}

fn status_error(status: u16, headers: &HeaderMap) -> ServiceError {
    ServiceError {
        status,
        code: status.to_string(),
        message: http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or_default()
            .to_owned(),
        request_id: header_request_id(headers),
        bucket_region: None,
    }
}

fn header_request_id(headers: &HeaderMap) -> Option<String> {
    ["x-amzn-requestid", "x-amz-request-id"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use serde_json::json;

    fn op(service: &str, name: &str) -> (&'static Service, &'static Operation) {
        let s = Catalog::builtin().service(service).unwrap();
        (s, s.operation(name).unwrap())
    }

    #[test]
    fn rest_json_binds_uri_query_and_payload() {
        let (s, o) = op("lambda", "invoke");
        let params = json!({"FunctionName": "my fn", "Payload": "{\"a\": 1}", "Qualifier": "1"});
        let req = serialize(s, o, params.as_object().unwrap());
        assert_eq!(req.method, Method::POST);
        assert_eq!(
            req.path_and_query,
            "/2015-03-31/functions/my%20fn/invocations?Qualifier=1"
        );
        assert_eq!(&req.body[..], b"{\"a\": 1}");
        let (s, o) = op("lambda", "list-functions");
        let req = serialize(s, o, json!({"MaxItems": 5}).as_object().unwrap());
        assert_eq!(req.method, Method::GET);
        assert!(
            req.path_and_query.ends_with("?MaxItems=5"),
            "{}",
            req.path_and_query
        );
        assert!(req.body.is_empty());
    }

    #[test]
    fn query_flattens_lists_and_structures() {
        let (s, o) = op("cloudwatch", "get-metric-statistics");
        let params = json!({
            "Namespace": "AWS/Lambda", "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
            "StartTime": "2024-01-01T00:00:00Z", "EndTime": "2024-01-02T00:00:00Z",
            "Period": 60, "Statistics": ["Sum"]
        });
        let req = serialize(s, o, params.as_object().unwrap());
        let body = std::str::from_utf8(&req.body).unwrap();
        assert!(
            body.starts_with("Action=GetMetricStatistics&Version=2010-08-01&"),
            "{body}"
        );
        for part in [
            "Dimensions.member.1.Name=FunctionName",
            "Dimensions.member.1.Value=f",
            "Statistics.member.1=Sum",
            "Namespace=AWS%2FLambda",
            "StartTime=2024-01-01T00%3A00%3A00Z",
            "Period=60",
        ] {
            assert!(body.contains(part), "{part} in {body}");
        }
    }

    #[test]
    fn json_protocol_targets_the_operation() {
        let (s, o) = op("support", "describe-cases");
        let req = serialize(
            s,
            o,
            json!({"includeResolvedCases": true}).as_object().unwrap(),
        );
        assert_eq!(
            req.headers["x-amz-target"],
            "AWSSupport_20130415.DescribeCases"
        );
        assert_eq!(&req.body[..], b"{\"includeResolvedCases\":true}");
    }

    #[test]
    fn query_responses_are_typed_by_the_model() {
        let (s, o) = op("cloudwatch", "describe-alarms");
        let xml = r#"<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
          <DescribeAlarmsResult><MetricAlarms><member>
            <AlarmName>a</AlarmName><ActionsEnabled>true</ActionsEnabled><Threshold>1.0</Threshold>
            <EvaluationPeriods>1</EvaluationPeriods><Dimensions/>
            <StateUpdatedTimestamp>2024-01-01T00:00:00.000Z</StateUpdatedTimestamp>
          </member></MetricAlarms><CompositeAlarms/></DescribeAlarmsResult>
          <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeAlarmsResponse>"#;
        let v = deserialize(s, o, 200, &HeaderMap::new(), xml.as_bytes()).unwrap();
        assert_eq!(
            v,
            json!({"MetricAlarms": [{"AlarmName": "a", "ActionsEnabled": true,
                "StateUpdatedTimestamp": 1704067200, "Dimensions": [],
                "EvaluationPeriods": 1, "Threshold": 1.0}], "CompositeAlarms": []})
        );
    }

    #[test]
    fn errors_carry_code_and_message() {
        let (s, o) = op("cloudwatch", "describe-alarms");
        let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r1</RequestId></ErrorResponse>";
        let e = deserialize(s, o, 403, &HeaderMap::new(), xml.as_bytes()).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("AccessDenied", "no")
        );
        let (s, o) = op("lambda", "get-function");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static("ResourceNotFoundException:http://x"),
        );
        let e =
            deserialize(s, o, 404, &headers, br#"{"Message": "Function not found"}"#).unwrap_err();
        assert_eq!(e.code, "ResourceNotFoundException");
        assert_eq!(e.message, "Function not found");
        let (s, o) = op("support", "describe-cases");
        let e = deserialize(
            s,
            o,
            400,
            &HeaderMap::new(),
            br#"{"__type": "a#CaseIdNotFound", "message": "m"}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, "CaseIdNotFound");
    }

    #[test]
    fn invoke_reads_status_headers_and_payload() {
        let (s, o) = op("lambda", "invoke");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-executed-version",
            HeaderValue::from_static("$LATEST"),
        );
        headers.insert(
            "x-amz-function-error",
            HeaderValue::from_static("Unhandled"),
        );
        let v = deserialize(s, o, 200, &headers, b"{\"ok\": 1}").unwrap();
        assert_eq!(
            v,
            json!({"StatusCode": 200, "FunctionError": "Unhandled", "Payload": "{\"ok\": 1}", "ExecutedVersion": "$LATEST"})
        );
    }

    #[test]
    fn ec2_names_members_by_query_name_or_capitalised_location_name() {
        let (s, o) = op("ec2", "describe-instances");
        let params = json!({
            "InstanceIds": ["i-1", "i-2"],
            "Filters": [{"Name": "instance-state-name", "Values": ["running", "stopped"]}],
            "DryRun": false, "MaxResults": 5
        });
        let req = serialize(s, o, params.as_object().unwrap());
        let body = std::str::from_utf8(&req.body).unwrap();
        assert!(
            body.starts_with("Action=DescribeInstances&Version=2016-11-15&"),
            "{body}"
        );
        for part in [
            // Lists are `Name.N`, without `.member` (locationName `InstanceId`, `Filter`, `Value`).
            "InstanceId.1=i-1",
            "InstanceId.2=i-2",
            "Filter.1.Name=instance-state-name",
            "Filter.1.Value.1=running",
            "Filter.1.Value.2=stopped",
            // locationName `dryRun`, `maxResults`: capitalised on input.
            "DryRun=false",
            "MaxResults=5",
        ] {
            assert!(body.split('&').any(|p| p == part), "{part} in {body}");
        }
        // An empty list is left out (the query protocol would send `Name=`).
        let req = serialize(s, o, json!({"InstanceIds": []}).as_object().unwrap());
        assert!(!std::str::from_utf8(&req.body)
            .unwrap()
            .contains("InstanceId"));
    }

    #[test]
    fn ec2_responses_use_location_names_and_every_item() {
        let (s, o) = op("ec2", "describe-vpcs");
        let xml = r#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
          <requestId>r1</requestId>
          <vpcSet><item><vpcId>vpc-1</vpcId><cidrBlock>10.0.0.0/16</cidrBlock><isDefault>true</isDefault>
            <tagSet/><cidrBlockAssociationSet><item><associationId>a</associationId></item></cidrBlockAssociationSet>
            <unknownElement>x</unknownElement></item>
          <item><vpcId>vpc-2</vpcId><isDefault>false</isDefault><tagSet><item><key>Name</key><value></value></item></tagSet></item></vpcSet>
        </DescribeVpcsResponse>"#;
        let v = deserialize(s, o, 200, &HeaderMap::new(), xml.as_bytes()).unwrap();
        assert_eq!(
            v,
            json!({"Vpcs": [
                {"CidrBlock": "10.0.0.0/16", "CidrBlockAssociationSet": [{"AssociationId": "a"}],
                 "VpcId": "vpc-1", "IsDefault": true, "Tags": []},
                {"VpcId": "vpc-2", "IsDefault": false, "Tags": [{"Key": "Name", "Value": ""}]}
            ]})
        );
        // Model order, as the AWS CLI prints it.
        let keys: Vec<&String> = v["Vpcs"][0].as_object().unwrap().keys().collect();
        let model: Vec<&str> = match s.shape("Vpc") {
            Shape::Structure { members, .. } => members.iter().map(|m| m.name.as_str()).collect(),
            _ => unreachable!(),
        };
        let mut expected: Vec<&str> = model
            .into_iter()
            .filter(|m| v["Vpcs"][0].get(*m).is_some())
            .collect();
        expected.dedup();
        assert_eq!(keys, expected);
    }

    #[test]
    fn ec2_errors_are_response_errors_error() {
        let (s, o) = op("ec2", "describe-instances");
        let xml = "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-1' does not exist</Message></Error></Errors><RequestID>req-9</RequestID></Response>";
        let e = deserialize(s, o, 400, &HeaderMap::new(), xml.as_bytes()).unwrap_err();
        assert_eq!(e.code, "InvalidInstanceID.NotFound");
        assert_eq!(e.message, "The instance ID 'i-1' does not exist");
        assert_eq!(e.request_id.as_deref(), Some("req-9"));
    }

    #[test]
    fn rest_xml_binds_uri_query_and_headers() {
        let (s, o) = op("s3api", "list-objects-v2");
        let params =
            json!({"Bucket": "b", "Prefix": "a b/", "MaxKeys": 2, "RequestPayer": "requester"});
        let req = serialize(s, o, params.as_object().unwrap());
        assert_eq!(req.method, Method::GET);
        assert_eq!(req.bucket.as_deref(), Some("b"));
        // botocore asks for URL-encoded keys and decodes them again.
        assert!(req.url_encoded_keys);
        let (path, query) = req.path_and_query.split_once('?').unwrap();
        assert_eq!(path, "/b");
        let mut query: Vec<&str> = query.split('&').collect();
        query.sort_unstable();
        assert_eq!(
            query,
            [
                "encoding-type=url",
                "list-type=2",
                "max-keys=2",
                "prefix=a%20b%2F"
            ]
        );
        assert_eq!(req.headers["x-amz-request-payer"], "requester");
        assert!(req.body.is_empty());
        // The key is a greedy label: its slashes stay.
        let (s, o) = op("s3api", "head-object");
        let req = serialize(
            s,
            o,
            json!({"Bucket": "b", "Key": "dir/a b.txt", "IfModifiedSince": "2024-01-02T03:04:05Z"})
                .as_object()
                .unwrap(),
        );
        assert_eq!(req.path_and_query, "/b/dir/a%20b.txt");
        assert_eq!(
            req.headers["if-modified-since"],
            "Tue, 02 Jan 2024 03:04:05 GMT"
        );
    }

    #[test]
    fn rest_xml_reads_headers_first_then_the_body_with_flattened_lists() {
        let (s, o) = op("s3api", "list-objects-v2");
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
          <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix>
          <KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
          <Contents><Key>a%20b%2Bc</Key><Size>4</Size><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>
          <Contents><Key>d+e</Key><Size>0</Size></Contents>
          <CommonPrefixes><Prefix>p%2F</Prefix></CommonPrefixes></ListBucketResult>"#;
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-request-charged",
            HeaderValue::from_static("requester"),
        );
        let sent = WireRequest {
            url_encoded_keys: true,
            ..WireRequest::default()
        };
        let v = read_response(s, o, &sent, 200, &headers, xml.as_bytes()).unwrap();
        assert_eq!(
            v["Contents"][0],
            json!({"Key": "a b+c", "LastModified": "2024-01-01T00:00:00.000Z", "Size": 4})
        );
        // unquote_plus: `+` is a space.
        assert_eq!(v["Contents"][1]["Key"], "d e");
        assert_eq!(v["CommonPrefixes"], json!([{"Prefix": "p/"}]));
        assert_eq!(v["Prefix"], "");
        assert_eq!(v["KeyCount"], 2);
        assert_eq!(
            v.as_object().unwrap().keys().next().unwrap(),
            "RequestCharged"
        );
        // Keys we did not ask to be encoded are left alone.
        let v = deserialize(s, o, 200, &headers, xml.as_bytes()).unwrap();
        assert_eq!(v["Contents"][0]["Key"], "a%20b%2Bc");
    }

    #[test]
    fn s3_customizations_bucket_location_and_expires() {
        let (s, o) = op("s3api", "get-bucket-location");
        let us_east_1 = r#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#;
        let v = deserialize(s, o, 200, &HeaderMap::new(), us_east_1.as_bytes()).unwrap();
        assert_eq!(v, json!({"LocationConstraint": null}));
        let eu = r#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>"#;
        let v = deserialize(s, o, 200, &HeaderMap::new(), eu.as_bytes()).unwrap();
        assert_eq!(v, json!({"LocationConstraint": "eu-west-1"}));
        let (s, o) = op("s3api", "head-object");
        let mut headers = HeaderMap::new();
        headers.insert("content-length", HeaderValue::from_static("12"));
        headers.insert(
            "last-modified",
            HeaderValue::from_static("Mon, 01 Jan 2024 00:00:00 GMT"),
        );
        headers.insert("x-amz-meta-owner", HeaderValue::from_static("ops"));
        headers.insert(
            "expires",
            HeaderValue::from_static("Tue, 02 Jan 2024 00:00:00 GMT"),
        );
        let v = deserialize(s, o, 200, &headers, b"").unwrap();
        assert_eq!(v["ContentLength"], 12);
        assert_eq!(v["LastModified"], "Mon, 01 Jan 2024 00:00:00 GMT");
        assert_eq!(v["Metadata"], json!({"owner": "ops"}));
        assert_eq!(v["ExpiresString"], "Tue, 02 Jan 2024 00:00:00 GMT");
        // Without metadata headers, botocore still prints an empty map.
        let v = deserialize(s, o, 200, &HeaderMap::new(), b"").unwrap();
        assert_eq!(v, json!({"Metadata": {}}));
    }

    #[test]
    fn rest_xml_errors_from_the_body_or_the_status() {
        let (s, o) = op("s3api", "head-object");
        let e = deserialize(s, o, 404, &HeaderMap::new(), b"").unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("404", "Not Found"));
        let (s, o) = op("s3api", "get-bucket-tagging");
        let xml = "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>x</BucketName><RequestId>r</RequestId></Error>";
        let e = deserialize(s, o, 404, &HeaderMap::new(), xml.as_bytes()).unwrap_err();
        assert_eq!(e.code, "NoSuchBucket");
        let (s, o) = op("route53", "get-hosted-zone");
        let xml = r#"<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>NoSuchHostedZone</Code><Message>No hosted zone found with ID: Z1</Message></Error><RequestId>r2</RequestId></ErrorResponse>"#;
        let e = deserialize(s, o, 404, &HeaderMap::new(), xml.as_bytes()).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.request_id.as_deref()),
            ("NoSuchHostedZone", Some("r2"))
        );
    }

    #[test]
    fn s3_errors_say_where_the_bucket_is() {
        let (s, o) = op("s3api", "list-objects-v2");
        let xml = "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>";
        let e = deserialize(s, o, 400, &HeaderMap::new(), xml.as_bytes()).unwrap_err();
        assert_eq!(e.bucket_region.as_deref(), Some("eu-west-1"));
        let (s, o) = op("s3api", "head-object");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-bucket-region",
            HeaderValue::from_static("ap-south-1"),
        );
        let e = deserialize(s, o, 301, &headers, b"").unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.bucket_region.as_deref()),
            ("301", Some("ap-south-1"))
        );
    }

    #[test]
    fn route53_takes_the_last_part_of_a_pasted_id() {
        let (s, o) = op("route53", "get-hosted-zone");
        let req = serialize(s, o, json!({"Id": "/hostedzone/Z123"}).as_object().unwrap());
        assert_eq!(req.path_and_query, "/2013-04-01/hostedzone/Z123");
    }

    #[test]
    fn rest_xml_writes_bodies_with_the_models_root_and_namespace() {
        let (s, o) = op("cloudfront", "list-distributions-by-realtime-log-config");
        let req = serialize(
            s,
            o,
            json!({"RealtimeLogConfigName": "a&b", "MaxItems": "5"})
                .as_object()
                .unwrap(),
        );
        let body = std::str::from_utf8(&req.body).unwrap();
        assert_eq!(
            body,
            r#"<ListDistributionsByRealtimeLogConfigRequest xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><MaxItems>5</MaxItems><RealtimeLogConfigName>a&amp;b</RealtimeLogConfigName></ListDistributionsByRealtimeLogConfigRequest>"#
        );
    }

    #[test]
    fn xml_attributes_and_streaming_bodies() {
        let (s, o) = op("s3api", "get-bucket-acl");
        let xml = r#"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant>
            <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>o</ID></Grantee>
            <Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>"#;
        let v = deserialize(s, o, 200, &HeaderMap::new(), xml.as_bytes()).unwrap();
        assert_eq!(
            v["Grants"][0]["Grantee"],
            json!({"ID": "o", "Type": "CanonicalUser"})
        );
        let (s, o) = op("s3api", "get-object");
        assert!(streams_output(s, o));
        assert!(!streams_output(s, op("s3api", "head-object").1));
        let mut headers = HeaderMap::new();
        headers.insert("content-length", HeaderValue::from_static("3"));
        let v = deserialize(s, o, 200, &headers, b"abc").unwrap();
        assert_eq!(v.get("Body"), None, "{v}");
        assert_eq!(v["ContentLength"], 3);
    }

    #[test]
    fn xml_depth_is_bounded() {
        let (s, o) = op("s3api", "list-buckets");
        let deep = format!(
            "<R>{}{}</R>",
            "<Buckets><Bucket>".repeat(5000),
            "</Bucket></Buckets>".repeat(5000)
        );
        let e = deserialize(s, o, 200, &HeaderMap::new(), deep.as_bytes()).unwrap_err();
        assert_eq!(e.code, "InvalidResponse");
        assert!(e.message.contains("nest deeper than 256"), "{}", e.message);
        // Self-closing elements, declarations and quoted `>` don't count as nesting.
        let flat = format!(
            r#"<?xml version="1.0"?><!-- <a> --><R a=">"><Buckets>{}</Buckets></R>"#,
            "<Bucket/>".repeat(5000)
        );
        assert_eq!(
            deserialize(s, o, 200, &HeaderMap::new(), flat.as_bytes()).unwrap()["Buckets"]
                .as_array()
                .unwrap()
                .len(),
            5000
        );
        let (s, o) = op("ec2", "describe-vpcs");
        let e = deserialize(s, o, 400, &HeaderMap::new(), deep.as_bytes()).unwrap_err();
        assert_eq!(e.code, "400");
    }
}
