use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jmespath::ast::Ast;
use serde_json::{json, Map, Value};

use super::*;
use crate::catalog::Catalog;

/// What an expression selects, as far as the API model tells.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Shape(String),
    List(Box<Ty>),
    /// A function's result or a literal: not a member of the model.
    Any,
}

fn element(service: &Service, ty: &Ty) -> Result<Ty, String> {
    match ty {
        Ty::List(e) => Ok((**e).clone()),
        Ty::Any => Ok(Ty::Any),
        Ty::Shape(name) => match service.shape(name) {
            Shape::List { member, .. } => Ok(Ty::Shape(member.shape.clone())),
            other => Err(format!("{name} is a {}, not a list", other.kind())),
        },
    }
}

/// Walks a JMESPath expression over the model: every field must be a member of the shape it
/// is read from. Fails closed on anything it can't follow.
fn check(service: &Service, ast: &Ast, ty: &Ty) -> Result<Ty, String> {
    match ast {
        Ast::Identity { .. } => Ok(ty.clone()),
        Ast::Field { name, .. } => match ty {
            Ty::Any => Ok(Ty::Any),
            Ty::List(_) => Err(format!("`{name}` read from a list")),
            Ty::Shape(shape) => match service.shape(shape) {
                Shape::Structure { members, .. } => members
                    .iter()
                    .find(|m| &m.name == name)
                    .map(|m| Ty::Shape(m.shape.clone()))
                    .ok_or_else(|| format!("{shape} has no member `{name}`")),
                Shape::Map { value, .. } => Ok(Ty::Shape(value.shape.clone())),
                other => Err(format!("`{name}` read from {shape}, a {}", other.kind())),
            },
        },
        Ast::Subexpr { lhs, rhs, .. } => {
            let left = check(service, lhs, ty)?;
            check(service, rhs, &left)
        }
        Ast::Index { .. } => element(service, ty),
        Ast::Slice { .. } => Ok(Ty::List(Box::new(element(service, ty)?))),
        Ast::Projection { lhs, rhs, .. } => {
            let left = check(service, lhs, ty)?;
            let each = element(service, &left)?;
            Ok(Ty::List(Box::new(check(service, rhs, &each)?)))
        }
        Ast::Flatten { node, .. } => {
            let inner = check(service, node, ty)?;
            let each = element(service, &inner)?;
            Ok(match element(service, &each) {
                Ok(e) => Ty::List(Box::new(e)),
                Err(_) => Ty::List(Box::new(each)),
            })
        }
        Ast::ObjectValues { node, .. } => match check(service, node, ty)? {
            Ty::Shape(name) => match service.shape(&name) {
                Shape::Map { value, .. } => Ok(Ty::List(Box::new(Ty::Shape(value.shape.clone())))),
                other => Err(format!("`*` over {name}, a {}", other.kind())),
            },
            other => Ok(Ty::List(Box::new(
                element(service, &other).unwrap_or(Ty::Any),
            ))),
        },
        Ast::Function { args, .. } => {
            for arg in args {
                check(service, arg, ty)?;
            }
            Ok(Ty::Any)
        }
        Ast::MultiList { elements, .. } => {
            for e in elements {
                check(service, e, ty)?;
            }
            Ok(Ty::List(Box::new(Ty::Any)))
        }
        Ast::MultiHash { elements, .. } => {
            for e in elements {
                check(service, &e.value, ty)?;
            }
            Ok(Ty::Any)
        }
        Ast::Literal { .. } => Ok(Ty::Any),
        Ast::Not { node, .. } => check(service, node, ty).map(|_| Ty::Any),
        Ast::Comparison { lhs, rhs, .. } | Ast::And { lhs, rhs, .. } | Ast::Or { lhs, rhs, .. } => {
            check(service, lhs, ty)?;
            check(service, rhs, ty)?;
            Ok(Ty::Any)
        }
        Ast::Condition {
            predicate, then, ..
        } => {
            check(service, predicate, ty)?;
            check(service, then, ty)
        }
        Ast::Expref { .. } => Err("expression references are not checked".into()),
    }
}

fn check_expr(service: &Service, expr: &str, ty: &Ty) -> Result<Ty, String> {
    let compiled = crate::query::compile(expr).map_err(|e| e.to_string())?;
    check(service, compiled.as_ast(), ty)
}

