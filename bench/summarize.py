"""Summarises scripts/bench-live.sh's per-run records (one JSON object a line).

    python3 bench/summarize.py RUNS.jsonl

Each record: {"mode", "run", "wall_s", "rss_kib", "user_s", "sys_s", "exit", "requests",
"server_busy_s", "server_sum_s", "server_cpu_s", "stats"} (`stats`: keywarden's --stats lines).
Prints, per mode, best and median wall time, peak RSS, CPU, and the share of the wall time the
server spent serving (busy) and on its CPU.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict


def main() -> int:
    runs: dict[str, list[dict]] = defaultdict(list)
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                runs[record["mode"]].append(record)
    header = (
        f"{'mode':<24}{'runs':>5}{'best s':>9}{'median s':>10}{'max RSS MiB':>13}"
        f"{'CPU s':>8}{'requests':>10}{'server busy s':>15}{'busy/wall':>11}{'server CPU s':>14}"
    )
    print(header)
    for mode, records in runs.items():
        walls = [r["wall_s"] for r in records]
        median_run = sorted(records, key=lambda r: r["wall_s"])[(len(records) - 1) // 2]
        print(
            f"{mode:<24}{len(records):>5}{min(walls):>9.3f}{statistics.median(walls):>10.3f}"
            f"{max(r['rss_kib'] for r in records) / 1024:>13.1f}"
            f"{statistics.median(r['user_s'] + r['sys_s'] for r in records):>8.2f}"
            f"{median_run.get('requests') or 0:>10}"
            f"{median_run.get('server_busy_s') or 0:>15.3f}"
            f"{(median_run.get('server_busy_s') or 0) / median_run['wall_s']:>11.1%}"
            f"{median_run.get('server_cpu_s') or 0:>14.2f}"
        )
    def median_wall(mode: str) -> float | None:
        return statistics.median(r["wall_s"] for r in runs[mode]) if runs.get(mode) else None

    enriched, prowler = median_wall("enriched"), median_wall("prowler")
    if enriched and prowler:
        print(f"\nProwler / keywarden enriched (median wall): {prowler / enriched:.1f}x (target: >= 10x)")
    replay = runs.get("replay (sequential)")
    if enriched and replay:
        # keywarden waits on the server: scale each plan's server CPU by the full plan's ratio.
        per_server_second = enriched / replay[-1]["server_cpu_s"]
        for mode in [m for m in runs if m.startswith("what-if")]:
            record = runs[mode][-1]
            estimate = record["server_cpu_s"] * per_server_second
            line = f"{mode}: {record['requests']} requests, server CPU {record['server_cpu_s']:.2f} s"
            line += f" -> estimated keywarden wall {estimate:.1f} s"
            if prowler:
                line += f", {prowler / estimate:.1f}x faster than Prowler"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
