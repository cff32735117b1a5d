//! The supported AWS services and their operations, loaded from `commands/`.
//!
//! The data is generated from the AWS API models (botocore's service definitions, the same the
//! AWS CLI reads) by `scripts/gen-commands.py`: names, shapes, required members, enum values,
//! HTTP bindings, paginators, and whether an operation is read-only. Parsing, help, the guard,
//! the executor and rendering all read it, so they cannot disagree about a command.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Service {
    /// The AWS CLI's name for the service (`lambda`, `cloudwatch`, `support`).
    pub service: String,
    pub title: String,
    pub api_version: String,
    pub protocol: Protocol,
    pub endpoint_prefix: String,
    pub signing_name: String,
    pub target_prefix: Option<String>,
    pub json_version: Option<String>,
    pub xml_namespace: Option<String>,
    /// The protocol the AWS CLI speaks to the service, where it differs from `protocol`
    /// (CloudWatch: it prints the timestamps its JSON protocol carries).
    pub cli_protocol: Option<String>,
    /// The IAM service prefix (`lambda`); it differs from the CLI name for some services.
    pub iam_prefix: String,
    pub operations: Vec<Operation>,
    pub shapes: HashMap<String, Shape>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    RestJson,
    Json,
    Query,
    Ec2,
    RestXml,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    /// The AWS CLI's name (`list-functions`).
    pub name: String,
    /// The API's name (`ListFunctions`), as IAM actions spell it.
    pub api: String,
    pub read_only: bool,
    #[serde(default)]
    pub deprecated: bool,
    pub http: Http,
    pub input: Option<String>,
    pub output: Option<String>,
    pub result_wrapper: Option<String>,
    /// rest-xml: the root element of a body made of input members.
    pub input_xml: Option<XmlRoot>,
    /// Prepended to the endpoint's host (`stream-`), with `{Member}` labels.
    pub host_prefix: Option<String>,
    pub paginator: Option<Paginator>,
    /// What IAM authorizes, from AWS's Service Authorization Reference.
    pub iam: Iam,
}

