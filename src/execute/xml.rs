//! XML bodies in model terms, for the query, ec2 and rest-xml protocols: reading a response
//! element into the output shape's JSON (botocore's `BaseXMLResponseParser`), writing a
//! rest-xml request body (botocore's `RestXMLSerializer`).

use roxmltree::Node;
use serde_json::{Map, Number, Value};

use super::protocol::{format_time, scalar_text, TimeFormat};
use crate::catalog::{Member, Service, Shape};

/// How deep a response may nest before the rest of it is dropped: the models nest a dozen
/// levels at most, so this only stops a hostile or broken body from exhausting the stack.
const MAX_DEPTH: usize = 64;

/// Elements may nest this deep in a response: roxmltree parses recursively, so a deeper
/// document (a hostile or broken endpoint) would overflow the stack before any limit of ours
/// applied; such a body is refused before it is parsed.
const MAX_NESTING: usize = 256;

/// Parses a response body, refusing nesting deeper than [`MAX_NESTING`].
pub(super) fn parse(text: &str) -> Result<roxmltree::Document<'_>, String> {
    if nesting(text.as_bytes()) > MAX_NESTING {
        return Err(format!("elements nest deeper than {MAX_NESTING} levels"));
    }
    roxmltree::Document::parse(text).map_err(|e| e.to_string())
}

/// How deep a document's elements nest at most: an upper bound from a scan of its tags
/// (declarations, comments and CDATA don't count; quoted attribute values are skipped).
fn nesting(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(offset) = text[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        match text.get(i) {
            Some(b'/') => depth = depth.saturating_sub(1),
            Some(b'?' | b'!') => {}
            Some(_) => {
                // To the tag's end, past quoted values: `/>` closes it at once.
                let mut quote = None;
                let mut last = 0u8;
                while let Some(&b) = text.get(i) {
                    match quote {
                        Some(q) if b == q => quote = None,
                        Some(_) => {}
                        None if b == b'"' || b == b'\'' => quote = Some(b),
                        None if b == b'>' => break,
                        None => last = b,
                    }
                    i += 1;
                }
                if last != b'/' {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
            }
            None => break,
        }
    }
    deepest
}

/// The first child element named `name` (namespaces aside, as botocore strips them).
pub(super) fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The element name a member is read from: a flattened list's items are named by the list's
/// member when it has a name (botocore `_member_key_name`), other members by their own.
fn key_name<'s>(service: &'s Service, member: &'s Member) -> &'s str {
    match service.shape(&member.shape) {
        Shape::List {
            member: item,
            flattened,
            ..
        } if *flattened || member.flattened => {
            item.location_name.as_deref().unwrap_or(member.wire_name())
        }
        _ => member.wire_name(),
    }
}

/// Whether the AWS CLI reads timestamps as epoch numbers for this service (it speaks a JSON or
/// CBOR protocol where we speak XML); otherwise it prints the XML's text as it came.
fn epoch_timestamps(service: &Service) -> bool {
    matches!(
        service.cli_protocol.as_deref(),
        Some("json" | "rest-json" | "smithy-rpc-v2-cbor")
    )
}

/// An XML element in model terms, typed by the shape (XML carries only text). Members absent
/// from the element are absent from the value, as botocore leaves them out.
pub(super) fn read(service: &Service, shape_name: &str, node: Node) -> Value {
    read_at(service, shape_name, node, 0)
}

fn read_at(service: &Service, shape_name: &str, node: Node, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match service.shape(shape_name) {
        Shape::Structure { members, .. } => {
            let mut out = Map::new();
            for member in members.iter().filter(|m| m.location.is_none()) {
                if let Some(value) = read_member(service, member, node, depth) {
                    out.insert(member.name.clone(), value);
                }
            }
            Value::Object(out)
        }
        // Every child element is an item, whatever its name (`member`, `item`, `Bucket`).
        Shape::List { member, .. } => Value::Array(
            node.children()
                .filter(Node::is_element)
                .map(|c| read_at(service, &member.shape, c, depth + 1))
                .collect(),
        ),
        Shape::Map { .. } => {
            let mut out = Map::new();
            for entry in node.children().filter(Node::is_element) {
                map_entry(service, shape_name, entry, &mut out, depth);
            }
            Value::Object(out)
        }
        shape => scalar(service, shape, node.text().unwrap_or_default()),
    }
}

/// One member of a structure element: a child element, the repeated elements of a flattened
/// list or map, or an attribute.
fn read_member(service: &Service, member: &Member, node: Node, depth: usize) -> Option<Value> {
    let name = key_name(service, member);
    let shape = service.shape(&member.shape);
    let flattened = member.flattened
        || matches!(
            shape,
            Shape::List {
                flattened: true,
                ..
            } | Shape::Map {
                flattened: true,
                ..
            }
        );
    if member.xml_attribute {
        // `xsi:type`: the attribute's local name, whatever prefix the document bound.
        let local = name.rsplit(':').next().unwrap_or(name);
        return node
            .attributes()
            .find(|a| a.name() == local)
            .map(|a| Value::String(a.value().to_owned()));
    }
    if !flattened {
        return child(node, name).map(|c| read_at(service, &member.shape, c, depth + 1));
    }
    let mut items = node
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == name)
        .peekable();
    items.peek()?;
    Some(match shape {
        Shape::List { member: item, .. } => Value::Array(
            items
                .map(|c| read_at(service, &item.shape, c, depth + 1))
                .collect(),
        ),
        _ => {
            let mut out = Map::new();
            for entry in items {
                map_entry(service, &member.shape, entry, &mut out, depth);
            }
            Value::Object(out)
        }
    })
}

