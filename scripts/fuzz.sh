#!/usr/bin/env bash
# Fuzzes one of keywarden's parsers for a bounded time.
#
#   scripts/fuzz.sh                              # 60 s of fuzz/fuzz_targets/report_parser.rs
#   FUZZ_TARGET=event_reader scripts/fuzz.sh     # the CloudTrail reader and analyzer instead
#   FUZZ_TARGET=plan_reader scripts/fuzz.sh      # the plan file reader (what apply reads)
#   FUZZ_SECONDS=600 scripts/fuzz.sh             # longer
#   FUZZ_JOBS=2 scripts/fuzz.sh                  # parallel workers (libFuzzer -fork)
#   FUZZ_TARGET=report_parser scripts/fuzz.sh -- -max_len=65536   # extra libFuzzer flags after --
#
# Targets (FUZZ_TARGET):
#   report_parser  credential-report CSV: the report reader, then the whole audit
#   event_reader   CloudTrail documents: the format-detecting event reader, then the analyzer
#   plan_reader    plan files: Plan::from_json, and the guards of every plan it accepts
#
# Installs cargo-fuzz if it is missing. cargo-fuzz passes nightly-only flags (-Z sanitizer=...);
# on a stable toolchain RUSTC_BOOTSTRAP=1 lets them through. If the address sanitizer cannot be
# built here, set FUZZ_SANITIZER=none (panics are still caught; memory errors in unsafe code
# are not, and keywarden-core has none).
#
# Seeds, copied to fuzz/seeds/<target>/ at every run, from ../shared/data (or $KEYWARDEN_DATA):
#   report_parser  the real credential reports in credential-reports/cloud-custodian/, and a
#                  few small generated ones;
#   event_reader   the CloudTrail samples in cloudtrail/stratus-red-team/*.json,
#                  cloudtrail/awsdocs/*.jsonl and cloudtrail/otrf/*.json;
#   plan_reader    the plan files in fuzz/plan-seeds/ (a `keywarden plan`, a rotation's and a
#                  containment's plan).
# New inputs land in fuzz/corpus/<target>/, crashes in fuzz/artifacts/<target>/ (all
# git-ignored). Exit status: 0 when the run ends without a crash, 2 for a bad setting, 1 with
# the crashing inputs' paths printed otherwise.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

target="${FUZZ_TARGET:-report_parser}"
case "$target" in
    report_parser) dict=fuzz/report.dict ;;
    event_reader) dict=fuzz/event.dict ;;
    plan_reader) dict=fuzz/plan.dict ;;
    *)
        echo "fuzz.sh: FUZZ_TARGET must be report_parser, event_reader or plan_reader, not '$target'" >&2
        exit 2
        ;;
esac
seconds="${FUZZ_SECONDS:-60}"
jobs="${FUZZ_JOBS:-1}"
sanitizer="${FUZZ_SANITIZER:-address}"
data="${KEYWARDEN_DATA:-$root/../shared/data}"
extra=()
if [[ "${1:-}" == "--" ]]; then
    shift
    extra=("$@")
fi

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "fuzz.sh: FUZZ_SECONDS must be a positive whole number of seconds, not '$seconds'" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)" >&2
    cargo install cargo-fuzz --locked
fi

seeds="fuzz/seeds/$target"
rm -rf "$seeds"
mkdir -p "$seeds" "fuzz/corpus/$target" "fuzz/artifacts/$target"
real=0
shopt -s nullglob
if [[ $target == report_parser ]]; then
    # Real reports plus small generated ones (both report shapes: with and without the final
    # newline).
    for f in "$data"/credential-reports/cloud-custodian/*.csv; do
        cp "$f" "$seeds/"
        real=$((real + 1))
    done
    if ((real == 0)); then
        echo "fuzz.sh: warning: no real reports found under $data/credential-reports/cloud-custodian" >&2
    fi
    if cargo build --release --quiet -p keywarden-core --example gen_report; then
        for seed in 1 2 3; do
            target/release/examples/gen_report --rows 8 --seed "$seed" >"$seeds/generated-$seed.csv"
        done
        target/release/examples/gen_report --rows 3 --seed 4 --final-newline >"$seeds/generated-4-newline.csv"
    else
        echo "fuzz.sh: warning: could not build the report generator; fuzzing from the real reports only" >&2
    fi
elif [[ $target == plan_reader ]]; then
    # Plans as keywarden writes them (committed: small, and they change with the plan format).
    for f in fuzz/plan-seeds/*.json; do
        cp "$f" "$seeds/"
        real=$((real + 1))
    done
else
    # Real CloudTrail events: Records documents, JSON lines, a Logstash-style export.
    for f in "$data"/cloudtrail/stratus-red-team/*.json "$data"/cloudtrail/awsdocs/*.jsonl "$data"/cloudtrail/otrf/*.json; do
        cp "$f" "$seeds/$(basename "$(dirname "$f")")--$(basename "$f")"
        real=$((real + 1))
    done
    if ((real == 0)); then
        echo "fuzz.sh: warning: no CloudTrail samples found under $data/cloudtrail" >&2
    fi
fi
shopt -u nullglob
echo "fuzz.sh: $(ls "$seeds" | wc -l) seeds in $seeds ($real real samples), target $target, ${seconds}s, $jobs job(s), sanitizer $sanitizer"

args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -dict="$dict" -print_final_stats=1)
if ((jobs > 1)); then
    args+=(-fork="$jobs")
fi

stamp="fuzz/artifacts/$target/.run-started"
touch "$stamp"
status=0
RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --sanitizer "$sanitizer" "$target" \
    "fuzz/corpus/$target" "$seeds" -- "${args[@]}" ${extra[@]+"${extra[@]}"} || status=$?

# Only what this run found: artifacts of earlier runs stay until someone deletes them.
crashes=$(find "fuzz/artifacts/$target" -type f -newer "$stamp" \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) 2>/dev/null | sort)
if [[ $status -ne 0 || -n "$crashes" ]]; then
    echo "fuzz.sh: the fuzzer stopped with status $status" >&2
    if [[ -n "$crashes" ]]; then
        echo "fuzz.sh: failing inputs (reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz $target FILE):" >&2
        echo "$crashes" >&2
    fi
    exit 1
fi
echo "fuzz.sh: no crash in ${seconds}s; corpus: $(ls "fuzz/corpus/$target" | wc -l) inputs in fuzz/corpus/$target"
