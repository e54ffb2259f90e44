#!/usr/bin/env bash
# Benchmarks `keywarden audit --report` on a large generated credential report.
#
#   scripts/bench-audit.sh
#
# 1. builds release (the keywarden-core examples and the keywarden binary);
# 2. generates a deterministic report into bench-data/ (git-ignored):
#    BENCH_ROWS rows (default 100000), seed BENCH_SEED (default 42);
# 3. runs the in-process benchmark (crates/keywarden-core/examples/bench_audit.rs): parser and
#    audit engine on one thread, the file already in memory, BENCH_REPS repetitions (default 15);
# 4. measures the whole process, BENCH_RUNS times (default 10):
#      target/release/keywarden audit --report bench-data/report-100k.csv --format json \
#          --now 2026-11-20T12:00:00Z > /dev/null
#    wall and CPU time (hyperfine when installed, else a timed loop in Python) and peak RSS
#    (`/usr/bin/time -v`, "Maximum resident set size"), pinned to one core with taskset when
#    available. BENCH_NO_HYPERFINE=1 uses the timed loop even where hyperfine is installed.
#
# It prints a summary and writes nothing else: BENCHMARKS.md is updated by hand.
# `keywarden audit` exits 0 (nothing failing), 1 (failing findings) or 2 (error or unknown
# findings; with a report file PWD003 and TRAIL001 are always unknown, so 2 is expected): all
# three count as a run; any other status (a crash, a signal) fails the script.
#
# BENCH_BIN=PATH measures another keywarden binary (a prototype build) instead of building one.
#
# Exit status: 0 all measured; 1 a build, the generator, the in-process benchmark or the
# binary failed; 3 the in-process part ran but the binary has no `audit --report` yet.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

rows="${BENCH_ROWS:-100000}"
seed="${BENCH_SEED:-42}"
reps="${BENCH_REPS:-15}"
runs="${BENCH_RUNS:-10}"
now="2026-11-20T12:00:00Z"
if [[ "$rows" == 100000 ]]; then
    report="bench-data/report-100k.csv"
else
    report="bench-data/report-$rows.csv"
fi
bin="${BENCH_BIN:-target/release/keywarden}"

say() { printf '\n== %s\n' "$*"; }
die() {
    echo "bench-audit.sh: $*" >&2
    exit 1
}

pin=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then
    pin=(taskset -c 0)
fi

say "machine"
echo "nproc: $(nproc)"
echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "rustc: $(rustc --version)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pinned to: ${pin[*]:-(no taskset)}"

say "build (release)"
cargo build --release -p keywarden-core --example gen_report --example bench_audit || die "building the keywarden-core examples failed"
cli_built=1
if [[ -z "${BENCH_BIN:-}" ]]; then
    cargo build --release -p keywarden --bin keywarden || cli_built=0
fi

say "generate $report ($rows rows, seed $seed)"
mkdir -p bench-data
target/release/examples/gen_report --rows "$rows" --seed "$seed" --now "$now" --stats >"$report.tmp" || die "the generator failed"
mv "$report.tmp" "$report"
bytes=$(stat -c %s "$report")
echo "$report: $bytes bytes"

say "in-process: ReportReader + AuditRun, one thread, file in memory"
inproc_out=$("${pin[@]}" target/release/examples/bench_audit "$report" --reps "$reps" --now "$now") || die "the in-process benchmark failed"
echo "$inproc_out"
inproc_rate=$(awk '$1 == "parse+audit" { print $5 }' <<<"$inproc_out")
parse_rate=$(awk '$1 == "parse" { print $5 }' <<<"$inproc_out")

summary_inproc() {
    say "summary"
    printf '%-44s %s\n' "report" "$report ($rows rows, $bytes bytes)"
    printf '%-44s %s rows/s\n' "in-process parse+audit (median)" "$inproc_rate"
    printf '%-44s %s rows/s\n' "in-process parse only (median)" "$parse_rate"
}

# Whole process: only if the binary exists and has the audit command with --report.
cmd=("$bin" audit --report "$report" --format json --now "$now")
missing=""
if [[ $cli_built == 0 ]]; then
    missing="the keywarden binary does not build"
elif [[ ! -x $bin ]]; then
    missing="there is no executable at $bin"
elif ! help=$("$bin" audit --help 2>&1) || ! grep -q -- "--report" <<<"$help"; then
    missing="\`keywarden audit --help\` does not list --report (the CLI is not there yet)"
