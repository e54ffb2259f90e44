#!/usr/bin/env bash
# Benchmarks the live `keywarden audit` on a 5,000-user account served by moto, and Prowler on
# the same server.
#
#   scripts/bench-live.sh
#
# 1. builds keywarden in release (`cargo build --release -p keywarden`; ~10 min the first time);
# 2. ensures the pinned moto venv (scripts/ensure-moto.sh) and, unless BENCH_PROWLER=0, Prowler
#    in its own venv, bench/.prowler-venv (git-ignored, ~2.3 GB), from bench/prowler-requirements.txt;
# 3. starts the moto launcher (tests/moto/launcher.py, wrapped by bench/timed_launcher.py, which
#    times every request the server serves) on 127.0.0.1 with bench/scenario-5000.json:
#    BENCH_USERS bulk users (default 5000; keys of all ages), a root user with a key and no MFA,
#    a weak password policy, two trails, and the credential report in AWS's shape with
#    GeneratedTime = the scenario's `now` (so it is fresh and reused, not regenerated);
# 4. runs `keywarden audit --no-enrich --format json --stats --now <now>` once to warm up (its
#    first GetCredentialReport finds no report and generates one: recorded as `no-enrich (cold)`),
#    then BENCH_RUNS (default 10) times, and the default enriched audit BENCH_ENRICHED_RUNS
#    (default 3) times, each under /usr/bin/time -v: wall time process start to exit, peak RSS,
#    CPU; the --stats request counts; the server's busy time (the union of the intervals during
#    which it was serving a request) and the server process's CPU time during the run;
# 5. replays the enriched run's exact request sequence one request at a time with a minimal
#    stdlib HTTP client (bench/replay.py): what the server needs for those requests alone; then
#    two what-if subsets of it (fewer per-user calls; see below) for the server time they need;
# 6. BENCH_SWEEP="1 4 16" (default empty): one enriched run per --concurrency value;
# 6b. calls economy (issue 14): BENCH_NAIVE=1 runs the naive boto3 loop (bench/naive_loop.py:
#    ListUsers, then ListAccessKeys per user and GetAccessKeyLastUsed per key, one at a time);
#    BENCH_STALE=1 adds enriched runs 1 hour after the report (reused, but older than the
#    15-minute freshness bound, so last uses, passwords and MFA are re-read); BENCH_BASELINE_BIN
#    names another keywarden binary (e.g. main's, built before a change) measured the same way,
#    in the same sitting; BENCH_BIN replaces the release build by a given binary (a debug build
#    is enough when the server's time dominates);
# 7. runs Prowler BENCH_PROWLER_RUNS times (default 1; ~4 min each) with the comparable check set
#    below, restricted to us-east-1, against the same server (AWS_ENDPOINT_URL);
# 8. stops the launcher (closes its stdin, then kills the PID it started if it has not exited)
#    and prints a summary. Per-run records go to bench/results/ (git-ignored). BENCHMARKS.md is
#    updated by hand.
#
# Everything talks to 127.0.0.1 only; each command has a time bound (`timeout`), and the launcher
# stops by itself after BENCH_MAX_SECONDS (default 3600).
#
# Exit status: 0 all measured; 1 a build, setup or run failed (a keywarden exit status other than
# 0, 1 or 2 counts as a failure; 1 is expected: the account has failing findings).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

users="${BENCH_USERS:-5000}"
runs="${BENCH_RUNS:-10}"
enriched_runs="${BENCH_ENRICHED_RUNS:-3}"
sweep="${BENCH_SWEEP:-}"
prowler="${BENCH_PROWLER:-1}"
prowler_runs="${BENCH_PROWLER_RUNS:-1}"
max_seconds="${BENCH_MAX_SECONDS:-3600}"
bin="${BENCH_BIN:-target/release/keywarden}"
baseline_bin="${BENCH_BASELINE_BIN:-}"
naive="${BENCH_NAIVE:-0}"
stale="${BENCH_STALE:-0}"
results="bench/results/$(date -u +%Y%m%dT%H%M%SZ)"
records="$results/runs.jsonl"
clk_tck="$(getconf CLK_TCK)"

