//! What the AWS CLI (botocore's `handlers.py`) does to particular operations beyond their
//! model, so our requests and output are its: Route 53 ids, S3's URL-encoded listings, bucket
//! locations and `Expires` headers, CloudFormation templates as JSON, EC2 console output
//! decoded.

use std::borrow::Cow;

use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::catalog::{Operation, Service, Shape};

/// A listing's URL-encoded members: the top-level ones, and (list, member) pairs.
struct EncodedMembers {
    top: &'static [&'static str],
    nested: &'static [(&'static str, &'static str)],
}

/// The S3 listings whose keys botocore asks for URL-encoded (`EncodingType=url`, so any key
/// survives XML), and decodes again.
fn encoded_listing(op: &Operation) -> Option<EncodedMembers> {
    let (top, nested): (
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    ) = match op.api.as_str() {
        "ListObjects" => (
            &["Delimiter", "Marker", "NextMarker"],
            &[("Contents", "Key"), ("CommonPrefixes", "Prefix")],
        ),
        "ListObjectsV2" => (
            &["Delimiter", "Prefix", "StartAfter"],
            &[("Contents", "Key"), ("CommonPrefixes", "Prefix")],
        ),
        "ListObjectVersions" => (
            &["KeyMarker", "NextKeyMarker", "Prefix", "Delimiter"],
            &[
                ("Versions", "Key"),
                ("DeleteMarkers", "Key"),
                ("CommonPrefixes", "Prefix"),
            ],
        ),
        _ => return None,
    };
    Some(EncodedMembers { top, nested })
}

fn is_s3(service: &Service) -> bool {
    service.signing_name == "s3"
}

/// The parameters as botocore sends them, and whether S3 listing keys come back URL-encoded
/// at our request (so [`after_parse`] decodes them). Borrowed when nothing changes.
pub(super) fn before_serialize<'p>(
    service: &Service,
    op: &Operation,
    params: &'p Map<String, Value>,
) -> (Cow<'p, Map<String, Value>>, bool) {
    // botocore `fix_route53_ids`: `/hostedzone/Z1` is taken as `Z1`, so ids pasted from
    // another command's output work.
    if service.service == "route53" {
        let ids: Vec<&str> = service
            .input_members(op)
            .iter()
            .filter(|m| {
                matches!(
                    m.shape.as_str(),
                    "ResourceId" | "DelegationSetId" | "ChangeId"
                )
            })
            .filter(|m| {
                params
                    .get(&m.name)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.contains('/'))
            })
            .map(|m| m.name.as_str())
            .collect();
        if !ids.is_empty() {
            let mut fixed = params.clone();
            for name in ids {
                if let Some(Value::String(v)) = fixed.get_mut(name) {
                    *v = v.rsplit('/').next().unwrap_or_default().to_owned();
                }
            }
            return (Cow::Owned(fixed), false);
        }
    }
    if is_s3(service) && encoded_listing(op).is_some() && !params.contains_key("EncodingType") {
        let mut with = params.clone();
        with.insert("EncodingType".into(), Value::String("url".into()));
        return (Cow::Owned(with), true);
    }
    (Cow::Borrowed(params), false)
}

/// The output as botocore hands it to the AWS CLI.
pub(super) fn after_parse(
    service: &Service,
    op: &Operation,
    url_encoded_keys: bool,
    headers: &HeaderMap,
    body: &[u8],
    value: &mut Value,
) {
    let Value::Object(out) = value else {
        return;
    };
    match (service.service.as_str(), op.api.as_str()) {
        // botocore `json_decode_template_body`: a JSON template is printed as JSON.
        ("cloudformation", "GetTemplate") => {
            if let Some(Value::String(text)) = out.get("TemplateBody") {
                if let Ok(parsed) = serde_json::from_str::<Value>(text) {
                    out.insert("TemplateBody".into(), parsed);
                }
            }
        }
        // botocore `decode_console_output`: the console text, not its base64.
        ("ec2", "GetConsoleOutput") => {
            if let Some(Value::String(text)) = out.get_mut("Output") {
                use base64::Engine;
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.as_bytes())
                {
                    *text = String::from_utf8_lossy(&bytes).into_owned();
                }
            }
        }
        _ => {}
    }
    if !is_s3(service) {
        return;
    }
    match op.api.as_str() {
        // botocore `parse_get_bucket_location`: the model can't say it; the root element's
        // text, null for us-east-1 (an empty element).
        "GetBucketLocation" => {
            let text = std::str::from_utf8(body).ok().and_then(|t| {
                super::xml::parse(t)
                    .ok()?
                    .root_element()
                    .text()
                    .map(str::to_owned)
            });
            out.insert(
                "LocationConstraint".into(),
                text.map_or(Value::Null, Value::String),
            );
        }
        _ if url_encoded_keys => {
            if out.get("EncodingType").and_then(Value::as_str) != Some("url") {
                return;
            }
            let Some(EncodedMembers { top, nested }) = encoded_listing(op) else {
                return;
            };
            for key in top {
                if let Some(Value::String(s)) = out.get_mut(*key) {
                    *s = unquote(s);
                }
            }
            for (list, member) in nested {
                if let Some(Value::Array(items)) = out.get_mut(*list) {
                    for item in items {
                        if let Some(Value::String(s)) = item.get_mut(*member) {
                            *s = unquote(s);
                        }
                    }
                }
            }
        }
        _ => {}
    }
    // botocore `handle_expires_header`: the raw `Expires` header as `ExpiresString` too.
    let has_expires = op
        .output
        .as_deref()
        .is_some_and(|o| match service.shape(o) {
            Shape::Structure { members, .. } => members
                .iter()
                .any(|m| m.shape == "Expires" && m.location_name.as_deref() == Some("Expires")),
            _ => false,
        });
    if has_expires {
        if let Some(v) = headers.get("expires").and_then(|v| v.to_str().ok()) {
            out.insert("ExpiresString".into(), Value::String(v.to_owned()));
        }
    }
}

/// Python's `urllib.parse.unquote_plus` (botocore's `unquote_str`): `+` is a space.
fn unquote(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}
