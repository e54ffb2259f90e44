#!/usr/bin/env bash
# Every offline command and format, run on the demo and on the shared data, into one folder:
# stdout, stderr and the exit status of each run, one file each. Run it before and after a change
# to the printers or the binary and `diff -r` the two folders: the outputs must be byte-identical
# except where docs/json-output.md's changelog says a document changed.
#
#   scripts/output-snapshot.sh OUT_DIR [SHARED_DATA_DIR]
#
# SHARED_DATA_DIR defaults to ../shared/data next to the checkout's parent (the project's shared
# samples: credential reports, CloudTrail, Sigma rules). The clock is fixed (--now, --report-time);
# the one time no flag fixes (a plan's `created_at`) is replaced by `<now>`. Commands that need AWS
# (a live audit, apply, undo, rotate, contain, trail s3:// and --lookup) are covered by the moto
# tests, not here.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/output-snapshot.sh OUT_DIR [SHARED_DATA_DIR]}"
data="${2:-$root/../../shared/data}"
[ -d "$data" ] || data="$root/../shared/data"
[ -d "$data" ] || { echo "output-snapshot.sh: no shared data folder (give it as the second argument)" >&2; exit 2; }
data="$(cd "$data" && pwd)"

cd "$root"
cargo build --workspace --features keywarden/test-hooks --quiet
bin="$root/target/debug/keywarden"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$data/cloudtrail" "$work/cloudtrail"
cp -r "$data/credential-reports" "$work/reports"
cp -r "$data/sigma" "$work/sigma"
cp "$root/crates/keywarden-core/demo/credential-report.csv" "$work/demo-report.csv"
cp -r "$root/crates/keywarden/tests/data/contain" "$work/contain"
cd "$work"
export KEYWARDEN_STATE_DIR=state
export NO_COLOR=1

now=2026-12-01T00:00:00Z
# run NAME ARGS...: stdout, stderr and the exit status of `keywarden ARGS...` under NAME.
run() {
  local name="$1"
  shift
  local rc=0
  "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err" || rc=$?
  echo "$rc" >"$out/$name.rc"
}

formats=(table json csv sarif)

for f in "${formats[@]}"; do
  run "demo.$f" demo --format "$f"
  run "demo-cis.$f" demo --preset cis --format "$f"
done
run demo-select.json demo --select KEY001,KEY002 --format json

for csv in demo-report.csv reports/cloud-custodian/*.csv; do
  name="audit.$(basename "$csv" .csv)"
  for f in "${formats[@]}"; do
    run "$name.$f" audit --report "$csv" --report-time 2026-11-30T00:00:00Z --now "$now" --format "$f"
  done
done

st=cloudtrail/stratus-red-team
samples=(
  "$st/aws.persistence.iam-create-admin-user.json"
  "$st/aws.persistence.sts-federation-token.json"
  "$st/aws.defense-evasion.cloudtrail-stop.json"
  "$st/aws.initial-access.console-login-without-mfa.json"
  cloudtrail/awsdocs/extracted_events.jsonl
  cloudtrail/otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json
)
for s in "${samples[@]}"; do
  name="trail.$(basename "$s" | sed 's/\.jsonl\?$//')"
  for f in "${formats[@]}"; do
    run "$name.$f" trail --now "$now" --threads 1 --format "$f" "$s"
    run "$name.sigma.$f" trail --now "$now" --threads 1 --format "$f" --sigma sigma "$s"
  done
done
for f in "${formats[@]}"; do
  run "trail.all.$f" trail --now "$now" --threads 1 --format "$f" cloudtrail
  run "trail.all.sigma.$f" trail --now "$now" --threads 1 --format "$f" --sigma sigma cloudtrail
done
run trail.window.json trail --now "$now" --threads 1 --format json \
  --since 2024-08-01T00:00:00Z --until 2024-12-01T00:00:00Z --select EVT001,EVT003 cloudtrail
run trail.stdin.json trail --now "$now" --format json - <"$st/aws.persistence.iam-backdoor-user.json"

for f in table json; do
  run "key.federation.$f" key --format "$f" AKIA6V1GNZTT65XQH36M contain
  run "key.ssm.$f" key --format "$f" AKIAW9X2Q2U25SK79UCX cloudtrail
  run "key.unseen.$f" key --format "$f" AKIAIOSFODNN7EXAMPLE cloudtrail
done

"$bin" demo --format json >demo-audit.json || true
"$bin" audit --report reports/cloud-custodian/test_iam_user_unused_keys__iam.GetCredentialReport_2.csv \
  --report-time 2026-11-30T00:00:00Z --now "$now" --format json >cc-audit.json || true
for f in table json; do
  run "plan.demo.$f" plan --from demo-audit.json --format "$f"
  run "plan.cc.$f" plan --from cc-audit.json --delete-after-days 3 --format "$f"
done
run plan.demo.file plan --from demo-audit.json --format json -o plan-out.json
cp plan-out.json "$out/plan.demo.file.written" 2>/dev/null || true
# The one clock no flag fixes: when a plan was made.
sed -i -E -e 's/"created_at": "[^"]*"/"created_at": "<now>"/' -e 's/planned [0-9T:.+-]+/planned <now>/' \
  "$out"/plan.*

for f in table json; do
  run "rules.$f" rules --format "$f"
  run "runs.empty.$f" runs --format "$f"
done
for code in $("$bin" rules --format json | grep -o '"code": *"[A-Z0-9]*"' | grep -o '[A-Z]\+[0-9]\+'); do
  run "rule.$code" rule "$code"
done
for c in audit trail apply contain rotate; do
  run "permissions.$c" permissions --command "$c"
done

echo "output-snapshot.sh: $(ls "$out" | wc -l) files in $out"