prowler_checks=(
    iam_user_accesskey_unused                     # KEY001
    iam_rotate_access_key_90_days                 # KEY002
    iam_user_two_active_access_key                # KEY003
    iam_user_no_setup_initial_access_key          # KEY005
    iam_user_console_access_unused                # PWD001
    iam_user_mfa_enabled_console_access           # PWD002
    iam_password_policy_minimum_length_14         # PWD003 ...
    iam_password_policy_lowercase
    iam_password_policy_uppercase
    iam_password_policy_number
    iam_password_policy_symbol
    iam_password_policy_reuse_24
    iam_password_policy_expires_passwords_within_90_days_or_less
    iam_no_root_access_key                        # ROOT001
    iam_root_mfa_enabled                          # ROOT002
    iam_root_hardware_mfa_enabled
    cloudtrail_multi_region_enabled               # TRAIL001
    cloudtrail_multi_region_enabled_logging_management_events
)

say() { printf '\n== %s\n' "$*"; }
die() {
    echo "bench-live.sh: $*" >&2
    exit 1
}
for tool in /usr/bin/time curl python3 timeout getconf; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
mkdir -p "$results"

say "machine"
echo "nproc: $(nproc)"
echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
echo "rustc: $(rustc --version)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(git status --porcelain 2>/dev/null | grep -vc '^??' || true) modified tracked file(s)"

if [[ -z "${BENCH_BIN:-}" ]]; then
    say "build (release)"
    cargo build --release -p keywarden || die "release build failed"
fi
[[ -x "$bin" ]] || die "$bin is not an executable"
[[ -z "$baseline_bin" || -x "$baseline_bin" ]] || die "BENCH_BASELINE_BIN=$baseline_bin is not an executable"

say "moto"
python="$(scripts/ensure-moto.sh)" || die "scripts/ensure-moto.sh failed"
"$python" -c 'import moto; print("moto", moto.__version__)'

prowler_bin="bench/.prowler-venv/bin/prowler"
if [[ "$prowler" == 1 ]]; then
    say "prowler"
    stamp="bench/.prowler-venv/.stamp"
    want="$(sha256sum bench/prowler-requirements.txt | cut -d' ' -f1)"
    if [[ ! -x "$prowler_bin" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
        echo "installing Prowler into bench/.prowler-venv (several minutes, ~2.3 GB)" >&2
        python3 -m venv --clear bench/.prowler-venv || die "cannot create bench/.prowler-venv"
        bench/.prowler-venv/bin/pip install -q --upgrade pip || die "pip upgrade failed"
        bench/.prowler-venv/bin/pip install -q -r bench/prowler-requirements.txt ||
            die "pip install prowler failed (PyPI unreachable or no wheel for $(python3 --version))"
        echo "$want" >"$stamp"
    fi
    "$prowler_bin" --version
fi

say "scenario: $users users"
scenario="$results/scenario.json"
python3 - "$users" >"$scenario" <<'EOF'
import json, sys
with open("bench/scenario-5000.json", encoding="utf-8") as f:
    scenario = json.load(f)
scenario["bulk_users"] = int(sys.argv[1])
json.dump(scenario, sys.stdout, indent=1)
EOF
now="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["now"])' "$scenario")"

launcher_pid=""
stop_launcher() {
    if [[ -n "$launcher_pid" ]]; then
        # Closing the launcher's stdin is its signal to exit; the PID is ours, so a kill is safe.
        exec {launcher_in}>&- 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$launcher_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$launcher_pid" 2>/dev/null || true
        launcher_pid=""
    fi
}
trap stop_launcher EXIT

coproc LAUNCHER {
    exec "$python" bench/timed_launcher.py "$scenario" --max-seconds "$max_seconds" 2>"$results/launcher.err"
}
launcher_pid="$LAUNCHER_PID"
launcher_in="${LAUNCHER[1]}"
IFS= read -r -t 120 line <&"${LAUNCHER[0]}" || die "the launcher printed no line (see $results/launcher.err)"
endpoint="$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get("endpoint") or sys.exit("launcher: " + d.get("error", "no endpoint")))' "$line")" ||
    die "launcher failed: $line"
seed_seconds="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seed_seconds"])' "$line")"
echo "endpoint $endpoint, seeded in $seed_seconds s, launcher pid $launcher_pid"