fn lookup(view: &View) -> (&'static Service, &'static Operation) {
    let service = Catalog::builtin()
        .service(&view.service)
        .unwrap_or_else(|| panic!("no service {}", view.service));
    let op = service
        .operation(&view.operation)
        .unwrap_or_else(|| panic!("no operation {} {}", view.service, view.operation));
    (service, op)
}

/// The rows' shape: a list of structures, or one structure.
fn row_shape(service: &Service, op: &Operation, view: &View) -> Result<Ty, String> {
    let output = Ty::Shape(op.output.clone().ok_or("no output")?);
    let rows = check_expr(service, &view.rows, &output)?;
    let row = element(service, &rows).unwrap_or(rows);
    match &row {
        Ty::Shape(name) if matches!(service.shape(name), Shape::Structure { .. }) => Ok(row),
        other => Err(format!(
            "rows `{}` are not structures: {other:?}",
            view.rows
        )),
    }
}

#[test]
fn every_view_selects_members_of_its_output_shape() {
    for view in all() {
        let (service, op) = lookup(view);
        let row = row_shape(service, op, view)
            .unwrap_or_else(|e| panic!("{} {}: {e}", view.service, view.operation));
        assert!(!view.columns.is_empty(), "{}", view.operation);
        for column in &view.columns {
            check_expr(service, &column.expr, &row).unwrap_or_else(|e| {
                panic!(
                    "{} {} column {:?}: {e}",
                    view.service, view.operation, column.title
                )
            });
        }
    }
}

#[test]
fn the_shape_check_catches_what_is_not_in_the_model() {
    let lambda = Catalog::builtin().service("lambda").unwrap();
    let row = Ty::Shape("FunctionConfiguration".into());
    assert!(check_expr(lambda, "FunctionName", &row).is_ok());
    for wrong in [
        "FunctionNme",
        "Layers.Arn",
        "Layers[].Arnn",
        "join(',', [Runtime, Handlr])",
        "sort_by(Layers, &Arn)",
    ] {
        assert!(check_expr(lambda, wrong, &row).is_err(), "{wrong}");
    }
    assert_eq!(
        check_expr(lambda, "Layers[].Arn", &row),
        Ok(Ty::List(Box::new(Ty::Shape("LayerVersionArn".into()))))
    );
}

#[test]
fn the_operations_people_run_most_have_views() {
    for (service, op) in [
        ("lambda", "list-functions"),
        ("lambda", "get-function"),
        ("lambda", "get-function-configuration"),
        ("lambda", "list-versions-by-function"),
        ("lambda", "list-aliases"),
        ("lambda", "list-event-source-mappings"),
        ("cloudwatch", "describe-alarms"),
        ("cloudwatch", "describe-alarm-history"),
        ("cloudwatch", "list-metrics"),
        ("cloudwatch", "get-metric-statistics"),
        ("cloudwatch", "get-metric-data"),
        ("support", "describe-cases"),
        ("support", "describe-communications"),
        ("support", "describe-trusted-advisor-checks"),
    ] {
        assert!(view(service, op).is_some(), "{service} {op}");
    }
    // One view per operation.
    let mut names: Vec<(&str, &str)> = all()
        .iter()
        .map(|v| (v.service.as_str(), v.operation.as_str()))
        .collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len());
}

#[test]
fn timestamp_strings_are_string_shapes_of_the_model() {
    for (service, shapes) in &VIEWS.timestamp_strings {
        let service = Catalog::builtin().service(service).unwrap();
        for shape in shapes {
            assert!(
                matches!(service.shape(shape), Shape::String { .. }),
                "{shape}"
            );
        }
    }
}

/// 2026-11-30 07:52:00 UTC: the time of every snapshot.
pub(crate) fn snapshot_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_025_120)
}

/// A response of the operation's output shape, every member filled deterministically, with
/// `items` items in each list: the fixture of every view's snapshot, made from the model so
/// no view goes untested.
pub(crate) fn sample(service: &Service, op: &Operation, items: usize) -> Value {
    let output = op.output.as_deref().unwrap();
    sample_shape(service, output, "Output", 0, items, 0)
}

