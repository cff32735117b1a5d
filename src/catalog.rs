//! The supported AWS services and their operations, loaded from `commands/`.
//!
//! The data is generated from the AWS API models (botocore's service definitions, the same the
//! AWS CLI reads) by `scripts/gen-commands.py`: names, shapes, required members, enum values,
//! HTTP bindings, paginators, and whether an operation is read-only. Parsing, help, the guard,
//! the executor and rendering all read it, so they cannot disagree about a command.
//!
//! Every service of the AWS CLI is there (424), 74 MB of JSON in all, so each is embedded
//! gzipped (`commands/services/<name>.json.gz`, listed by `build.rs`) and inflated and parsed
//! the first time a command names it. What help and "did you mean" need about every service
//! (names, titles, counts, aliases) is the small `commands/index.json`; which services have an
//! operation of a given name (`@aws list-functions`) is `commands/operations.json.gz`, read
//! only when a message starts with an operation name.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{LazyLock, OnceLock};

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
    /// None when AWS's Service Authorization Reference has no such service: then no
    /// operation has an IAM action, and the guard refuses them all.
    pub iam_prefix: Option<String>,
    pub operations: Vec<Operation>,
    /// The shapes the model marks sensitive, of every type ([`Shape::is_sensitive`] knows
    /// only the strings, blobs, structures and maps).
    #[serde(default)]
    pub sensitive_shapes: Vec<String>,
    /// Each shape's JSON, parsed the first time something reaches it ([`Service::shape`]):
    /// a command reaches a few dozen of ec2's thousands, and reading the others only as far
    /// as their end makes ec2's first use about twice as fast (BENCHMARKS.md).
    shapes: HashMap<String, LazyShape>,
}

/// A shape's JSON, and the shape once parsed.
#[derive(Debug)]
struct LazyShape {
    json: Box<serde_json::value::RawValue>,
    parsed: OnceLock<Shape>,
}

