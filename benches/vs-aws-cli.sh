#!/usr/bin/env bash
# Usage: benches/vs-aws-cli.sh [N]   (default N=20)
# Times `lambda list-functions` in account dev, N runs each, against the local AWS emulator
# (started here through scripts/with-emulator unless MOTO_URL is already set):
#   - the AWS CLI (.venv/bin/aws), with credentials assumed beforehand from
#     arn:aws:iam::111111111111:role/chatops-readonly, so it sees the same data as the bot;
#   - `aws-chatops exec ... -- "@aws lambda list-functions"` (release build), a whole process
#     that loads its configuration, assumes the role with STS and makes the call.
# Prints both medians and the ratio. With criterion results in target/criterion (from
# `scripts/with-emulator cargo bench --bench pipeline`), it also compares the bot's
# in-process time per command (Pipeline::handle, credentials cached, as in the running bot)
# with the AWS CLI's per-command time.
# Uses hyperfine when installed (apt-get install -y hyperfine), a date +%s%N loop otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${MOTO_URL:-}" ]; then
  exec "$root/scripts/with-emulator" "$0" "$@"
fi
n=${1:-20}
cd "$root"
aws=$root/.venv/bin/aws
bot=${CARGO_TARGET_DIR:-$root/target}/release/aws-chatops
cargo build --release --quiet
role=arn:aws:iam::111111111111:role/chatops-readonly

read -r key secret token < <("$aws" sts assume-role --role-arn "$role" \
  --role-session-name bench-aws-cli \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
cli=(env "AWS_ACCESS_KEY_ID=$key" "AWS_SECRET_ACCESS_KEY=$secret" "AWS_SESSION_TOKEN=$token"
  "$aws" lambda list-functions)
chatops=("$bot" exec --config fixtures/config/demo.toml --channel C0DEMO --user U0DEMO
  --account dev -- "@aws lambda list-functions")

# Both must answer, and from the same account.
for cmd in cli chatops; do
  declare -n argv=$cmd
  out=$("${argv[@]}")
  grep -q devOnlyFunction <<<"$out" && ! grep -q prodOnlyFunction <<<"$out" || {
    echo "$0: $cmd did not list account dev's functions:" >&2
    echo "$out" >&2
    exit 1
  }
done

quote() { printf '%q ' "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if command -v hyperfine >/dev/null; then
  echo "hyperfine: $n runs each, 2 warm-up runs"
  hyperfine -N --warmup 2 --runs "$n" --style basic --export-json "$tmp/h.json" \
    -n aws-cli "$(quote "${cli[@]}")" -n aws-chatops "$(quote "${chatops[@]}")" >&2
  python3 - "$tmp/h.json" >"$tmp/medians" <<'EOF'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["command"], r["median"] * 1e3)
EOF
else
  echo "date +%s%N loop: $n runs each, 2 warm-up runs (hyperfine not installed)"
  for cmd in cli chatops; do
    declare -n argv=$cmd
    for i in $(seq -2 "$n"); do
      start=$(date +%s%N)
      "${argv[@]}" >/dev/null
      end=$(date +%s%N)
      [ "$i" -gt 0 ] && echo $(((end - start) / 1000)) >>"$tmp/$cmd"
    done
  done
  for cmd in cli chatops; do
    name=$([ $cmd = cli ] && echo aws-cli || echo aws-chatops)
    echo "$name $(sort -n "$tmp/$cmd" | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m/1000}')"
  done >"$tmp/medians"
fi

python3 - "$tmp/medians" "${CARGO_TARGET_DIR:-$root/target}/criterion" "$n" <<'EOF'
import json, pathlib, sys
medians = dict(line.split() for line in open(sys.argv[1]))
cli, bot = float(medians["aws-cli"]), float(medians["aws-chatops"])
n = sys.argv[3]
print(f"\nlambda list-functions, account dev, median of {n} runs (whole process each):")
print(f"  aws lambda list-functions (AWS CLI)      {cli:8.1f} ms")
print(f"  aws-chatops exec (release)               {bot:8.1f} ms")
print(f"  AWS CLI / aws-chatops exec               {cli / bot:8.1f}x")
est = pathlib.Path(sys.argv[2]) / "aws" / "pipeline_handle" / "new" / "estimates.json"
if est.exists():
    handle = json.loads(est.read_text())["median"]["point_estimate"] / 1e6
    print(f"\nper command in the running bot (criterion aws/pipeline_handle, median; {est.parent.parent}):")
    print(f"  Pipeline::handle, credentials cached     {handle:8.3f} ms")
    print(f"  AWS CLI / Pipeline::handle               {cli / handle:8.1f}x")
else:
    print("\n(no criterion aws/pipeline_handle result: run `scripts/with-emulator cargo bench --bench pipeline` for the in-process comparison)")
EOF