fn sample_shape(
    service: &Service,
    shape: &str,
    hint: &str,
    index: usize,
    items: usize,
    depth: usize,
) -> Value {
    let query = service.protocol == crate::catalog::Protocol::Query;
    if is_time(service, shape) {
        // Minutes before the snapshot time: epoch seconds from query services, ISO strings
        // from the others, as the AWS CLI prints them.
        let t = 1_796_025_120 - 300 * (index as i64 + 1);
        return if query {
            json!(t as f64 + 0.427)
        } else if matches!(service.shape(shape), Shape::String { .. }) {
            let dt = DateTime::from_timestamp(t, 0).unwrap();
            json!(dt.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string())
        } else {
            json!(DateTime::from_timestamp(t, 0).unwrap().to_rfc3339())
        };
    }
    match service.shape(shape) {
        Shape::Structure { members, .. } => {
            if depth > 5 {
                return json!({});
            }
            let map: Map<String, Value> = members
                .iter()
                .filter(|m| m.location.is_none())
                .map(|m| {
                    (
                        m.name.clone(),
                        sample_shape(service, &m.shape, &m.name, index, items, depth + 1),
                    )
                })
                .collect();
            Value::Object(map)
        }
        Shape::List { member, .. } => {
            let n = if depth <= 1 { items } else { 1 };
            Value::Array(
                (0..n)
                    .map(|i| sample_shape(service, &member.shape, hint, i, items, depth + 1))
                    .collect(),
            )
        }
        Shape::Map { value, .. } => {
            json!({ "key": sample_shape(service, &value.shape, hint, index, items, depth + 1) })
        }
        Shape::String {
            enum_values: Some(values),
            ..
        } => json!(values[index % values.len()]),
        Shape::String { .. } => {
            if hint.ends_with("Token") || hint.ends_with("Marker") || hint == "nextToken" {
                Value::Null
            } else {
                json!(format!("{}-{}", hint.to_ascii_lowercase(), index + 1))
            }
        }
        Shape::Integer { .. } | Shape::Long { .. } => json!(128 * (index + 1)),
        Shape::Double {} | Shape::Float {} => json!(1.5 * (index + 1) as f64),
        Shape::Boolean {} => json!(index % 2 == 0),
        Shape::Timestamp { .. } => unreachable!("handled above"),
        Shape::Blob { .. } => json!("aGVsbG8="),
    }
}

/// A view's reply body for a sampled response of `items` items, times read at snapshot time.
pub(crate) fn sample_body(view: &View, items: usize) -> Body {
    let (service, op) = lookup(view);
    let mut value = sample(service, op, items);
    crate::render::redact(service, op, &mut value);
    readable_times(service, op, &mut value, snapshot_now());
    body(service, op, &value, 0, false)
}

#[test]
fn every_view_in_shell_form() {
    for view in all() {
        let body = sample_body(view, 3);
        assert!(body.viewed);
        insta::assert_snapshot!(
            format!("shell_{}_{}", view.service, view.operation),
            body.plain()
        );
    }
}

#[test]
fn times_read_from_the_model_not_by_look() {
    let catalog = Catalog::builtin();
    let cw = catalog.service("cloudwatch").unwrap();
    let op = cw.operation("describe-alarms").unwrap();
    let mut v = json!({"MetricAlarms": [{
        "AlarmName": "1796024820",
        "StateUpdatedTimestamp": 1796024820.427,
        "Threshold": 1796024820.0
    }]});
    readable_times(cw, op, &mut v, snapshot_now());
    let alarm = &v["MetricAlarms"][0];
    assert_eq!(
        alarm["StateUpdatedTimestamp"],
        "2026-11-30 07:47 UTC (5 min ago)"
    );
    // A name or a threshold that looks like a time stays what it is.
    assert_eq!(alarm["AlarmName"], "1796024820");
    assert_eq!(alarm["Threshold"], 1796024820.0);

    let lambda = catalog.service("lambda").unwrap();
    let op = lambda.operation("list-functions").unwrap();
    let mut v = json!({"Functions": [{"LastModified": "2026-11-28T07:52:00.000+0000", "Description": "2026-11-28T07:52:00.000+0000"}]});
    readable_times(lambda, op, &mut v, snapshot_now());
    assert_eq!(
        v["Functions"][0]["LastModified"],
        "2026-11-28 07:52 UTC (2 days ago)"
    );
    assert_eq!(
        v["Functions"][0]["Description"],
        "2026-11-28T07:52:00.000+0000"
    );
}

