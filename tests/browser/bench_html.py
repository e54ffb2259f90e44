"""The browser half of scripts/bench-html.sh: open a large HTML report in headless Chromium and
time it.

    bench_html.py REPORT.html CHROMIUM [RUNS]

For each run (a fresh page): the time from navigation start until the findings table is drawn
and answers input (the page's `data-kw-ready-at`, performance.now() at the end of its script),
the wall time Playwright saw for the same, then the time of a filter by the rule with the most
findings over all rows (from the select's change event to the rows redrawn), of clearing it, of
a text search over all rows (the first builds the search index), and of a sort by user. Prints
each run and the medians. Exit 1 if the page reported a problem (see kwbrowser.Watched).
"""

import statistics
import sys
import time

from kwbrowser import Watched, browser

CHANGE = """([id, value]) => {
  const sel = document.getElementById(id);
  const t = performance.now();
  sel.value = value;
  sel.dispatchEvent(new Event('change'));
  return [performance.now() - t, document.getElementById('kw-shown').dataset.shown];
}"""

SEARCH = """(q) => {
  const input = document.getElementById('kw-search');
  input.value = q;
  input.dispatchEvent(new Event('input'));
  return null;
}"""

SORT = """(label) => {
  const th = Array.from(document.querySelectorAll('#kw-table th')).find(h => h.textContent === label);
  const t = performance.now();
  th.click();
  return performance.now() - t;
}"""


def one_run(b, report):
    w = Watched(b)
    page = w.page
    start = time.perf_counter()
    w.open(report, timeout_ms=120000)
    wall = (time.perf_counter() - start) * 1000
    attr = lambda name: float(page.get_attribute("html", name))
    ready_at, parse = attr("data-kw-ready-at"), attr("data-kw-parse-ms")
    total = page.get_attribute("#kw-shown", "data-shown")
    options = page.eval_on_selector_all(
        "#kw-filter-rule option", "os => os.map(o => [o.value, o.textContent])")
    counts = [(int(t.rsplit("(", 1)[1].rstrip(")").replace(",", "")), v, t) for v, t in options[1:]]
    n, value, label = max(counts)
    filt, shown = page.evaluate(CHANGE, ["kw-filter-rule", value])
    assert int(shown) == n, (shown, n)
    clear, shown = page.evaluate(CHANGE, ["kw-filter-rule", "-2"])
    assert shown == total
    # The search runs 120 ms after the last keystroke; its own time is what the page records.
    page.evaluate(SEARCH, "smith")
    page.wait_for_function("t => document.getElementById('kw-shown').dataset.shown != t", arg=total)
    search = attr("data-kw-filter-ms")
    sort = page.evaluate(SORT, "user")
    w.check_clean("benchmark report")
    w.close()
    return {"ready_at": ready_at, "wall": wall, "json_parse": parse, "filter": filt,
            "clear": clear, "search": search, "sort": sort, "rows": int(total),
            "filtered": n, "rule": label}


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    report, chromium = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) == 4 else 5
    results = []
    with browser(chromium) as b:
        for k in range(runs):
            r = one_run(b, report)
            results.append(r)
            print("run %d: interactive %.0f ms after navigation (wall %.0f ms; JSON.parse %.0f ms), "
                  "filter %s over %d rows -> %d rows %.1f ms, clear %.1f ms, search %.1f ms, sort %.1f ms"
                  % (k + 1, r["ready_at"], r["wall"], r["json_parse"], r["rule"], r["rows"],
                     r["filtered"], r["filter"], r["clear"], r["search"], r["sort"]))
    med = lambda key: statistics.median(r[key] for r in results)
    print("median of %d: interactive %.0f ms (target < 2000), wall %.0f ms, JSON.parse %.0f ms, "
          "filter %.1f ms (target < 200), clear %.1f ms, search %.1f ms, sort %.1f ms"
          % (runs, med("ready_at"), med("wall"), med("json_parse"), med("filter"), med("clear"),
             med("search"), med("sort")))


if __name__ == "__main__":
    main()
