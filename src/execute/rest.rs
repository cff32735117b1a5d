//! The REST protocols' bindings, shared by `rest-json` (Lambda, EKS, API Gateway) and
//! `rest-xml` (S3, Route 53, CloudFront): members travel in the URI, the query string,
//! headers, the status code, a payload, or a JSON or XML body (botocore's
//! `BaseRestSerializer` and `BaseRestParser`).

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use percent_encoding::utf8_percent_encode;
use serde_json::{Map, Value};

use super::protocol::{
    decode_error, form_urlencoded_pairs, header, json_body, parse_body_json, scalar_text,
    ServiceError, TimeFormat, WireRequest, GREEDY, UNRESERVED,
};
use super::xml;
use crate::catalog::{Location, Member, Operation, Service, Shape};

/// How the members without an HTTP location travel.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
    Json,
    Xml,
}

pub(super) fn request(
    service: &Service,
    op: &Operation,
    params: &Map<String, Value>,
    format: Body,
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
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers = HeaderMap::new();
    let mut body = Map::new();
    let mut raw_body: Option<(Bytes, &'static str)> = None;
    let mut bucket = None;
    for member in members {
        let Some(value) = params.get(&member.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let shape = service.shape(&member.shape);
        match member.location {
            Some(Location::Uri) => {
                let name = member.wire_name();
                let text = uri_text(member, shape, value);
                if name == "Bucket" && service.signing_name == "s3" {
                    bucket = Some(text.clone());
                }
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
                    uri_text(member, shape, value),
                )),
            },
            Some(Location::Header) => {
                if let (Ok(name), Some(text)) = (
                    HeaderName::from_bytes(member.wire_name().as_bytes()),
                    header_text(service, member, shape, value),
                ) {
                    headers.insert(name, header(&text));
                }
            }
            Some(Location::Headers) => {
                if let Value::Object(entries) = value {
                    for (k, v) in entries {
                        let name = format!("{}{k}", member.wire_name());
                        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                            headers.insert(name, header(&scalar_text(shape, v, TimeFormat::Iso)));
                        }
                    }
                }
            }
            Some(Location::StatusCode) => {}
            None if payload == Some(member.name.as_str()) => {
                raw_body = Some(match (shape, format) {
                    (Shape::Blob { .. } | Shape::String { .. }, _) => (
                        match value {
                            Value::String(s) => Bytes::from(s.clone()),
                            other => Bytes::from(other.to_string()),
                        },
                        "application/octet-stream",
                    ),
                    (_, Body::Json) => (
                        Bytes::from(json_body(service, &member.shape, value).to_string()),
                        "application/json",
                    ),
                    (_, Body::Xml) => (
                        Bytes::from(xml::write_root(
                            service,
                            &member.shape,
                            member.wire_name(),
                            member.xml_namespace.as_ref(),
                            value,
                        )),
                        "application/xml",
                    ),
                });
            }
            None => {
                body.insert(member.name.clone(), value.clone());
            }
        }
    }
    let has_body_members = members
        .iter()
        .any(|m| m.location.is_none() && payload != Some(m.name.as_str()));
    let body = match (raw_body, format) {
        (Some((bytes, content_type)), _) => {
            // botocore sends no Content-Type for a raw payload; S3 and Lambda accept one.
            if format == Body::Json {
                headers.insert("content-type", HeaderValue::from_static(content_type));
            }
            bytes
        }
        (None, Body::Json) if !body.is_empty() || (has_body_members && payload.is_none()) => {
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            let wire: Map<String, Value> = members
                .iter()
                .filter_map(|m| {
                    let v = body.get(&m.name)?;
                    Some((m.wire_name().to_owned(), json_body(service, &m.shape, v)))
                })
                .collect();
            Bytes::from(Value::Object(wire).to_string())
        }
        (None, Body::Xml) if !body.is_empty() => match (&op.input_xml, &op.input) {
            (Some(root), Some(input)) => Bytes::from(xml::write_root(
                service,
                input,
                &root.name,
                root.xml_namespace.as_ref(),
                &Value::Object(body),
            )),
            _ => Bytes::new(),
        },
        _ => Bytes::new(),
    };
    // The model's own query (`?tagging`, `?list-type=2`) stays as written, before ours.
    let mut path_and_query = path;
    if let Some(fixed) = static_query {
        path_and_query.push('?');
        path_and_query.push_str(fixed);
    }
    if !query.is_empty() {
        path_and_query.push(if static_query.is_some() { '&' } else { '?' });
        path_and_query.push_str(&form_urlencoded_pairs(query));
    }
    WireRequest {
        method: op.http.method.parse().unwrap_or(Method::POST),
        path_and_query,
        headers,
        body,
        bucket,
        ..WireRequest::default()
    }
}

/// A URI label or query value: booleans lower-case, timestamps ISO 8601 unless the member
/// says otherwise.
fn uri_text(member: &Member, shape: &Shape, value: &Value) -> String {
    let format = match member.timestamp_format.as_deref() {
        Some("rfc822") => TimeFormat::HttpDate,
        Some("unixTimestamp") => TimeFormat::Epoch,
        _ => TimeFormat::Iso,
    };
    scalar_text(shape, value, format)
}

