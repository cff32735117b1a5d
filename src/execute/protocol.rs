//! The AWS wire protocols of the supported services, driven by the API model in `commands/`.
//!
//! Why not the typed SDK crates (aws-sdk-lambda, …)? Their outputs have no serialization, and
//! `--output json` must print exactly what the AWS CLI prints: member names, model order,
//! wire types. The AWS CLI gets that by reading the same models we ship and (de)serializing
//! generically; so do we, for every operation of the three services, with SigV4 signing and
//! credentials from the SDK (see [`super`]). Three protocols cover them: `rest-json` (Lambda),
//! `json` (Support) and `query` (CloudWatch, as the AWS CLI v1 speaks it).

use aws_smithy_types::date_time::Format;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Number, Value};

use crate::catalog::{Location, Operation, Protocol, Service, Shape};
use crate::parse::value::parse_timestamp;

/// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const GREEDY: &AsciiSet = &UNRESERVED.remove(b'/');

/// An HTTP request before the endpoint and signature are added.
#[derive(Debug)]
pub struct WireRequest {
    pub method: Method,
    /// Path and query, starting with `/`.
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A failed call as AWS reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

pub fn serialize(service: &Service, op: &Operation, params: &Map<String, Value>) -> WireRequest {
    match service.protocol {
        Protocol::RestJson => rest_json_request(service, op, params),
        // Refused by Executor::run_pages until this module speaks them.
        Protocol::Ec2 | Protocol::RestXml => {
            unreachable!("{:?} is not spoken yet", service.protocol)
        }
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
            }
        }
        Protocol::Query => {
            let mut form = form_urlencoded_pairs(vec![
                ("Action".into(), op.api.clone()),
                ("Version".into(), service.api_version.clone()),
            ]);
            if let Some(shape) = op.input.as_deref() {
                let mut pairs = Vec::new();
                query_params(
                    service,
                    shape,
                    &Value::Object(params.clone()),
                    "",
                    &mut pairs,
                );
                form.push('&');
                form.push_str(&form_urlencoded_pairs(pairs));
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
                body: Bytes::from(form),
            }
        }
    }
}