/// An operation's authorization, as the guard evaluates guardrails against it.
#[derive(Debug, Deserialize)]
pub struct Iam {
    /// The IAM actions the operation needs (`lambda:InvokeFunction` for `lambda invoke`);
    /// empty when the reference has none, and the guard then refuses the operation.
    pub actions: Vec<IamAction>,
    /// Resources the parameters name that IAM doesn't authorize the actions on
    /// (`list-event-source-mappings --function-name`): a Deny on them holds too.
    pub related: Vec<IamResource>,
    /// Input members whose value is a whole ARN (`Resource`, `ResourceARN`).
    pub arn_members: Vec<String>,
    /// Lambda: the member that names a version or alias of the function (`Qualifier`).
    pub qualifier_member: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct IamAction {
    /// `lambda:InvokeFunction`
    pub action: String,
    /// `List`, `Read`, `Write`, `Permissions management`, `Tagging`
    pub access_level: String,
    /// The resource types the action authorizes against; none means IAM checks it against `*`.
    pub resources: Vec<IamResource>,
}

#[derive(Debug, Deserialize)]
pub struct IamResource {
    /// `function`, `alarm`, `layerVersion`
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether every call names one (otherwise the action also works without it).
    pub required: bool,
    /// The ARN format: `arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}`.
    pub arn: String,
    /// ARN variable → the input member that fills it (`AlarmName` → `AlarmNames`).
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct XmlRoot {
    pub name: String,
    pub xml_namespace: Option<XmlNamespace>,
}

#[derive(Debug, Deserialize)]
pub struct XmlNamespace {
    pub uri: String,
    pub prefix: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Http {
    pub method: String,
    pub uri: String,
    pub response_code: Option<u16>,
}

#[derive(Debug, Deserialize)]
pub struct Paginator {
    pub input_token: Vec<String>,
    pub output_token: Vec<String>,
    pub limit_key: Option<String>,
    pub result_key: Vec<String>,
    pub more_results: Option<String>,
    #[serde(default)]
    pub non_aggregate_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Shape {
    Structure {
        members: Vec<Member>,
        payload: Option<String>,
        #[serde(default)]
        sensitive: bool,
    },
    String {
        #[serde(rename = "enum")]
        enum_values: Option<Vec<String>>,
        min: Option<i64>,
        max: Option<i64>,
        #[serde(default)]
        sensitive: bool,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Long {
        min: Option<i64>,
        max: Option<i64>,
    },
    Double {},
    Float {},
    Boolean {},
    Timestamp {
        timestamp_format: Option<String>,
    },
    Blob {
        #[serde(default)]
        streaming: bool,
        #[serde(default)]
        sensitive: bool,
    },
    List {
        member: ShapeRef,
        #[serde(default)]
        flattened: bool,
        min: Option<i64>,
    },
    Map {
        key: ShapeRef,
        value: ShapeRef,
        #[serde(default)]
        flattened: bool,
        #[serde(default)]
        sensitive: bool,
    },
}

impl Shape {
    /// What the help and error messages call this kind of value.
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Structure { .. } => "structure",
            Shape::String { .. } => "string",
            Shape::Integer { .. } | Shape::Long { .. } => "integer",
            Shape::Double {} | Shape::Float {} => "number",
            Shape::Boolean {} => "boolean",
            Shape::Timestamp { .. } => "timestamp",
            Shape::Blob { .. } => "blob",
            Shape::List { .. } => "list",
            Shape::Map { .. } => "map",
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(
            self,
            Shape::Structure {
                sensitive: true,
                ..
            } | Shape::String {
                sensitive: true,
                ..
            } | Shape::Blob {
                sensitive: true,
                ..
            } | Shape::Map {
                sensitive: true,
                ..
            }
        )
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(
            self,
            Shape::Structure { .. } | Shape::List { .. } | Shape::Map { .. }
        )
    }
}

#[derive(Debug, Deserialize)]
pub struct ShapeRef {
    pub shape: String,
    pub location_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Member {
    pub name: String,
    pub shape: String,
    /// The AWS CLI's option name, without dashes (`function-name`).
    pub cli_name: String,
    pub location: Option<Location>,
    pub location_name: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub flattened: bool,
    pub timestamp_format: Option<String>,
    #[serde(default)]
    pub json_value: bool,
    #[serde(default)]
    pub idempotency_token: bool,
    #[serde(default)]
    pub deprecated: bool,
    /// ec2: the request name, before the capitalised `location_name`.
    pub query_name: Option<String>,
    /// rest-xml: the member is an attribute of its structure's element.
    #[serde(default)]
    pub xml_attribute: bool,
    /// A streaming payload (the reference says so where the blob shape doesn't).
    #[serde(default)]
    pub streaming: bool,
    pub xml_namespace: Option<XmlNamespace>,
}

impl Member {
    /// The name this member travels under on the wire.
    pub fn wire_name(&self) -> &str {
        self.location_name.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Location {
    Uri,
    Querystring,
    Header,
    Headers,
    StatusCode,
}

impl Service {
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations
            .binary_search_by(|op| op.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.operations[i])
    }

    /// The named shape. The generator only writes reachable shapes, and a test checks that
    /// every reference resolves, so a miss is a bug in `commands/`.
    pub fn shape(&self, name: &str) -> &Shape {
        self.shapes
            .get(name)
            .unwrap_or_else(|| panic!("commands/{}.json lacks shape {name}", self.service))
    }

    /// The input structure's members, in model order (none for operations without input).
    pub fn input_members(&self, op: &Operation) -> &[Member] {
        match op.input.as_deref().map(|name| self.shape(name)) {
            Some(Shape::Structure { members, .. }) => members,
            _ => &[],
        }
    }

    /// The IAM actions an operation needs, by name (`lambda:InvokeFunction`).
    pub fn actions<'a>(&self, op: &'a Operation) -> impl Iterator<Item = &'a str> {
        op.iam.actions.iter().map(|a| a.action.as_str())
    }
}

/// All supported services.
pub struct Catalog {
    services: Vec<Service>,
    regions: Vec<String>,
    /// Region → partition, for the regions outside `aws`.
    partitions: HashMap<String, String>,
    /// Operation name → services that have it, for the simplified form (`invoke my-fn`).
    by_operation: HashMap<String, Vec<usize>>,
}

#[derive(Deserialize)]
struct Regions {
    regions: Vec<String>,
    partitions: HashMap<String, String>,
}

const SERVICE_FILES: [&str; 21] = [
    include_str!("../commands/cloudwatch.json"),
    include_str!("../commands/lambda.json"),
    include_str!("../commands/logs.json"),
    include_str!("../commands/support.json"),
    include_str!("../commands/apigateway.json"),
    include_str!("../commands/autoscaling.json"),
    include_str!("../commands/cloudformation.json"),
    include_str!("../commands/cloudfront.json"),
    include_str!("../commands/dynamodb.json"),
    include_str!("../commands/ec2.json"),
    include_str!("../commands/ecs.json"),
    include_str!("../commands/eks.json"),
    include_str!("../commands/elbv2.json"),
    include_str!("../commands/events.json"),
    include_str!("../commands/kinesis.json"),
    include_str!("../commands/rds.json"),
    include_str!("../commands/route53.json"),
    include_str!("../commands/s3api.json"),
    include_str!("../commands/sns.json"),
    include_str!("../commands/sqs.json"),
    include_str!("../commands/ssm.json"),
];

static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| {
    let services: Vec<Service> = SERVICE_FILES
        .iter()
        .map(|text| serde_json::from_str(text).expect("commands/*.json is valid"))
        .collect();
    let regions: Regions = serde_json::from_str(include_str!("../commands/regions.json"))
        .expect("commands/regions.json is valid");
    Catalog::new(services, regions)
});

impl Catalog {
    fn new(mut services: Vec<Service>, regions: Regions) -> Catalog {
        let mut by_operation: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, service) in services.iter_mut().enumerate() {
            service.operations.sort_by(|a, b| a.name.cmp(&b.name));
            for op in &service.operations {
                by_operation.entry(op.name.clone()).or_default().push(i);
            }
        }
        Catalog {
            services,
            regions: regions.regions,
            partitions: regions.partitions,
            by_operation,
        }
    }