export AWS_ENDPOINT_URL="$endpoint"
export AWS_ACCESS_KEY_ID=AKIAKEYWARDENADMIN00
export AWS_SECRET_ACCESS_KEY=keywarden-launcher-admin-secret-key-0000
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN || true

server_cpu() { # the launcher's CPU seconds so far (utime + stime)
    awk -v tck="$clk_tck" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / tck }' "/proc/$launcher_pid/stat"
}

# measure MODE TIMEOUT CMD...: one run under /usr/bin/time -v, appended to $records.
measure() {
    local mode="$1" bound="$2"
    shift 2
    local n out err tv status cpu_before cpu_after load
    n="$(grep -c "\"mode\": \"$mode\"" "$records" 2>/dev/null || true)"
    n=$((n + 1))
    out="$results/$(echo "$mode" | tr -c 'a-z0-9\n' '-')-$n.out"
    err="${out%.out}.err"
    tv="${out%.out}.time"
    curl -sf "$endpoint/__bench/reset" >/dev/null || die "timing wrapper not answering"
    load="$(cut -d' ' -f1 /proc/loadavg)"
    cpu_before="$(server_cpu)"
    status=0
    timeout "$bound" /usr/bin/time -v -o "$tv" "$@" >"$out" 2>"$err" || status=$?
    cpu_after="$(server_cpu)"
    curl -sf "$endpoint/__bench/stats?log=1" >"${out%.out}.server.json"
    python3 - "$mode" "$n" "$status" "$tv" "$err" "${out%.out}.server.json" "$cpu_before" "$cpu_after" "$load" >>"$records" <<'EOF'
import json, re, sys
mode, n, status, tv, err, server, cpu_before, cpu_after, load = sys.argv[1:]
text = open(tv, encoding="utf-8").read()
def field(name):
    return re.search(re.escape(name) + r": (.*)", text).group(1).strip()
parts = [float(p) for p in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
stats = [l.rstrip() for l in open(err, encoding="utf-8", errors="replace") if re.match(r"keywarden: \d+ AWS requests|\s+\d+\s+\S+:\S+$", l)]
srv = json.load(open(server, encoding="utf-8"))
print(json.dumps({
    "mode": mode, "run": int(n), "exit": int(status), "wall_s": wall,
    "rss_kib": int(field("Maximum resident set size (kbytes)")),
    "user_s": float(field("User time (seconds)")), "sys_s": float(field("System time (seconds)")),
    "requests": srv["requests"], "server_busy_s": round(srv["busy_seconds"], 3),
    "server_sum_s": round(srv["sum_seconds"], 3),
    "server_cpu_s": round(float(cpu_after) - float(cpu_before), 2), "load1_before": float(load),
    "by_action": {a: v["n"] for a, v in srv["by_action"].items()}, "stats": stats,
}))
EOF
    tail -1 "$records" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%-22s run %2d: exit %d, wall %7.3f s, max RSS %6.1f MiB, CPU %6.2f s, %5d requests, server busy %7.3f s (%4.1f%%), server CPU %6.2f s, load %.2f" % (
    r["mode"], r["run"], r["exit"], r["wall_s"], r["rss_kib"] / 1024, r["user_s"] + r["sys_s"], r["requests"],
    r["server_busy_s"], 100 * r["server_busy_s"] / max(r["wall_s"], 1e-9), r["server_cpu_s"], r["load1_before"]))'
    case "$mode" in
    prowler*) [[ "$status" == 0 || "$status" == 3 ]] || die "$mode exited $status (see $err)" ;;
    *) [[ "$status" -le 2 ]] || die "$mode exited $status (see $err)" ;;
    esac
}

kw=("$bin" audit --format json --stats --now "$now")