fn header(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn form_urlencoded_pairs(pairs: Vec<(String, String)>) -> String {
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

fn rest_json_request(
    service: &Service,
    op: &Operation,
    params: &Map<String, Value>,
) -> WireRequest {
    let (members, payload) = match op.input.as_deref().map(|s| service.shape(s)) {
        Some(Shape::Structure {
            members, payload, ..
        }) => (members.as_slice(), payload.as_deref()),
        _ => (&[][..], None),
    };
    let (path_template, static_query) = op
        .http
        .uri
        .split_once('?')
        .map_or((op.http.uri.as_str(), None), |(p, q)| (p, Some(q)));
    let mut path = path_template.to_owned();
    let mut query: Vec<(String, String)> = static_query
        .map(|q| {
            q.split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (kv.to_owned(), String::new()),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut body = Map::new();
    let mut raw_body: Option<Bytes> = None;
    for member in members {
        let Some(value) = params.get(&member.name) else {
            continue;
        };
        let shape = service.shape(&member.shape);
        match member.location {
            Some(Location::Uri) => {
                let name = member.wire_name();
                let text = scalar_text(shape, value, TimeFormat::Iso);
                path = path
                    .replace(
                        &format!("{{{name}+}}"),
                        &utf8_percent_encode(&text, GREEDY).to_string(),
                    )
                    .replace(
                        &format!("{{{name}}}"),
                        &utf8_percent_encode(&text, UNRESERVED).to_string(),
                    );
            }
            Some(Location::Querystring) => match (shape, value) {
                (Shape::List { member: m, .. }, Value::Array(items)) => {
                    let item_shape = service.shape(&m.shape);
                    for item in items {
                        query.push((
                            member.wire_name().to_owned(),
                            scalar_text(item_shape, item, TimeFormat::Iso),
                        ));
                    }
                }
                (Shape::Map { .. }, Value::Object(entries)) => {
                    for (k, v) in entries {
                        query.push((k.clone(), scalar_text(shape, v, TimeFormat::Iso)));
                    }
                }
                _ => query.push((
                    member.wire_name().to_owned(),
                    scalar_text(shape, value, TimeFormat::Iso),
                )),
            },
            Some(Location::Header) => {
                let text = if member.json_value {
                    base64::engine::general_purpose::STANDARD.encode(value.to_string())
                } else {
                    scalar_text(shape, value, TimeFormat::HttpDate)
                };
                if let Ok(name) = http::HeaderName::from_bytes(member.wire_name().as_bytes()) {
                    headers.insert(name, header(&text));
                }
            }
            Some(Location::Headers) => {
                if let Value::Object(entries) = value {
                    for (k, v) in entries {
                        let name = format!("{}{k}", member.wire_name());
                        if let Ok(name) = http::HeaderName::from_bytes(name.as_bytes()) {
                            headers.insert(name, header(&scalar_text(shape, v, TimeFormat::Iso)));
                        }
                    }
                }
            }
            Some(Location::StatusCode) => {}
            None if payload == Some(member.name.as_str()) => {
                raw_body = Some(match shape {
                    Shape::Blob { .. } | Shape::String { .. } => match value {
                        Value::String(s) => Bytes::from(s.clone()),
                        other => Bytes::from(other.to_string()),
                    },
                    _ => Bytes::from(json_body(service, &member.shape, value).to_string()),
                });
            }
            None => {
                body.insert(
                    member.wire_name().to_owned(),
                    json_body(service, &member.shape, value),
                );
            }
        }
    }
    let has_body_members = members
        .iter()
        .any(|m| m.location.is_none() && payload != Some(m.name.as_str()));
    let body = match raw_body {
        Some(bytes) => {
            headers.insert(
                "content-type",
                HeaderValue::from_static("application/octet-stream"),
            );
            bytes
        }
        None if !body.is_empty() || (has_body_members && payload.is_none()) => {
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            Bytes::from(Value::Object(body).to_string())
        }
        None => Bytes::new(),
    };
    let mut path_and_query = path;
    if !query.is_empty() {
        path_and_query.push(if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        });
        path_and_query.push_str(&form_urlencoded_pairs(query));
    }
    WireRequest {
        method: op.http.method.parse().unwrap_or(Method::POST),
        path_and_query,
        headers,
        body,
    }
}

#[derive(Clone, Copy)]
enum TimeFormat {
    Iso,
    HttpDate,
    Epoch,
}

fn format_time(text: &str, format: TimeFormat) -> Value {
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

fn scalar_text(shape: &Shape, value: &Value, times: TimeFormat) -> String {
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
fn json_body(service: &Service, shape_name: &str, value: &Value) -> Value {
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

/// Flattens a value into the query protocol's `Prefix.member.N.Name=value` pairs.
fn query_params(
    service: &Service,
    shape_name: &str,
    value: &Value,
    prefix: &str,
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
                if let Some(v) = given.get(&member.name) {
                    let name = join(member.wire_name());
                    let member_shape = service.shape(&member.shape);
                    // A flattened list member is named by the member, not `.member.N`.
                    if let (true, Shape::List { member: m, .. }, Value::Array(items)) =
                        (member.flattened, member_shape, v)
                    {
                        for (i, item) in items.iter().enumerate() {
                            query_params(
                                service,
                                &m.shape,
                                item,
                                &format!("{name}.{}", i + 1),
                                out,
                            );
                        }
                    } else {
                        query_params(service, &member.shape, v, &name, out);
                    }
                }
            }
        }
        (
            Shape::List {
                member, flattened, ..
            },
            Value::Array(items),
        ) => {
            if items.is_empty() {
                out.push((prefix.to_owned(), String::new()));
            }
            let item_name = member.location_name.as_deref().unwrap_or("member");
            for (i, item) in items.iter().enumerate() {
                let name = if *flattened {
                    format!("{prefix}.{}", i + 1)
                } else {
                    format!("{prefix}.{item_name}.{}", i + 1)
                };
                query_params(service, &member.shape, item, &name, out);
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
                query_params(service, &v.shape, x, &format!("{entry}.{value_name}"), out);
            }
        }
        (Shape::Blob { .. }, Value::String(s)) => out.push((
            prefix.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(s),
        )),
        (shape, v) => out.push((prefix.to_owned(), scalar_text(shape, v, TimeFormat::Iso))),
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
    if !(200..300).contains(&status) {
        return Err(match service.protocol {
            Protocol::Query => xml_error(status, body),
            _ => json_error(status, headers, body),
        });
    }
    let Some(output) = op.output.as_deref() else {
        return Ok(Value::Object(Map::new()));
    };
    match service.protocol {
        Protocol::Json => {
            let doc: Value = parse_body_json(status, body)?;
            Ok(from_json(service, output, &doc))
        }
        Protocol::RestJson => rest_json_response(service, output, status, headers, body),
        Protocol::Ec2 | Protocol::RestXml => {
            unreachable!("{:?} is not spoken yet", service.protocol)
        }
        Protocol::Query => {
            let text = std::str::from_utf8(body)
                .map_err(|_| decode_error(status, "the XML is not UTF-8"))?;
            let doc = roxmltree::Document::parse(text)
                .map_err(|e| decode_error(status, &format!("the XML is malformed: {e}")))?;
            let root = doc.root_element();
            let result = match op.result_wrapper.as_deref() {
                Some(wrapper) => child(root, wrapper),
                None => Some(root),
            };
            Ok(result.map_or(Value::Object(Map::new()), |node| {
                from_xml(service, output, node)
            }))
        }
    }
}

fn decode_error(status: u16, what: &str) -> ServiceError {
    ServiceError {
        status,
        code: "InvalidResponse".into(),
        message: format!("AWS sent a response that could not be read: {what}"),
        request_id: None,
    }
}

fn parse_body_json(status: u16, body: &[u8]) -> Result<Value, ServiceError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body).map_err(|e| decode_error(status, &format!("invalid JSON ({e})")))
}

fn rest_json_response(
    service: &Service,
    output: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ServiceError> {
    let Shape::Structure {
        members, payload, ..
    } = service.shape(output)
    else {
        return Ok(Value::Object(Map::new()));
    };
    let doc = match payload {
        Some(_) => Value::Null,
        None => parse_body_json(status, body)?,
    };
    let mut out = Map::new();
    for member in members {
        let shape = service.shape(&member.shape);
        let value = match member.location {
            Some(Location::StatusCode) => Some(Value::Number(status.into())),
            Some(Location::Header) => headers
                .get(member.wire_name())
                .and_then(|v| v.to_str().ok())
                .map(|text| header_value(shape, member.json_value, text)),
            Some(Location::Headers) => {
                let prefix = member.wire_name().to_ascii_lowercase();
                let entries: Map<String, Value> = headers
                    .iter()
                    .filter_map(|(name, v)| {
                        let key = name.as_str().strip_prefix(&prefix)?;
                        Some((key.to_owned(), Value::String(v.to_str().ok()?.to_owned())))
                    })
                    .collect();
                (!entries.is_empty()).then_some(Value::Object(entries))
            }
            _ if payload.as_deref() == Some(member.name.as_str()) => match shape {
                Shape::Blob { .. } | Shape::String { .. } => {
                    Some(Value::String(String::from_utf8_lossy(body).into_owned()))
                }
                _ => {
                    let doc = parse_body_json(status, body)?;
                    Some(from_json(service, &member.shape, &doc))
                }
            },
            _ => doc
                .get(member.wire_name())
                .filter(|v| !v.is_null())
                .map(|v| from_json(service, &member.shape, v)),
        };
        if let Some(value) = value {
            out.insert(member.name.clone(), value);
        }
    }
    Ok(Value::Object(out))
}

fn header_value(shape: &Shape, json_value: bool, text: &str) -> Value {
    if json_value {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        return decoded.unwrap_or_else(|| Value::String(text.to_owned()));
    }
    match shape {
        Shape::Integer { .. } | Shape::Long { .. } => text
            .parse::<i64>()
            .map_or_else(|_| Value::String(text.to_owned()), Value::from),
        Shape::Boolean {} => Value::Bool(text.eq_ignore_ascii_case("true")),
        _ => Value::String(text.to_owned()),
    }
}

/// A JSON body value in model terms: members in model order under their model names, values
/// as they came on the wire (as the AWS CLI prints them), unmodelled keys dropped.
fn from_json(service: &Service, shape_name: &str, value: &Value) -> Value {
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

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// An XML element in model terms, typed by the shape (XML carries only text).
fn from_xml(service: &Service, shape_name: &str, node: roxmltree::Node) -> Value {
    match service.shape(shape_name) {
        Shape::Structure { members, .. } => {
            let mut out = Map::new();
            for member in members {
                let name = member.wire_name();
                let member_shape = service.shape(&member.shape);
                let value = match member_shape {
                    Shape::List {
                        member: item,
                        flattened,
                        ..
                    } if *flattened || member.flattened => {
                        let items: Vec<Value> = node
                            .children()
                            .filter(|c| c.is_element() && c.tag_name().name() == name)
                            .map(|c| from_xml(service, &item.shape, c))
                            .collect();
                        (!items.is_empty()).then_some(Value::Array(items))
                    }
                    _ => child(node, name).map(|c| from_xml(service, &member.shape, c)),
                };
                if let Some(value) = value {
                    out.insert(member.name.clone(), value);
                }
            }
            Value::Object(out)
        }
        Shape::List { member, .. } => {
            let item_name = member.location_name.as_deref().unwrap_or("member");
            Value::Array(
                node.children()
                    .filter(|c| c.is_element() && c.tag_name().name() == item_name)
                    .map(|c| from_xml(service, &member.shape, c))
                    .collect(),
            )
        }
        Shape::Map { key, value, .. } => {
            let key_name = key.location_name.as_deref().unwrap_or("key");
            let value_name = value.location_name.as_deref().unwrap_or("value");
            Value::Object(
                node.children()
                    .filter(|c| c.is_element())
                    .filter_map(|entry| {
                        let k = child(entry, key_name)?.text()?.to_owned();
                        let v = child(entry, value_name)
                            .map_or(Value::Null, |v| from_xml(service, &value.shape, v));
                        Some((k, v))
                    })
                    .collect(),
            )
        }
        shape => {
            let text = node.text().unwrap_or_default();
            match shape {
                Shape::Integer { .. } | Shape::Long { .. } => text
                    .trim()
                    .parse::<i64>()
                    .map_or_else(|_| Value::String(text.to_owned()), Value::from),
                Shape::Double {} | Shape::Float {} => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map_or_else(|| Value::String(text.to_owned()), Value::Number),
                Shape::Boolean {} => Value::Bool(text.trim().eq_ignore_ascii_case("true")),
                // The AWS CLI (botocore 1.43) talks to CloudWatch over rpcv2Cbor and prints
                // its timestamps as epoch seconds; printing the XML's ISO text instead would
                // make `--output json` differ from it.
                Shape::Timestamp { .. } => match format_time(text.trim(), TimeFormat::Epoch) {
                    Value::Null => Value::String(text.to_owned()),
                    epoch => epoch,
                },
                _ => Value::String(text.to_owned()),
            }
        }
    }
}

fn json_error(status: u16, headers: &HeaderMap, body: &[u8]) -> ServiceError {
    let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let header_code = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or(v).to_owned());
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
            .unwrap_or_else(|| format!("HTTP{status}")),
        message,
        request_id: headers
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

fn xml_error(status: u16, body: &[u8]) -> ServiceError {
    let text = String::from_utf8_lossy(body);
    let find = |doc: &roxmltree::Document, name: &str| {
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    match roxmltree::Document::parse(&text) {
        Ok(doc) => ServiceError {
            status,
            code: find(&doc, "Code").unwrap_or_else(|| format!("HTTP{status}")),
            message: find(&doc, "Message").unwrap_or_default(),
            request_id: find(&doc, "RequestId"),
        },
        Err(_) => ServiceError {
            status,
            code: format!("HTTP{status}"),
            message: format!("the service answered HTTP {status} without details"),
            request_id: None,
        },
    }
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
}