/// `<entry><key>k</key><value>v</value></entry>` into `out`.
fn map_entry(
    service: &Service,
    map_shape: &str,
    entry: Node,
    out: &mut Map<String, Value>,
    depth: usize,
) {
    let Shape::Map { key, value, .. } = service.shape(map_shape) else {
        return;
    };
    let key_name = key.location_name.as_deref().unwrap_or("key");
    let value_name = value.location_name.as_deref().unwrap_or("value");
    let Some(k) = child(entry, key_name) else {
        return;
    };
    let v = child(entry, value_name).map_or(Value::Null, |v| {
        read_at(service, &value.shape, v, depth + 1)
    });
    out.insert(k.text().unwrap_or_default().to_owned(), v);
}

/// A scalar's text as botocore types it: numbers and booleans parsed, the rest as it came.
pub(super) fn scalar(service: &Service, shape: &Shape, text: &str) -> Value {
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
        Shape::Boolean {} => Value::Bool(text.trim() == "true"),
        Shape::Timestamp { .. } if epoch_timestamps(service) => {
            match format_time(text.trim(), TimeFormat::Epoch) {
                Value::Null => Value::String(text.to_owned()),
                epoch => epoch,
            }
        }
        _ => Value::String(text.to_owned()),
    }
}

/// A rest-xml request body: `value` as the element `name` of shape `shape_name`, with the
/// namespace the model gives it.
pub(super) fn write_root(
    service: &Service,
    shape_name: &str,
    name: &str,
    namespace: Option<&crate::catalog::XmlNamespace>,
    value: &Value,
) -> String {
    let mut out = String::with_capacity(256);
    write(service, shape_name, name, namespace, value, &mut out, 0);
    out
}

