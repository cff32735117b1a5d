#!/usr/bin/env bash
# Usage: benches/catalog.sh BEFORE_BINARY AFTER_BINARY [N]   (default N=20)
# Issue #12's size and speed, for two release builds of aws-chatops (before and after a
# change to the catalog), against the local AWS emulator (started here through
# scripts/with-emulator unless MOTO_URL is set):
#   - binary size;
#   - `explain` processes (start-up, configuration, catalog, parse, guard; no AWS): the
#     median of N runs for a lambda and an ec2 command;
#   - `exec … "@aws lambda list-functions"` processes against the emulator (with STS);
#   - the resident set of an idle `shell` (the bot waiting for its first message), and the
#     peak of one `explain` of an ec2 command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${MOTO_URL:-}" ]; then
  exec "$root/scripts/with-emulator" "$0" "$@"
fi
before=$1 after=$2 n=${3:-20}
cd "$root"
config=(--config fixtures/config/demo.toml --channel C0DEMO --user U0DEMO --account dev)

median_ms() { # command...: the median wall time of N runs, in ms
  local t=()
  for i in $(seq -2 "$n"); do
    local s=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    local e=$(date +%s%N)
    [ "$i" -gt 0 ] && t+=($(((e - s) / 1000)))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'
}

idle_rss_kib() { # binary: VmRSS of `shell` waiting for its first line
  local dir=$(mktemp -d)
  mkfifo "$dir/in"
  "$1" shell "${config[@]}" <"$dir/in" >/dev/null 2>&1 &
  local pid=$!
  exec 7>"$dir/in"
  # Poll until the process has settled (its RSS stops changing), bounded to 5 s.
  local last=0 rss=0
  for _ in $(seq 50); do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "$rss" = "$last" ] && [ "$rss" != 0 ] && break
    last=$rss
    read -r -t 0.1 <> <(:) || true
  done
  exec 7>&-
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  echo "$rss"
}

peak_rss_kib() { # binary message: the peak resident set of one explain
  /usr/bin/time -f %M "$1" explain "${config[@]}" -- "$2" 2>&1 >/dev/null | tail -1
}

printf '%-52s %12s %12s\n' "" before after
printf '%-52s %12s %12s\n' "binary size (bytes)" "$(stat -c %s "$before")" "$(stat -c %s "$after")"
for msg in "@aws lambda list-functions" "@aws ec2 describe-instances"; do
  printf '%-52s %12s %12s\n' "explain \"$msg\" (ms)" \
    "$(median_ms "$before" explain "${config[@]}" -- "$msg")" \
    "$(median_ms "$after" explain "${config[@]}" -- "$msg")"
done
printf '%-52s %12s %12s\n' "exec \"@aws lambda list-functions\" (ms)" \
  "$(median_ms "$before" exec "${config[@]}" -- "@aws lambda list-functions")" \
  "$(median_ms "$after" exec "${config[@]}" -- "@aws lambda list-functions")"
printf '%-52s %12s %12s\n' "idle shell resident set (KiB)" "$(idle_rss_kib "$before")" "$(idle_rss_kib "$after")"
for msg in "@aws lambda list-functions" "@aws ec2 describe-instances"; do
  printf '%-52s %12s %12s\n' "peak RSS, explain \"$msg\" (KiB)" \
    "$(peak_rss_kib "$before" "$msg")" "$(peak_rss_kib "$after" "$msg")"
done