    /// The catalog compiled into the binary from `commands/`.
    pub fn builtin() -> &'static Catalog {
        &BUILTIN
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.service == name)
    }

    /// Services that have an operation of this name.
    pub fn services_with(&self, operation: &str) -> impl Iterator<Item = &Service> {
        self.by_operation
            .get(operation)
            .into_iter()
            .flatten()
            .map(|&i| &self.services[i])
    }

    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The ARN partition of a region: `aws`, or `aws-cn`, `aws-us-gov`… as botocore lists them.
    pub fn partition(&self, region: &str) -> &str {
        self.partitions.get(region).map_or("aws", String::as_str)
    }
}

/// The API name for an AWS CLI name (`get-password-data` → `GetPasswordData`), as IAM spells
/// most actions; only for names the catalog doesn't know (the catalog carries the real ones).
pub fn api_name(cli_name: &str) -> String {
    cli_name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Whether `name` is a real AWS region.
pub fn is_region(name: &str) -> bool {
    Catalog::builtin().regions.iter().any(|r| r == name)
}

/// The candidate closest to `given`, if any is close enough to be a plausible typo.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_refs(shape: &Shape) -> Vec<&str> {
        match shape {
            Shape::Structure { members, .. } => members.iter().map(|m| m.shape.as_str()).collect(),
            Shape::List { member, .. } => vec![member.shape.as_str()],
            Shape::Map { key, value, .. } => vec![key.shape.as_str(), value.shape.as_str()],
            _ => vec![],
        }
    }

    #[test]
    fn every_shape_reference_resolves() {
        for service in Catalog::builtin().services() {
            for op in &service.operations {
                for name in op.input.iter().chain(op.output.iter()) {
                    assert!(service.shapes.contains_key(name), "{}: {name}", op.name);
                }
            }
            for (name, shape) in &service.shapes {
                for r in shape_refs(shape) {
                    assert!(service.shapes.contains_key(r), "{name} → {r}");
                }
            }
        }
    }

    #[test]
    fn operation_names_are_unique_and_classified() {
        for service in Catalog::builtin().services() {
            let mut names: Vec<&str> = service.operations.iter().map(|o| o.name.as_str()).collect();
            names.dedup();
            assert_eq!(names.len(), service.operations.len(), "{}", service.service);
            let read_only = service.operations.iter().filter(|o| o.read_only).count();
            assert!(
                read_only > 0,
                "{} has no read-only operation",
                service.service
            );
            assert!(read_only < service.operations.len());
        }
    }

    #[test]
    fn the_three_services_are_there() {
        let catalog = Catalog::builtin();
        let lambda = catalog.service("lambda").unwrap();
        let invoke = lambda.operation("invoke").unwrap();
        assert_eq!(invoke.api, "Invoke");
        assert!(!invoke.read_only);
        assert!(lambda.operation("list-functions").unwrap().read_only);
        assert!(catalog
            .service("cloudwatch")
            .unwrap()
            .operation("describe-alarms")
            .is_some());
        assert!(catalog
            .service("support")
            .unwrap()
            .operation("create-case")
            .is_some());
        assert!(is_region("eu-west-1"));
        assert!(!is_region("eu-west-99"));
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("lamda", ["lambda", "support"]), Some("lambda"));
        assert_eq!(closest("zzz", ["lambda", "support"]), None);
    }
}
