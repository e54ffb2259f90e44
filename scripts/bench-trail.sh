#!/usr/bin/env bash
# Benchmarks `keywarden trail` on generated CloudTrail logs.
#
#   scripts/bench-trail.sh
#
# 1. builds release: the keywarden binary, the event generator and the in-process benchmark
#    (crates/keywarden-core/examples/gen_events.rs, bench_trail.rs) and the decompression-only
#    program (crates/keywarden-app/examples/bench_gunzip.rs);
# 2. generates deterministic CloudTrail files into bench-data/trail/ (git-ignored): AWS's layout,
#    `{"Records":[...]}` files of ~4 MiB, ~1.5 KB per event, a bounded population (2,000 keys,
#    3,000 sessions) and ~280 findings whatever the size (see gen_events.rs);
# 3. in process, one thread pinned to CPU 0: scan / parse / parse+analyze of the 100 MB set;
# 4. whole process, `keywarden trail DIR --format json --now 2026-11-20T12:00:00Z > /dev/null`,
#    BENCH_RUNS times each (median wall, median CPU = user + system, max peak RSS, from wait4):
#      - 100 MB: 2 threads on 2 cores; 1 thread pinned to one core (the per-core figure);
#      - the same events as one 100 MB one-event-per-line file (one big file);
#      - 1 GB: many files vs one big line file;
#      - 1 GB gzipped (each file gzip -6, as AWS delivers them) against decompression alone:
#        `gzip -dc` (two processes over half the files each) and flate2 as trail uses it
#        (bench_gunzip, 2 threads);
#      - peak RSS as the input grows: BENCH_SIZES (default "100M 1G 10G"), BENCH_BIG_RUNS runs
#        each (default 1) above 1 GB; each big set is generated, measured and deleted.
#
# It prints a summary and writes nothing else: BENCHMARKS.md is updated by hand. `trail` exits 1
# on these logs (they hold failing findings); 0, 1 and 2 count as runs, anything else fails the
# script. Knobs: BENCH_RUNS (5), BENCH_SIZES, BENCH_BIG_RUNS (1), BENCH_SEED (42),
# BENCH_KEEP=1 (keep the generated sets, which are otherwise deleted at the end; a kept set is
# reused by the next run), BENCH_SKIP_GZIP=1, BENCH_BIN=PATH (time another build).
#
# Exit status: 0 all measured; 1 a build, the generator or a run failed; 3 not enough disk for
# the largest size (the smaller ones are still measured and printed).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

runs="${BENCH_RUNS:-5}"
big_runs="${BENCH_BIG_RUNS:-1}"
sizes="${BENCH_SIZES:-100M 1G 10G}"
seed="${BENCH_SEED:-42}"
now="2026-11-20T12:00:00Z"
data="bench-data/trail"
bin="${BENCH_BIN:-target/release/keywarden}"
status=0

say() { printf '\n== %s\n' "$*"; }
die() {
    echo "bench-trail.sh: $*" >&2
    exit 1
}

say "machine"
echo "nproc: $(nproc)"
echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "memory: $(free -g 2>/dev/null | awk '/^Mem:/ { print $2 " GiB" }')"
echo "rustc: $(rustc --version)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "disk free under $data: $(df -h --output=avail . | tail -1 | tr -d ' ')"

say "build (release)"
cargo build --release -p keywarden-core --example gen_events --example bench_trail || die "building the keywarden-core examples failed"
cargo build --release -p keywarden-app --example bench_gunzip || die "building bench_gunzip failed"
if [[ -z "${BENCH_BIN:-}" ]]; then
    cargo build --release -p keywarden --bin keywarden || die "building keywarden failed"
fi
[[ -x $bin ]] || die "no executable at $bin"