impl<'de> Deserialize<'de> for LazyShape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LazyShape, D::Error> {
        Ok(LazyShape {
            json: Deserialize::deserialize(d)?,
            parsed: OnceLock::new(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    RestJson,
    Json,
    Query,
    /// EC2's own query dialect.
    Ec2,
    /// S3, Route 53, CloudFront.
    RestXml,
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    /// The AWS CLI's name (`list-functions`).
    pub name: String,
    /// The API's name (`ListFunctions`), as IAM actions spell it.
    pub api: String,
    /// `commands/services/*.json.gz` leave out every member that is null or false, so every
    /// `bool` here has a default and every value that may be null is an `Option`.
    #[serde(default)]
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
    /// Input members whose `http(s)://` value is the value itself (SQS's `QueueUrl`), which
    /// the AWS CLI doesn't fetch either; elsewhere a URL is refused.
    #[serde(default)]
    pub url_members: Vec<String>,
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
    /// PartiQL (`dynamodb execute-statement`): IAM authorizes each statement by its kind,
    /// and `actions` is then empty.
    pub statements: Option<StatementIam>,
}

/// Where an operation carries PartiQL statements, and the IAM action of each kind of
/// statement (`select` → `dynamodb:PartiQLSelect`).
#[derive(Debug, Deserialize)]
pub struct StatementIam {
    /// The input member holding the statement (`Statement`), or a list of them (`Statements`).
    pub member: String,
    /// For a list: the member of each item that holds its statement.
    pub item_member: Option<String>,
    /// Statement kind (`select`, `insert`, `update`, `delete`) → the action it needs.
    pub actions: BTreeMap<String, IamAction>,
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
    #[serde(default)]
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

/// A shape, as `commands/services/*.json.gz` nest it under its type
/// (`{"string": {"enum": […]}}`; see `tagged_by_type` in the generator).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
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

    /// Whether the model marks the named shape sensitive (any type).
    pub fn is_sensitive(&self, shape: &str) -> bool {
        self.sensitive_shapes
            .binary_search_by(|s| s.as_str().cmp(shape))
            .is_ok()
    }

    /// The named shape. The generator only writes reachable shapes, and a test checks that
    /// every reference resolves, so a miss is a bug in `commands/`.
    pub fn shape(&self, name: &str) -> &Shape {
        let lazy = self
            .shapes
            .get(name)
            .unwrap_or_else(|| panic!("commands/{}.json lacks shape {name}", self.service));
        lazy.parsed.get_or_init(|| {
            serde_json::from_str(lazy.json.get()).unwrap_or_else(|e| {
                panic!("commands/{}.json: shape {name} is valid: {e}", self.service)
            })
        })
    }

    /// The names of every shape (for tests and sweeps over the data).
    pub fn shape_names(&self) -> impl Iterator<Item = &str> {
        self.shapes.keys().map(String::as_str)
    }

    /// Whether the service has a shape of this name.
    pub fn has_shape(&self, name: &str) -> bool {
        self.shapes.contains_key(name)
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

/// What the index says about a service, without inflating it.
#[derive(Debug, Deserialize)]
pub struct ServiceEntry {
    /// The AWS CLI's name (`s3api`, `elbv2`, `logs`).
    pub service: String,
    pub title: String,
    pub protocol: Protocol,
    pub iam_prefix: Option<String>,
    /// How many operations, and how many of them are read-only.
    pub operations: usize,
    pub read_only: usize,
}

#[derive(Deserialize)]
struct Index {
    /// Sorted by name.
    services: Vec<ServiceEntry>,
    /// A second name the AWS CLI accepts → the service's name (`runtime.sagemaker`).
    aliases: BTreeMap<String, String>,
    /// The AWS CLI's own commands, which are no API operation, by service (`s3` → `ls`, `cp`…;
    /// `rds` → `generate-db-auth-token`, `wait`).
    local_commands: BTreeMap<String, Vec<String>>,
}

/// All supported services: the index, and each service once something asked for it.
pub struct Catalog {
    index: Index,
    /// Per index entry: its compressed data, and the service once inflated.
    data: Vec<(&'static [u8], OnceLock<Service>)>,
    regions: Vec<String>,
    /// Region → partition, for the regions outside `aws`.
    partitions: HashMap<String, String>,
    /// Operation name → names of the services that have it, for the simplified form
    /// (`invoke my-fn`); read on first use.
    by_operation: OnceLock<HashMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
struct Regions {
    regions: Vec<String>,
    partitions: HashMap<String, String>,
}

/// `(name, gzipped JSON)` of every `commands/services/*.json.gz`, sorted by name.
const SERVICE_DATA: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/service_blobs.rs"));

/// Bounds inflating one embedded file (the largest, ec2, is 3.4 MB of JSON).
const MAX_INFLATED: u64 = 64 << 20;

fn inflate(name: &str, gzipped: &[u8]) -> Vec<u8> {
    let mut text = Vec::with_capacity(gzipped.len() * 16);
    flate2::read::GzDecoder::new(gzipped)
        .take(MAX_INFLATED)
        .read_to_end(&mut text)
        .unwrap_or_else(|e| panic!("commands/{name}.json.gz is valid gzip: {e}"));
    text
}

static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| {
    let index: Index = serde_json::from_str(include_str!("../commands/index.json"))
        .expect("commands/index.json is valid");
    let regions: Regions = serde_json::from_str(include_str!("../commands/regions.json"))
        .expect("commands/regions.json is valid");
    Catalog::new(index, regions)
});

impl Catalog {
    fn new(index: Index, regions: Regions) -> Catalog {
        // Both lists are sorted by name and hold the same names (a test checks it). The
        // names are not compared here: each sits in the binary beside its service's data, and
        // touching them all would page in the whole 4 MB, which an idle bot doesn't need.
        assert_eq!(
            index.services.len(),
            SERVICE_DATA.len(),
            "commands/index.json and commands/services/ list the same services"
        );
        let data = SERVICE_DATA
            .iter()
            .map(|(_, blob)| (*blob, OnceLock::new()))
            .collect();
        Catalog {
            index,
            data,
            regions: regions.regions,
            partitions: regions.partitions,
            by_operation: OnceLock::new(),
        }
    }

    /// The catalog compiled into the binary from `commands/`.
    pub fn builtin() -> &'static Catalog {
        &BUILTIN
    }

    /// What the index says about every service, sorted by name; inflates nothing.
    pub fn entries(&self) -> &[ServiceEntry] {
        &self.index.services
    }

    /// The names the AWS CLI accepts for services: every service's, then the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.index
            .services
            .iter()
            .map(|e| e.service.as_str())
            .chain(self.index.aliases.keys().map(String::as_str))
    }

    /// The index entry of a service, by its name or an alias; inflates nothing.
    pub fn entry(&self, name: &str) -> Option<&ServiceEntry> {
        self.position(name).map(|i| &self.index.services[i])
    }

    fn position(&self, name: &str) -> Option<usize> {
        let name = self.index.aliases.get(name).map_or(name, String::as_str);
        self.index
            .services
            .binary_search_by(|e| e.service.as_str().cmp(name))
            .ok()
    }

    /// Whether `service command` is one of the AWS CLI's own commands, which run on the
    /// user's machine and call no API operation of that name (`s3 ls`, `ec2 wait`).
    pub fn is_local_command(&self, service: &str, command: &str) -> bool {
        let service = self
            .index
            .aliases
            .get(service)
            .map_or(service, String::as_str);
        self.index
            .local_commands
            .get(service)
            .is_some_and(|commands| commands.iter().any(|c| c == command))
    }

    /// The AWS CLI's own commands of a name (`s3` → `cp`, `ls`…), if it has any.
    pub fn local_commands(&self, name: &str) -> Option<&[String]> {
        self.index.local_commands.get(name).map(Vec::as_slice)
    }

    /// The service, by its name or an alias, inflated and parsed on first use.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.position(name).map(|i| self.load(i))
    }

    fn load(&self, i: usize) -> &Service {
        let (blob, cell) = &self.data[i];
        cell.get_or_init(|| Self::decode(&self.index.services[i].service, blob))
    }

    fn decode(name: &str, blob: &[u8]) -> Service {
        let text = inflate(&format!("services/{name}"), blob);
        let mut service: Service = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("commands/services/{name}.json.gz is valid: {e}"));
        service.operations.sort_by(|a, b| a.name.cmp(&b.name));
        service
    }

    /// Inflates and parses a service afresh, without keeping it: what the first command that
    /// names it pays (`benches/pipeline.rs`).
    pub fn load_uncached(&self, name: &str) -> Option<Service> {
        self.position(name)
            .map(|i| Self::decode(&self.index.services[i].service, self.data[i].0))
    }

    /// The size of a service's embedded data, compressed and as JSON.
    pub fn data_size(&self, name: &str) -> Option<(usize, usize)> {
        let blob = self.data[self.position(name)?].0;
        Some((blob.len(), inflate(name, blob).len()))
    }

    /// Every service, each inflated as the iteration reaches it (for tests and sweeps: all of
    /// them take a few hundred MB).
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        (0..self.index.services.len()).map(|i| self.load(i))
    }

    /// Services that have an operation of this name.
    pub fn services_with(&self, operation: &str) -> impl Iterator<Item = &Service> {
        self.names_with(operation)
            .iter()
            .filter_map(|name| self.service(name))
    }

    /// The names of the services that have an operation of this name, inflating none of them.
    pub fn names_with(&self, operation: &str) -> &[String] {
        let by_operation = self.by_operation.get_or_init(|| {
            let text = inflate(
                "operations",
                include_bytes!("../commands/operations.json.gz"),
            );
            serde_json::from_slice(&text).expect("commands/operations.json.gz is valid")
        });
        by_operation.get(operation).map_or(&[], Vec::as_slice)
    }

    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The ARN partition of a region: `aws`, or `aws-cn`, `aws-us-gov`… as botocore lists them.
    pub fn partition(&self, region: &str) -> &str {
        self.partitions.get(region).map_or("aws", String::as_str)
    }
}

/// What to run instead of one of the AWS CLI's own commands ([`Catalog::is_local_command`]).
pub fn local_command_advice(service: &str, command: &str) -> String {
    let changes = |api: &str| {
        format!("Its API operation is `s3api {api}`, which changes resources and is refused here.")
    };
    match (service, command) {
        ("s3", "ls") => "For the buckets, `@aws s3api list-buckets`; for what is in \
                         s3://BUCKET/PREFIX, `@aws s3api list-objects-v2 --bucket BUCKET --prefix PREFIX`."
            .into(),
        ("s3", "cp" | "mv" | "sync") => "It copies files, which a chat can't hold: for an \
                                          object's size, type and dates, `@aws s3api head-object --bucket BUCKET --key KEY`; \
                                          for a listing, `@aws s3api list-objects-v2 --bucket BUCKET`."
            .into(),
        ("s3", "rm") => changes("delete-object"),
        ("s3", "mb") => changes("create-bucket"),
        ("s3", "rb") => changes("delete-bucket"),
        ("s3", "website") => changes("put-bucket-website"),
        (_, "wait") => format!(
            "It repeats a describe command until a state is reached: run that command itself (`@aws {service} --help` lists them)."
        ),
        _ => format!("`@aws {service} --help` lists the commands the bot runs."),
    }
}

/// A service's generated data as plain JSON, with what [`Service`] doesn't keep (patterns).
#[cfg(test)]
pub(crate) fn service_json(name: &str) -> serde_json::Value {
    let (_, blob) = SERVICE_DATA
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a generated service");
    serde_json::from_slice(&inflate(name, blob)).expect("valid JSON")
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
                    assert!(service.has_shape(name), "{}: {name}", op.name);
                }
            }
            // Parsing each shape here also checks that every one is valid.
            for name in service.shape_names() {
                for r in shape_refs(service.shape(name)) {
                    assert!(service.has_shape(r), "{name} → {r}");
                }
            }
        }
    }

    #[test]
    fn operation_names_are_unique_and_classified() {
        let catalog = Catalog::builtin();
        for (entry, service) in catalog.entries().iter().zip(catalog.services()) {
            let mut names: Vec<&str> = service.operations.iter().map(|o| o.name.as_str()).collect();
            names.dedup();
            assert_eq!(names.len(), service.operations.len(), "{}", service.service);
            let read_only = service.operations.iter().filter(|o| o.read_only).count();
            // The index says what the service's own data says.
            assert_eq!(entry.service, service.service);
            assert_eq!(entry.title, service.title);
            assert_eq!(entry.protocol, service.protocol);
            assert_eq!(entry.iam_prefix, service.iam_prefix);
            assert_eq!(entry.operations, service.operations.len());
            assert_eq!(entry.read_only, read_only, "{}", service.service);
            for op in &service.operations {
                // Read-only is IAM's access level: never without an IAM action (fail closed).
                assert!(
                    !op.read_only || !op.iam.actions.is_empty(),
                    "{} {}",
                    service.service,
                    op.name
                );
            }
        }
        // The lists agree: one embedded file per indexed service, and nothing else.
        let embedded: Vec<&str> = SERVICE_DATA.iter().map(|(n, _)| *n).collect();
        let indexed: Vec<&str> = catalog
            .entries()
            .iter()
            .map(|e| e.service.as_str())
            .collect();
        assert_eq!(embedded, indexed);
    }

    #[test]
    fn every_service_of_the_aws_cli_by_its_aws_cli_name() {
        let catalog = Catalog::builtin();
        assert!(catalog.entries().len() > 400, "{}", catalog.entries().len());
        for (name, protocol) in [
            ("ec2", Protocol::Ec2),
            ("s3api", Protocol::RestXml),
            ("route53", Protocol::RestXml),
            ("elbv2", Protocol::Query),
            ("logs", Protocol::Json),
            ("ecs", Protocol::Json),
            ("dynamodb", Protocol::Json),
            ("deploy", Protocol::Json),
            ("configservice", Protocol::Json),
        ] {
            let entry = catalog.entry(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(entry.protocol, protocol, "{name}");
        }
        // Botocore's names where the AWS CLI has its own are not service names.
        assert!(catalog.entry("s3").is_none());
        assert!(catalog.entry("codedeploy").is_none());
        // The AWS CLI's hidden alias.
        assert_eq!(
            catalog.service("runtime.sagemaker").unwrap().service,
            "sagemaker-runtime"
        );
        // IAM prefixes differ from the names, and some services have none in the reference.
        assert_eq!(
            catalog.entry("s3api").unwrap().iam_prefix.as_deref(),
            Some("s3")
        );
        assert_eq!(
            catalog.entry("elbv2").unwrap().iam_prefix.as_deref(),
            Some("elasticloadbalancing")
        );
        let ec2 = catalog.service("ec2").unwrap();
        assert!(ec2.operation("describe-instances").unwrap().read_only);
        assert!(!ec2.operation("terminate-instances").unwrap().read_only);
        let with: Vec<&str> = catalog
            .services_with("list-functions")
            .map(|s| s.service.as_str())
            .collect();
        assert!(with.contains(&"lambda"), "{with:?}");
    }

    /// A service the Service Authorization Reference lacks has no IAM action on any
    /// operation, so nothing of it is read-only and the guard refuses all of it.
    #[test]
    fn services_without_iam_data_fail_closed() {
        let catalog = Catalog::builtin();
        let without: Vec<&ServiceEntry> = catalog
            .entries()
            .iter()
            .filter(|e| e.iam_prefix.is_none())
            .collect();
        assert!(!without.is_empty());
        for entry in without {
            let service = catalog.service(&entry.service).unwrap();
            assert_eq!(entry.read_only, 0, "{}", entry.service);
            assert!(service.operations.iter().all(|o| o.iam.actions.is_empty()));
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