/// A header value: RFC 822 timestamps, comma-joined lists (items with a comma or quote
/// quoted), base64 JSON for `jsonvalue` members. None for an empty list, which botocore
/// leaves out.
fn header_text(service: &Service, member: &Member, shape: &Shape, value: &Value) -> Option<String> {
    if member.json_value {
        return Some(base64::engine::general_purpose::STANDARD.encode(value.to_string()));
    }
    let format = match member.timestamp_format.as_deref() {
        Some("iso8601") => TimeFormat::Iso,
        Some("unixTimestamp") => TimeFormat::Epoch,
        _ => TimeFormat::HttpDate,
    };
    match (shape, value) {
        (Shape::List { member: m, .. }, Value::Array(items)) => {
            if items.is_empty() {
                return None;
            }
            let item_shape = service.shape(&m.shape);
            let texts: Vec<String> = items
                .iter()
                .map(|i| {
                    let t = scalar_text(item_shape, i, format);
                    if t.contains([',', '"']) {
                        format!("\"{}\"", t.replace('"', "\\\""))
                    } else {
                        t
                    }
                })
                .collect();
            Some(texts.join(","))
        }
        _ => Some(scalar_text(shape, value, format)),
    }
}

/// A REST response in model terms, in botocore's order: the members from the status code and
/// headers first, then those from the body.
pub(super) fn response(
    service: &Service,
    output: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    format: Body,
) -> Result<Value, ServiceError> {
    let Shape::Structure {
        members, payload, ..
    } = service.shape(output)
    else {
        return Ok(Value::Object(Map::new()));
    };
    let mut out = Map::new();
    for member in members {
        let shape = service.shape(&member.shape);
        let value = match member.location {
            Some(Location::StatusCode) => Some(Value::Number(status.into())),
            Some(Location::Header) => headers
                .get(member.wire_name())
                .and_then(|v| v.to_str().ok())
                .map(|text| header_value(service, shape, member.json_value, text)),
            // botocore always sets a header map, empty when no header has the prefix.
            Some(Location::Headers) => {
                let prefix = member.wire_name().to_ascii_lowercase();
                let entries: Map<String, Value> = headers
                    .iter()
                    .filter_map(|(name, v)| {
                        let key = name.as_str().strip_prefix(&prefix)?;
                        Some((key.to_owned(), Value::String(v.to_str().ok()?.to_owned())))
                    })
                    .collect();
                Some(Value::Object(entries))
            }
            _ => None,
        };
        if let Some(value) = value {
            out.insert(member.name.clone(), value);
        }
    }
    match payload.as_deref() {
        Some(name) => {
            let Some(member) = members.iter().find(|m| m.name == name) else {
                return Ok(Value::Object(out));
            };
            match service.shape(&member.shape) {
                // A streaming body is the caller's business (see `streams_output`).
                Shape::Blob { streaming, .. } if *streaming || member.streaming => {}
                Shape::Blob { .. } | Shape::String { .. } => {
                    out.insert(
                        member.name.clone(),
                        Value::String(String::from_utf8_lossy(body).into_owned()),
                    );
                }
                _ => {
                    let value = match format {
                        Body::Json => {
                            let doc = parse_body_json(status, body)?;
                            super::protocol::from_json(service, &member.shape, &doc)
                        }
                        Body::Xml => {
                            if body.iter().all(u8::is_ascii_whitespace) {
                                Value::Object(Map::new())
                            } else {
                                with_xml(status, body, |root| {
                                    xml::read(service, &member.shape, root)
                                })?
                            }
                        }
                    };
                    out.insert(member.name.clone(), value);
                }
            }
        }
        None => {
            let body_value = match format {
                Body::Json => {
                    let doc = parse_body_json(status, body)?;
                    super::protocol::from_json(service, output, &doc)
                }
                Body::Xml if body.iter().all(u8::is_ascii_whitespace) => Value::Null,
                Body::Xml => with_xml(status, body, |root| xml::read(service, output, root))?,
            };
            if let Value::Object(fields) = body_value {
                for (k, v) in fields {
                    // Headers were read above; a JSON body can't override them.
                    out.entry(k).or_insert(v);
                }
            }
        }
    }
    Ok(Value::Object(out))
}

/// Runs `read` on the root element of an XML body.
pub(super) fn with_xml<T>(
    status: u16,
    body: &[u8],
    read: impl FnOnce(roxmltree::Node) -> T,
) -> Result<T, ServiceError> {
    let text =
        std::str::from_utf8(body).map_err(|_| decode_error(status, "the XML is not UTF-8"))?;
    let doc = xml::parse(text)
        .map_err(|e| decode_error(status, &format!("the XML is malformed: {e}")))?;
    Ok(read(doc.root_element()))
}

/// A header's text in model terms: numbers and booleans parsed, lists split at commas,
/// `jsonvalue` members decoded, timestamps as they came (as the AWS CLI prints them).
fn header_value(service: &Service, shape: &Shape, json_value: bool, text: &str) -> Value {
    if json_value {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        return decoded.unwrap_or_else(|| Value::String(text.to_owned()));
    }
    match shape {
        Shape::List { member, .. } => {
            let item = service.shape(&member.shape);
            Value::Array(
                text.split(',')
                    .map(|t| header_value(service, item, false, t.trim()))
                    .collect(),
            )
        }
        Shape::Timestamp { .. } => Value::String(text.to_owned()),
        shape => xml::scalar(service, shape, text),
    }
}