fn write(
    service: &Service,
    shape_name: &str,
    name: &str,
    namespace: Option<&crate::catalog::XmlNamespace>,
    value: &Value,
    out: &mut String,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let open = |out: &mut String, attributes: &str| {
        out.push('<');
        out.push_str(name);
        if let Some(ns) = namespace {
            out.push_str(" xmlns");
            if let Some(prefix) = &ns.prefix {
                out.push(':');
                out.push_str(prefix);
            }
            out.push_str("=\"");
            escape(&ns.uri, out);
            out.push('"');
        }
        out.push_str(attributes);
        out.push('>');
    };
    let close = |out: &mut String| {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    };
    let shape = service.shape(shape_name);
    match (shape, value) {
        (Shape::Structure { members, .. }, Value::Object(given)) => {
            let mut attributes = String::new();
            for member in members.iter().filter(|m| m.xml_attribute) {
                if let Some(v) = given.get(&member.name) {
                    attributes.push(' ');
                    attributes.push_str(member.wire_name());
                    attributes.push_str("=\"");
                    escape(&text(service, &member.shape, v), &mut attributes);
                    attributes.push('"');
                }
            }
            open(out, &attributes);
            for member in members
                .iter()
                .filter(|m| !m.xml_attribute && m.location.is_none())
            {
                if let Some(v) = given.get(&member.name) {
                    let flattened = member.flattened;
                    write_member(service, member, flattened, v, out, depth);
                }
            }
            close(out);
        }
        (
            Shape::List {
                member, flattened, ..
            },
            Value::Array(items),
        ) => {
            // A flattened list repeats the element itself; another wraps its items.
            if *flattened {
                for item in items {
                    write(service, &member.shape, name, None, item, out, depth + 1);
                }
            } else {
                open(out, "");
                let item_name = member.location_name.as_deref().unwrap_or("member");
                for item in items {
                    write(
                        service,
                        &member.shape,
                        item_name,
                        None,
                        item,
                        out,
                        depth + 1,
                    );
                }
                close(out);
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
            if !flattened {
                open(out, "");
            }
            for (k, x) in entries {
                let entry = if *flattened { name } else { "entry" };
                out.push('<');
                out.push_str(entry);
                out.push('>');
                write(
                    service,
                    &key.shape,
                    key_name,
                    None,
                    &Value::String(k.clone()),
                    out,
                    depth + 1,
                );
                write(service, &v.shape, value_name, None, x, out, depth + 1);
                out.push_str("</");
                out.push_str(entry);
                out.push('>');
            }
            if !flattened {
                close(out);
            }
        }
        _ => {
            open(out, "");
            escape(&text(service, shape_name, value), out);
            close(out);
        }
    }
}

fn write_member(
    service: &Service,
    member: &Member,
    flattened: bool,
    value: &Value,
    out: &mut String,
    depth: usize,
) {
    match (service.shape(&member.shape), value) {
        // A member marked flattened repeats its items under the member's name.
        (Shape::List { member: item, .. }, Value::Array(items)) if flattened => {
            for x in items {
                write(
                    service,
                    &item.shape,
                    member.wire_name(),
                    None,
                    x,
                    out,
                    depth + 1,
                );
            }
        }
        _ => write(
            service,
            &member.shape,
            member.wire_name(),
            member.xml_namespace.as_ref(),
            value,
            out,
            depth + 1,
        ),
    }
}

/// A scalar as rest-xml writes it: ISO 8601 timestamps, base64 blobs, `true`/`false`.
fn text(service: &Service, shape_name: &str, value: &Value) -> String {
    use base64::Engine;
    match (service.shape(shape_name), value) {
        (Shape::Blob { .. }, Value::String(s)) => {
            base64::engine::general_purpose::STANDARD.encode(s)
        }
        (Shape::Timestamp { timestamp_format }, Value::String(_)) => {
            let format = match timestamp_format.as_deref() {
                Some("rfc822") => TimeFormat::HttpDate,
                Some("unixTimestamp") => TimeFormat::Epoch,
                _ => TimeFormat::Iso,
            };
            scalar_text(service.shape(shape_name), value, format)
        }
        (shape, v) => scalar_text(shape, v, TimeFormat::Iso),
    }
}

fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
}