#[test]
fn times_a_query_selects_read_as_people_read_them() {
    let catalog = Catalog::builtin();
    let cw = catalog.service("cloudwatch").unwrap();
    let op = cw.operation("describe-alarms").unwrap();
    let response = json!({"MetricAlarms": [
        {"AlarmName": "late", "StateUpdatedTimestamp": 1796024820.0, "Threshold": 1796024820.0},
        {"AlarmName": "early", "StateUpdatedTimestamp": 1796017620.0, "Threshold": 1.0},
    ]});
    let mut readable = response.clone();
    readable_times(cw, op, &mut readable, snapshot_now());
    let run = |q: &str| {
        let raw = crate::query::search(response.clone(), q).unwrap();
        let shown = crate::query::search(readable.clone(), q).unwrap();
        readable_selected(&raw, &shown, snapshot_now())
    };
    // A projection and a multiselect hash: the times read, the threshold (same number) not.
    assert_eq!(
        run("MetricAlarms[].[AlarmName, StateUpdatedTimestamp, Threshold]"),
        json!([
            ["late", "2026-11-30 07:47 UTC (5 min ago)", 1796024820.0],
            ["early", "2026-11-30 05:47 UTC (2 h ago)", 1.0],
        ])
    );
    assert_eq!(
        run("MetricAlarms[0].{at: StateUpdatedTimestamp}"),
        json!({"at": "2026-11-30 07:47 UTC (5 min ago)"})
    );
    // A bare time selected alone reads too.
    assert_eq!(
        run("MetricAlarms[1].StateUpdatedTimestamp"),
        json!("2026-11-30 05:47 UTC (2 h ago)")
    );
    // Sorting by time: over the readable strings the order could differ; where the two runs
    // disagree, the raw value stays, never another alarm's time.
    let sorted =
        run("sort_by(MetricAlarms, &StateUpdatedTimestamp)[].[AlarmName, StateUpdatedTimestamp]");
    assert_eq!(sorted[0][0], "early");
    assert_eq!(sorted[0][1], "2026-11-30 05:47 UTC (2 h ago)");
    assert_eq!(sorted[1][1], "2026-11-30 07:47 UTC (5 min ago)");
    // Comparing a time with a number selects on the raw run only: nothing is swapped in.
    assert_eq!(
        run("MetricAlarms[?StateUpdatedTimestamp > Threshold].StateUpdatedTimestamp"),
        json!([1796017620.0])
    );
}

#[test]
fn a_query_reply_in_block_kit_and_shell_form() {
    use crate::transport::slack::message::{reply_message, Outgoing};
    let catalog = Catalog::builtin();
    let cw = catalog.service("cloudwatch").unwrap();
    let op = cw.operation("describe-alarms").unwrap();
    let response = json!({"MetricAlarms": [
        {"AlarmName": "myHelloWorld-alarm", "StateValue": "ALARM", "StateUpdatedTimestamp": 1796024820.427},
        {"AlarmName": "orders-latency", "StateValue": "OK", "StateUpdatedTimestamp": 1795852020.0},
    ]});
    let query = "MetricAlarms[].{name: AlarmName, state: StateValue, since: StateUpdatedTimestamp}";
    let mut readable = response.clone();
    readable_times(cw, op, &mut readable, snapshot_now());
    let selected = readable_selected(
        &crate::query::search(response.clone(), query).unwrap(),
        &crate::query::search(readable, query).unwrap(),
        snapshot_now(),
    );
    let text = format!(
        "cloudwatch describe-alarms · dev (111111111111) · us-east-1\n{}",
        crate::render::chat(&selected)
    );
    let reply = crate::pipeline::Reply::new(crate::pipeline::Outcome::Ok, text);
    let Outgoing::Message(body) = reply_message(&reply, "U0DEMO", None) else {
        panic!("expected a message")
    };
    insta::assert_snapshot!(
        "slack_query_times",
        serde_json::to_string_pretty(&body.blocks).unwrap()
    );
    insta::assert_snapshot!(
        "shell_query_times",
        crate::transport::shell::format_reply(&reply)
    );
    // The AWS CLI's formats keep the numbers.
    let json = crate::render::format(
        &crate::query::search(response, query).unwrap(),
        crate::parse::Output::Json,
        "DescribeAlarms",
    );
    assert!(
        json.contains("1796024820.427") && !json.contains(" ago)"),
        "{json}"
    );
}