say "keywarden audit --no-enrich"
measure "no-enrich (cold)" 120 "${kw[@]}" --no-enrich
for _ in $(seq "$runs"); do
    measure "no-enrich" 120 "${kw[@]}" --no-enrich
done

say "keywarden audit (enriched, default --concurrency 8)"
for _ in $(seq "$enriched_runs"); do
    measure "enriched" 600 "${kw[@]}"
done

say "server floor: the last enriched run's requests replayed one at a time (bench/replay.py)"
last_log="$(ls -t "$results"/enriched-*.server.json | head -1)"
measure "replay (sequential)" 600 python3 bench/replay.py "$endpoint" "$last_log"
cat "$(ls -t "$results"/replay--sequential--*.out | head -1)"

say "what-if plans: the same requests without some actions (server time for fewer calls)"
# A: the report is fresh (generated for this run, or 0 s old here), so the re-reads of last use,
#    password and MFA cannot change a verdict; ListAccessKeys (key ids) and ListUserTags stay.
measure "what-if A: no re-reads" 600 python3 bench/replay.py "$endpoint" "$last_log" \
    --drop iam:GetAccessKeyLastUsed,iam:GetLoginProfile,iam:ListMFADevices
# B: A, and the tags (and the user list) from one paginated GetAccountAuthorizationDetails.
measure "what-if B: A + GAAD tags" 600 python3 bench/replay.py "$endpoint" "$last_log" \
    --drop iam:GetAccessKeyLastUsed,iam:GetLoginProfile,iam:ListMFADevices,iam:ListUserTags,iam:ListUsers \
    --append 'iam:GetAccountAuthorizationDetails?Filter.member.1=User'

if [[ -n "$baseline_bin" ]]; then
    say "baseline keywarden ($baseline_bin), enriched"
    for _ in $(seq "$enriched_runs"); do
        measure "enriched (baseline)" 600 "$baseline_bin" audit --format json --stats --now "$now"
    done
fi

if [[ "$stale" == 1 ]]; then
    # One hour after the report: reused (younger than --max-report-age), not fresh.
    later="$(python3 -c 'import datetime,sys; t=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")); print((t+datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$now")"
    say "enriched, report 1 hour old (--now $later)"
    for _ in $(seq "$enriched_runs"); do
        measure "enriched stale" 600 "$bin" audit --format json --stats --now "$later"
        if [[ -n "$baseline_bin" ]]; then
            measure "enriched stale (baseline)" 600 "$baseline_bin" audit --format json --stats --now "$later"
        fi
    done
fi

if [[ "$naive" == 1 ]]; then
    say "naive boto3 loop (bench/naive_loop.py)"
    for _ in $(seq "$enriched_runs"); do
        measure "naive loop" 900 "$python" bench/naive_loop.py
    done
fi

for c in $sweep; do
    measure "enriched c=$c" 900 "${kw[@]}" --concurrency "$c"
done

if [[ "$prowler" == 1 ]]; then
    say "Prowler $("$prowler_bin" --version | awk '{print $2}'): ${#prowler_checks[@]} checks, us-east-1"
    for _ in $(seq "$prowler_runs"); do
        rm -rf "$results/prowler-output"
        measure "prowler" 1200 "$prowler_bin" aws --no-banner --no-color --region us-east-1 \
            --output-formats csv --output-directory "$results/prowler-output" --checks "${prowler_checks[@]}"
        grep -A3 'Overview Results' "$(ls -t "$results"/prowler-*.out | head -1)" || true
    done
fi

stop_launcher

say "requests by action (keywarden --stats, last run of each mode)"
python3 - "$records" <<'EOF'
import json, sys
last = {}
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    last[r["mode"]] = r
for mode, r in last.items():
    if r["stats"]:
        print(mode)
        print("\n".join(r["stats"]))
    else:
        print(mode, "(server side)")
        for action, n in sorted(r["by_action"].items()):
            print("  %7d  %s" % (n, action))
EOF

say "summary ($users users; records in $records)"
python3 bench/summarize.py "$records"
