#!/usr/bin/env bash
# Benchmarks the HTML report of a 100,000-finding audit (issue 11's targets: the file under 20 MB,
# the table interactive in headless Chromium in under 2 s, a filter over all rows under 200 ms).
#
#   scripts/bench-html.sh
#
# 1. builds the release binary (cargo build --release -p keywarden);
# 2. generates a deterministic credential report into bench-data/ (git-ignored) with the
#    keywarden-core example gen_report: BENCH_ROWS rows (default 520000, which gives 100,026
#    findings with the default thresholds), seed 42;
# 3. times the report's generation, BENCH_RUNS times (default 5):
#      target/release/keywarden audit --report bench-data/report-520000.csv --format html \
#          --now 2026-11-20T12:00:00Z --report-time 2026-11-20T12:00:00Z > bench-data/report-html.html
#    (hyperfine when installed, else a timed loop), and prints the file's size;
# 4. opens it BENCH_PAGES times (default 5) in headless Debian Chromium through Playwright
#    (tests/browser/bench_html.py; scripts/ensure-chromium.sh and ensure-playwright.sh install
#    them): time until the table is interactive, a filter by the largest rule over all rows, a
#    text search, a sort.
#
# It prints a summary and writes nothing else: BENCHMARKS.md is updated by hand.
# BENCH_BIN=PATH measures another keywarden binary instead of building one.
# Exit status: 0 all measured; 1 a build, the generator, the binary or the browser failed.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

rows="${BENCH_ROWS:-520000}"
runs="${BENCH_RUNS:-5}"
pages="${BENCH_PAGES:-5}"
now="2026-11-20T12:00:00Z"
report="bench-data/report-$rows.csv"
html="bench-data/report-$rows.html"
bin="${BENCH_BIN:-target/release/keywarden}"

say() { printf '\n== %s\n' "$*"; }
die() {
    echo "bench-html.sh: $*" >&2
    exit 1
}

say "machine"
echo "nproc: $(nproc)"
echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

chromium="$(scripts/ensure-chromium.sh)" || die "no Chromium"
python="$(scripts/ensure-playwright.sh)" || die "no Playwright"
echo "browser: $("$chromium" --version 2>/dev/null)"

if [[ -z "${BENCH_BIN:-}" ]]; then
    say "build (release)"
    cargo build --release --locked -p keywarden || die "cargo build --release failed"
fi
[[ -x "$bin" ]] || die "no binary at $bin"

mkdir -p bench-data
if [[ ! -s "$report" ]]; then
    say "generate $report ($rows rows)"
    cargo run --quiet --locked -p keywarden-core --example gen_report -- --rows "$rows" --seed 42 \
        >"$report" || die "gen_report failed"
fi

cmd=("$bin" audit --report "$report" --format html --now "$now" --report-time "$now")
say "generate the HTML report ($runs runs): ${cmd[*]} > $html"
# keywarden exits 1 (failing findings) or 2 (unknown findings: a report file leaves PWD003 and
# TRAIL001 unknown); both are results.
run_once() {
    local status=0
    "${cmd[@]}" >"$html" || status=$?
    [[ $status -le 2 ]] || die "keywarden exited $status"
}
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --runs "$runs" -i --output=pipe "${cmd[*]}"
    run_once
else
    times=()
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        run_once
        times+=($(( ($(date +%s%N) - start) / 1000000 )))
    done
    sorted=($(printf '%s\n' "${times[@]}" | sort -n))
    echo "wall ms per run: ${times[*]}; median ${sorted[$(( runs / 2 ))]} ms"
fi
findings="$(grep -o '"summary":{[^}]*}' "$html" | head -1)"
size=$(stat -c %s "$html")
echo "file: $html, $size bytes ($(( size / 1024 / 1024 )) MiB); $findings"

say "headless Chromium ($pages page loads)"
(cd tests/browser && "$python" bench_html.py "$root/$html" "$chromium" "$pages") ||
    die "the browser benchmark failed"