#[test]
fn relative_times() {
    let now = DateTime::from_timestamp(1_796_025_120, 0).unwrap();
    for (offset, expected) in [
        (0, "2026-11-30 07:42 UTC (just now)"),
        (59, "2026-11-30 07:41 UTC (just now)"),
        (60, "2026-11-30 07:41 UTC (1 min ago)"),
        (3599, "2026-11-30 06:42 UTC (59 min ago)"),
        (3600, "2026-11-30 06:42 UTC (1 h ago)"),
        (47 * 3600, "2026-11-28 08:42 UTC (47 h ago)"),
        (3 * 86_400, "2026-11-27 07:42 UTC (3 days ago)"),
        (-600, "2026-11-30 07:52 UTC (in 10 min)"),
    ] {
        let t = now - chrono::Duration::seconds(600 + offset);
        assert_eq!(readable(t, now - chrono::Duration::seconds(600)), expected);
    }
    assert!(parse_time(&json!("2026-11-30T07:52:00Z")).is_some());
    assert!(parse_time(&json!("2026-11-30T07:52:00.123+00:00")).is_some());
    assert!(parse_time(&json!("yesterday")).is_none());
    assert!(parse_time(&json!(f64::MAX)).is_none());
}

#[test]
fn empty_members_are_left_out() {
    let v = json!({"Functions": [{"FunctionName": "a", "Layers": [], "Description": "", "KMSKeyArn": null, "Environment": {"Variables": {}}, "Timeout": 0}]});
    assert_eq!(
        full(&v, None, 0..0),
        "Functions (1):\n• FunctionName: a\n  Timeout: 0"
    );
    assert_eq!(
        full(&json!({"Functions": []}), None, 0..0),
        "Functions: none"
    );
}

#[test]
fn a_long_list_shows_its_first_page() {
    let view = view("lambda", "list-functions").unwrap();
    let body = sample_body(view, 45);
    assert_eq!(
        body.summary.as_deref(),
        Some("Showing 1–20 of 45 functions.")
    );
    assert_eq!(body.grid.as_ref().unwrap().rows.len(), PAGE_ROWS);
    assert!(body.more);
    let (service, op) = lookup(view);
    let value = sample(service, op, 45);
    let last = super::body(service, op, &value, 40, false);
    assert_eq!(
        last.summary.as_deref(),
        Some("Showing 41–45 of 45 functions.")
    );
    assert!(!last.more);
    assert_eq!(last.grid.unwrap().rows[0][0], "functionname-41");
    // Cut by AWS (a NextToken): the count is a lower bound and there is more.
    let cut = super::body(service, op, &value, 40, true);
    assert_eq!(
        cut.summary.as_deref(),
        Some("Showing 41–45 of 45+ functions.")
    );
    assert!(cut.more);
    // One row reads as one, not as a range from it to itself.
    let one = super::body(service, op, &sample(service, op, 1), 0, true);
    assert_eq!(one.summary.as_deref(), Some("Showing 1 of 1+ functions."));
    // Without a view the list pages too, and its items read in full less the empty members.
    let versions = service.operation("list-layers").unwrap();
    let layers = sample(service, versions, 25);
    let plain = super::body(service, versions, &layers, 0, false);
    assert!(!plain.viewed);
    assert_eq!(plain.summary.as_deref(), Some("Showing 1–20 of 25 items."));
    assert_eq!(plain.lines.matches("• ").count(), 20, "{}", plain.lines);
    assert_eq!(plain.next_rows, 5);
}

#[test]
fn a_page_without_a_view_holds_what_fits_in_a_message() {
    let lambda = Catalog::builtin().service("lambda").unwrap();
    let op = lambda.operation("list-layers").unwrap();
    let long = "x".repeat(1_500);
    let layers: Vec<Value> = (0..30)
        .map(|i| json!({"LayerName": format!("layer-{i}"), "LayerArn": long}))
        .collect();
    let value = json!({ "Layers": layers });
    let first = body(lambda, op, &value, 0, false);
    // Six items of 1,500 characters fit in 10,000; seven don't.
    assert_eq!(first.shown, 0..6);
    assert!(first.lines.chars().count() <= PAGE_CHARS);
    assert_eq!(first.summary.as_deref(), Some("Showing 1–6 of 30 items."));
    assert_eq!(first.next_rows, 6);
    // One item longer than a page still shows, alone.
    let huge = json!({"Layers": [{"LayerArn": "y".repeat(20_000)}, {"LayerArn": "z"}]});
    let alone = body(lambda, op, &huge, 0, false);
    assert_eq!(alone.shown, 0..1);
    assert_eq!(alone.next_rows, 1);
}

#[test]
fn monospace_columns_align_by_display_width() {
    let grid = Grid {
        headers: vec!["name".into(), "memory".into()],
        rows: vec![
            vec!["漢字".into(), "128".into()],
            vec!["a-much-longer-name".into(), "–".into()],
        ],
    };
    assert_eq!(
        grid.monospace(),
        "name                memory\n漢字                128\na-much-longer-name  –"
    );
}