# measure RUNS LABEL EVENTS BYTES CMD...: runs CMD RUNS times (stdout to /dev/null) and prints
# one summary line: median and best wall, median CPU, max peak RSS, events/s.
measure() {
    local n=$1 label=$2 events=$3 bytes=$4
    shift 4
    python3 - "$n" "$label" "$events" "$bytes" "$@" <<'PY'
import os, statistics, subprocess, sys, time
n, label, events, size, cmd = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
walls, cpus, rss, codes = [], [], [], set()
for _ in range(n):
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    walls.append(time.perf_counter() - start)
    err = child.stderr.read().decode(errors="replace")
    child.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    codes.add(code)
    if code not in (0, 1, 2):
        sys.exit(f"{label}: `{' '.join(cmd)}` exited with {code}: {err[-2000:]}")
    cpus.append(usage.ru_utime + usage.ru_stime)
    rss.append(usage.ru_maxrss / 1024)
wall, best, cpu = statistics.median(walls), min(walls), statistics.median(cpus)
rate = f"{events / wall:>11,.0f} ev/s wall {events / cpu:>11,.0f} ev/s CPU" if events else ""
print(f"{label:<44} wall {wall * 1e3:8.0f} ms (best {best * 1e3:6.0f})  CPU {cpu * 1e3:8.0f} ms  "
      f"peak RSS {max(rss):6.1f} MiB  {size / 1e6 / wall:6.0f} MB/s  {rate}  exit {sorted(codes)}")
PY
}

# generate DIR SIZE [generator options...]: a deterministic set, reused if already there.
generate() {
    local dir=$1 size=$2
    shift 2
    if [[ -f $dir/.complete ]]; then
        return
    fi
    rm -rf "$dir"
    target/release/examples/gen_events --size "$size" --seed "$seed" --out "$dir" "$@" >"$dir.log" || die "the generator failed"
    cp "$dir.log" "$dir/.complete"
}

events_of() { awk '{ print $1 }' "$1/.complete"; }
bytes_of() { awk '{ print $5 }' "$1/.complete"; }

trail=("$bin" trail --format json --now "$now")
mkdir -p "$data"

say "generate $data/100m (100 MiB in ~4 MiB files) and the same events as one line file"
generate "$data/100m" 100M --stats 2>"$data/100m.stats"
cat "$data/100m/.complete" "$data/100m.stats"
generate "$data/100m-lines" 100M --lines
cat "$data/100m-lines/.complete"
ev100=$(events_of "$data/100m")
by100=$(bytes_of "$data/100m")

say "in process: read_document + TrailAnalyzer, one thread pinned to CPU 0, files in memory"
taskset -c 0 target/release/examples/bench_trail "$data/100m" --reps "$((runs < 5 ? 5 : runs))" || die "the in-process benchmark failed"

say "whole process (median of $runs runs; RSS: max of the runs)"
out=$(mktemp)
"${trail[@]}" "$data/100m" >"$out" 2>"$out.err" || true
echo "findings: $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$out"); $(tail -1 "$out.err")"
rm -f "$out" "$out.err"
measure "$runs" "100M files, 2 threads" "$ev100" "$by100" "${trail[@]}" "$data/100m"
measure "$runs" "100M files, 1 thread, pinned to CPU 0" "$ev100" "$by100" taskset -c 0 "${trail[@]}" --threads 1 "$data/100m"
measure "$runs" "100M one line file, 2 threads" "$ev100" "$by100" "${trail[@]}" "$data/100m-lines/events.jsonl"
measure "$runs" "100M one line file, 1 thread, CPU 0" "$ev100" "$by100" taskset -c 0 "${trail[@]}" --threads 1 "$data/100m-lines/events.jsonl"

say "1 GiB: many files vs one big line file"
generate "$data/1g" 1G
generate "$data/1g-lines" 1G --lines
ev1g=$(events_of "$data/1g")
by1g=$(bytes_of "$data/1g")
cat "$data/1g/.complete"
measure "$runs" "1G files, 2 threads" "$ev1g" "$by1g" "${trail[@]}" "$data/1g"
measure "$runs" "1G one line file, 2 threads" "$ev1g" "$by1g" "${trail[@]}" "$data/1g-lines/events.jsonl"

