#!/usr/bin/env bash
# Usage: benches/medians.sh
# Prints the median of every criterion benchmark recorded under target/criterion (from
# `cargo bench --bench pipeline`), and the interleaved aws/paired summary when there is one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CARGO_TARGET_DIR:-$root/target}/criterion
[ -d "$dir" ] || { echo "$0: no $dir; run cargo bench --bench pipeline first" >&2; exit 1; }
python3 - "$dir" <<'EOF'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
def fmt(ns):
    return f"{ns / 1e6:.3f} ms" if ns >= 1e6 else f"{ns / 1e3:.2f} µs" if ns >= 1e3 else f"{ns:.0f} ns"
for est in sorted(root.glob("*/*/new/estimates.json")):
    name = f"{est.parts[-4]}/{est.parts[-3]}"
    print(f"{name:40} median {fmt(json.loads(est.read_text())['median']['point_estimate'])}")
paired = root / "aws" / "paired.json"
if paired.exists():
    d = json.loads(paired.read_text())
    print(f"aws/paired ({d['rounds']} interleaved rounds):")
    for k, v in {**d["median_us"], **d["median_difference_us"]}.items():
        print(f"  {k:38} median {fmt(v * 1e3)}")
EOF