fi
if [[ -n "$missing" ]]; then
    summary_inproc
    printf '%-44s %s\n' "whole process" "NOT MEASURED"
    echo >&2
    echo "bench-audit.sh: error: cannot measure the whole process: $missing." >&2
    echo "bench-audit.sh: the in-process numbers above stand; rerun once \`keywarden audit --report FILE --format json --now T\` exists." >&2
    exit 3
fi

# Accepts 0, 1 and 2; anything else is a failure of the binary.
check_status() {
    local status=$1
    case $status in
        0 | 1 | 2) ;;
        *) die "\`${cmd[*]}\` exited with status $status (a crash or a signal, not a verdict)" ;;
    esac
}

say "whole process: ${cmd[*]} > /dev/null"
out_file=$(mktemp)
err_file=$(mktemp)
trap 'rm -f "$out_file" "$err_file"' EXIT
status=0
"${cmd[@]}" >"$out_file" 2>"$err_file" || status=$?
check_status "$status"
echo "exit status $status (0 clean, 1 failing findings, 2 unknown findings or error); JSON output $(stat -c %s "$out_file") bytes"
if [[ $status == 2 ]]; then
    grep -q . "$err_file" && { echo "stderr:"; head -5 "$err_file"; }
fi

# Peak RSS (and a wall time of 10 ms resolution) from /usr/bin/time -v.
rss_max=0
for ((i = 1; i <= runs; i++)); do
    status=0
    /usr/bin/time -v -o "$err_file" "${pin[@]}" "${cmd[@]}" >/dev/null 2>/dev/null || status=$?
    # /usr/bin/time reports the child's status in its own exit status.
    check_status "$status"
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$err_file")
    ((rss > rss_max)) && rss_max=$rss
done
echo "peak RSS over $runs runs: $rss_max KiB ($(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k / 1024 }') MiB)"

# Wall and CPU time (user + system: what the process itself cost, less sensitive than wall
# time to other load on a shared machine).
if [[ -z "${BENCH_NO_HYPERFINE:-}" ]] && command -v hyperfine >/dev/null 2>&1; then
    hyperfine_json=$(mktemp)
    hyperfine --warmup 2 --runs "$runs" -N --ignore-failure --export-json "$hyperfine_json" \
        "${pin[*]} ${cmd[*]}" >&2
    read -r wall_median wall_min wall_mean cpu_mean < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(r["median"] * 1e3, r["min"] * 1e3, r["mean"] * 1e3, (r["user"] + r["system"]) * 1e3)' "$hyperfine_json")
    rm -f "$hyperfine_json"
    wall_tool="hyperfine, $runs runs"
else
    read -r wall_median wall_min wall_mean cpu_mean < <(python3 - "$runs" "${pin[@]}" "${cmd[@]}" <<'PY'
import os, resource, statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm-up
walls, cpus = [], []
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    status = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    walls.append((time.perf_counter() - start) * 1e3)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1e3)
    if status not in (0, 1, 2):
        sys.exit(f"exit status {status}")
print(statistics.median(walls), min(walls), statistics.mean(walls), statistics.mean(cpus))
PY
    ) || die "\`${cmd[*]}\` failed during the timed runs"
    wall_tool="timed loop, $runs runs"
fi

summary_inproc
rate() { awk -v r="$rows" -v ms="$1" 'BEGIN { printf "%.0f", r / (ms / 1000) }'; }
printf '%-44s %.1f ms median, %.1f ms best, %.1f ms mean (%s)\n' "whole process wall" "$wall_median" "$wall_min" "$wall_mean" "$wall_tool"
printf '%-44s %.1f ms mean\n' "whole process CPU (user + system)" "$cpu_mean"
printf '%-44s %s rows/s (wall median), %s rows/s (wall best), %s rows/s (CPU)\n' "whole process throughput" "$(rate "$wall_median")" "$(rate "$wall_min")" "$(rate "$cpu_mean")"
printf '%-44s %s KiB (%.1f MiB)\n' "whole process peak RSS (max of $runs)" "$rss_max" "$(awk -v k="$rss_max" 'BEGIN { print k / 1024 }')"
speed_ok=$(awk -v r="$rows" -v ms="$wall_median" 'BEGIN { print (r / (ms / 1000) >= 1000000) ? "met" : "NOT met" }')
mem_ok=$(awk -v k="$rss_max" 'BEGIN { print (k <= 50 * 1024) ? "met" : "NOT met" }')
printf '%-44s %s\n' "target >= 1,000,000 rows/s whole process" "$speed_ok"
printf '%-44s %s\n' "target peak RSS <= 50 MiB" "$mem_ok"