if [[ -z "${BENCH_SKIP_GZIP:-}" ]]; then
    say "1 GiB gzipped (gzip -6 per file) vs decompression alone"
    gz="$data/1g-gz"
    if [[ ! -f $gz/.complete ]]; then
        rm -rf "$gz"
        mkdir -p "$gz"
        (cd "$data/1g" && find . -name '*.json' -print0 | xargs -0 -n 16 -P 2 sh -c 'for f; do mkdir -p "../1g-gz/$(dirname "$f")"; gzip -6 -c "$f" > "../1g-gz/$f.gz"; done' sh)
        cp "$data/1g/.complete" "$gz/.complete"
    fi
    gzbytes=$(find "$gz" -name '*.gz' -printf '%s\n' | awk '{ s += $1 } END { print s }')
    echo "$gz: $gzbytes compressed bytes ($(awk -v a="$by1g" -v b="$gzbytes" 'BEGIN { printf "%.1f", a / b }')x)"
    measure "$runs" "1G gzipped files, trail, 2 threads" "$ev1g" "$by1g" "${trail[@]}" "$gz"
    measure "$runs" "1G gzipped files, trail, 1 thread, CPU 0" "$ev1g" "$by1g" taskset -c 0 "${trail[@]}" --threads 1 "$gz"
    list=$(mktemp)
    find "$gz" -name '*.gz' | sort >"$list"
    measure "$runs" "gzip -dc alone, 2 processes" 0 "$by1g" sh -c "xargs -n 64 -P 2 gzip -dc < '$list' > /dev/null"
    measure "$runs" "gzip -dc alone, 1 process, CPU 0" 0 "$by1g" taskset -c 0 sh -c "xargs gzip -dc < '$list' > /dev/null"
    measure "$runs" "flate2 alone (bench_gunzip), 2 threads" 0 "$by1g" target/release/examples/bench_gunzip --threads 2 "$gz"
    measure "$runs" "flate2 alone (bench_gunzip), 1 thread, CPU 0" 0 "$by1g" taskset -c 0 target/release/examples/bench_gunzip --threads 1 "$gz"
    rm -f "$list"
fi

say "peak RSS as the input grows (files, 2 threads)"
for size in $sizes; do
    case $size in
        100M) dir="$data/100m" n=$runs ;;
        1G) dir="$data/1g" n=$runs ;;
        *)
            dir="$data/$(tr '[:upper:]' '[:lower:]' <<<"$size")"
            n=$big_runs
            need=$(awk -v s="$size" 'BEGIN { m = substr(s, length(s)); v = substr(s, 1, length(s) - 1); f = (m == "G") ? 2^30 : (m == "M") ? 2^20 : 1; printf "%d", v * f * 1.15 / 1024 }')
            avail=$(df --output=avail -k . | tail -1)
            if [[ ! -f $dir/.complete ]] && ((avail < need)); then
                echo "$size: NOT MEASURED: needs ~$((need / 1048576)) GiB free, $((avail / 1048576)) GiB available"
                status=3
                continue
            fi
            start=$(date +%s.%N)
            generate "$dir" "$size"
            echo "generated $(cat "$dir/.complete") in $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }') s"
            ;;
    esac
    measure "$n" "$size files, 2 threads" "$(events_of "$dir")" "$(bytes_of "$dir")" "${trail[@]}" "$dir"
    if [[ $size != 100M && $size != 1G && -z "${BENCH_KEEP:-}" ]]; then
        rm -rf "$dir" "$dir.log"
    fi
done

if [[ -z "${BENCH_KEEP:-}" ]]; then
    rm -rf "$data/100m" "$data/100m-lines" "$data/1g" "$data/1g-lines" "$data/1g-gz" "$data"/*.log "$data"/*.stats
fi
echo
echo "targets: parse + nine detections >= 500,000 events/s per core (uncompressed), both cores used"
echo "         with several files; peak RSS <= 100 MiB from 100 MB to 10 GB"
exit $status
