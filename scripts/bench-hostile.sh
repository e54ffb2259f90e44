#!/usr/bin/env bash
# Measures `keywarden trail` on hostile input, for the record (BENCHMARKS.md, issue 9):
#
#   scripts/bench-hostile.sh
#
# 1. builds the release binary (BENCH_BIN=PATH times another build and skips the build);
# 2. the gzip bomb: `{"Records":[` + BOMB_SIZE of spaces + one event + `]}`, gzipped (4 GiB of
#    spaces make ~4 MB of gzip), read from a local file: peak RSS and time;
# 3. one line of LINE_SIZE bytes without a newline in a line-per-event file, between two events:
#    time (the line is a bad record, `--max-event-size`; exit 2 is expected).
#
# Each run goes through `/usr/bin/time -v`; the script prints its elapsed time and maximum
# resident set size. Inputs go to bench-data/hostile/ (git-ignored) and are deleted at the end
# unless BENCH_KEEP=1. Knobs: BOMB_SIZE (bytes, default 4 GiB), LINE_SIZE (default 512 MiB);
# small values check the script itself, e.g.
#   BENCH_BIN=target/debug/keywarden BOMB_SIZE=16777216 LINE_SIZE=4194304 scripts/bench-hostile.sh
#
# Exit status: 0 measured; 1 a build failed, or a run did not exit as expected (the bomb 0: two
# events, nothing bad; the long line 2: one bad record), which means the numbers are not the
# ones to record.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bomb_size="${BOMB_SIZE:-4294967296}"
line_size="${LINE_SIZE:-536870912}"
bin="${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/keywarden}"
data="bench-data/hostile"

die() {
    echo "bench-hostile.sh: $*" >&2
    exit 1
}

[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (apt-get install time)"
if [[ -z "${BENCH_BIN:-}" ]]; then
    cargo build --release -p keywarden --bin keywarden || die "building keywarden failed"
fi
[[ -x $bin ]] || die "no executable at $bin"
mkdir -p "$data"

event='{"eventVersion":"1.08","eventID":"EVENT","eventTime":"2024-08-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","userName":"alice","accessKeyId":"AKIAEXAMPLE000000001"}}'

# run LABEL EXPECTED CMD...: runs CMD under /usr/bin/time -v, prints elapsed time and peak RSS;
# any exit status but EXPECTED fails the script.
run() {
    local label=$1 expected=$2
    shift 2
    local report
    report=$(mktemp)
    local code=0
    /usr/bin/time -v -o "$report" "$@" >/dev/null 2>"$report.err" || code=$?
    if ((code != expected)); then
        cat "$report.err" "$report" >&2
        rm -f "$report" "$report.err"
        die "$label: exited with $code, expected $expected"
    fi
    local elapsed rss
    elapsed=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$report")
    rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$report")
    printf '%-52s elapsed %s  peak RSS %s MiB  exit %s  (%s)\n' "$label" "$elapsed" "$((rss / 1024))" "$code" "$(tail -1 "$report.err")"
    rm -f "$report" "$report.err"
}

echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"

bomb="$data/bomb-$bomb_size.json.gz"
if [[ ! -f $bomb ]]; then
    { printf '{"Records":[%s,' "${event/EVENT/before}"; head -c "$bomb_size" /dev/zero | tr '\0' ' '; printf '%s]}' "${event/EVENT/after}"; } | gzip -6 >"$bomb"
fi
echo "gzip bomb: $(stat -c %s "$bomb") bytes of gzip, $bomb_size bytes of spaces"
run "gzip bomb ($bomb_size spaces), local file" 0 "$bin" trail "$bomb" --format json --now 2026-11-20T12:00:00Z

line="$data/line-$line_size.jsonl"
if [[ ! -f $line ]]; then
    { printf '%s\n{"eventID":"' "${event/EVENT/line-1}"; head -c "$line_size" /dev/zero | tr '\0' 'x'; printf '"}\n%s\n' "${event/EVENT/line-3}"; } >"$line"
fi
run "one line of $line_size bytes (a bad record)" 2 "$bin" trail "$line" --format json --now 2026-11-20T12:00:00Z

if [[ -z "${BENCH_KEEP:-}" ]]; then
    rm -rf "$data"
fi
