#!/usr/bin/env bash
# Benchmarks `keywarden audit --org --no-enrich` on an organization served by moto, against the
# floor: the same minimal calls made one at a time by a plain boto3 client (bench/org_floor.py),
# in the same sitting, on the same server.
#
#   scripts/bench-org.sh            # BENCH_ACCOUNTS=100 BENCH_USERS=100 by default
#
# 1. builds keywarden in release (`cargo build --release -p keywarden`) unless BENCH_BIN names a
#    binary;
# 2. starts the moto launcher with an organization of BENCH_ACCOUNTS member accounts (in 4 OUs,
#    two levels) of BENCH_USERS bulk users each, the audit role in each;
# 3. runs the floor once, then `keywarden audit --org --no-enrich --format json --stats` BENCH_RUNS
#    times (default 2) under /usr/bin/time -v (wall time, peak RSS), each run in a fresh state
#    folder; the first run of the server also generates every account's credential report, the
#    later ones reuse them (recorded separately);
# 4. stops the launcher and prints one line per measurement. BENCHMARKS.md is updated by hand.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
accounts="${BENCH_ACCOUNTS:-100}"
users="${BENCH_USERS:-100}"
runs="${BENCH_RUNS:-2}"
concurrency="${BENCH_ACCOUNT_CONCURRENCY:-16}"
bin="${BENCH_BIN:-target/release/keywarden}"
[ -n "${BENCH_BIN:-}" ] || cargo build --release -p keywarden --quiet
python="$(scripts/ensure-moto.sh)"
work="$(mktemp -d)"
fifo="$work/lifeline"
mkfifo "$fifo"
cleanup() { exec 3>&- 2>/dev/null || true; [ -n "${launcher:-}" ] && kill "$launcher" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$python" - "$accounts" "$users" > "$work/scenario.json" <<'PY'
import json, sys
accounts, users = int(sys.argv[1]), int(sys.argv[2])
ous = [{"name": "Workloads"}, {"name": "Prod", "parent": "Workloads"}, {"name": "Dev", "parent": "Workloads"}, {"name": "Sandbox"}]
names = ["Prod", "Dev", "Workloads", "Sandbox"]
print(json.dumps({"now": "2026-12-01T00:00:00Z", "bulk_users": users, "organization": {"ous": ous, "accounts": [
    {"name": f"acct-{i:04d}", "ou": names[i % 4], "bulk_users": users} for i in range(accounts)]}}))
PY
"$python" tests/moto/launcher.py "$work/scenario.json" --max-seconds 3600 < "$fifo" > "$work/line.json" 2> "$work/launcher.err" &
launcher=$!
exec 3> "$fifo"
for _ in $(seq 600); do [ -s "$work/line.json" ] && break; sleep 0.5; done
endpoint="$("$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["endpoint"]); print("seeded in", d["seed_seconds"], "s", file=sys.stderr)' "$work/line.json")"
echo "org: $accounts member accounts + the management account, $users users each; endpoint $endpoint"

floor="$("$python" bench/org_floor.py "$endpoint" keywarden-audit)"
echo "floor (boto3, sequential): $floor"

for run in $(seq "$runs"); do
  state="$work/state-$run"
  rc=0
  /usr/bin/time -v env -i PATH="$PATH" HOME="$work" AWS_ENDPOINT_URL="$endpoint" \
    AWS_ACCESS_KEY_ID=AKIAKEYWARDENADMIN00 AWS_SECRET_ACCESS_KEY=keywarden-launcher-admin-secret-key-0000 \
    AWS_REGION=us-east-1 AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    AWS_EC2_METADATA_DISABLED=true \
    timeout 1800 "$bin" audit --org --no-enrich --format json --stats --now 2026-12-01T00:00:00Z \
      --state-dir "$state" --account-concurrency "$concurrency" > "$work/out.json" 2> "$work/err.txt" || rc=$?
  [ "$rc" -le 2 ] || { cat "$work/err.txt" >&2; exit 1; }
  wall="$(grep 'Elapsed (wall clock)' "$work/err.txt" | awk '{print $NF}')"
  rss="$(grep 'Maximum resident set size' "$work/err.txt" | awk '{print $NF}')"
  reqs="$(grep -E '^keywarden: [0-9]+ AWS requests' "$work/err.txt" | awk '{print $2}')"
  statuses="$("$python" -c 'import json,sys,collections; d=json.load(open(sys.argv[1])); print(dict(collections.Counter(a["status"] for a in d["accounts"])), "findings", len(d["findings"]))' "$work/out.json")"
  echo "keywarden run $run: wall $wall, peak RSS ${rss} KiB, $reqs requests, exit $rc, $statuses"
done
