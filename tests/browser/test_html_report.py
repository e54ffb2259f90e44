"""The HTML report in a real browser (headless Debian Chromium through Playwright).

    test_html_report.py KEYWARDEN_BINARY CHROMIUM OUT_DIR MOTO_PYTHON

Opens the demo's report and checks that the counts shown equal the JSON output's, that filtering
by a rule shows that rule's rows (and the running totals say so), that a column sorts both ways,
and that a finding's detail opens with its evidence, fix and plan action. Then opens the report
of a trail run (a key's timeline), of an organization run on moto (MOTO_PYTHON: the venv of
scripts/ensure-moto.sh; every account at the top, filtered by a click), and of
tests/browser/hostile-report.csv, and checks that hostile user names are shown as text: no
element made from them, no dialog, no script error, no console error, no CSP violation. Saves
screenshots of the demo report to OUT_DIR. Exit 0 when every check passed.
"""

import json
import os
import subprocess
import sys
from collections import Counter

from kwbrowser import Watched, browser, keywarden, keywarden_json

HERE = os.path.dirname(os.path.abspath(__file__))
SEVERITIES = ["critical", "high", "medium", "low"]


def expect(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok  " + what)


def shown_count(page, key):
    return int(page.inner_text('[data-count="%s"]' % key).replace(",", ""))


def column(page, index):
    """The text of one column of the rows drawn, top to bottom."""
    return page.eval_on_selector_all(
        "#kw-table tr.row",
        "(rows, k) => rows.map(r => r.children[k].textContent)",
        index,
    )


def header_index(page, label):
    labels = page.eval_on_selector_all("#kw-table th", "hs => hs.map(h => h.textContent)")
    return labels.index(label)


def check_demo(b, binary, out):
    html = os.path.join(out, "demo-report.html")
    keywarden(binary, ["demo", "--format", "html"], html)
    doc = keywarden_json(binary, ["demo"])
    findings = doc["findings"]
    w = Watched(b)
    page = w.page
    w.open(html)

    # The counts shown are the JSON's.
    expect(shown_count(page, "total") == len(findings), "total count = JSON findings")
    for status in ("fail", "unknown", "exempted"):
        expect(shown_count(page, "status:" + status) == doc["summary"][status],
               "count of %s = JSON summary" % status)
    by_sev = Counter(f["severity"] for f in findings)
    for sev in SEVERITIES:
        expect(shown_count(page, "severity:" + sev) == by_sev[sev], "count of %s = JSON" % sev)
    by_rule = Counter(f["rule"] for f in findings)
    table = page.eval_on_selector_all(
        "#kw-by-rule tr[data-rule]",
        "rows => rows.map(r => [r.dataset.rule, r.children[3].textContent,"
        " r.children[4].textContent, r.children[5].textContent])")
    expect({r[0]: sum(int(x) for x in r[1:]) for r in table} == dict(by_rule),
           "findings by rule = JSON")
    expect(doc["data_source"]["location"] in page.inner_text("#kw-source"), "source shown")
    expect(page.get_attribute("#kw-shown", "data-shown") == str(len(findings)), "all rows shown")
    page.screenshot(path=os.path.join(out, "demo-report.png"), full_page=True)

    # Filter by the rule with the most findings: its rows, and only them.
    rule, n = by_rule.most_common(1)[0]
    options = page.eval_on_selector_all(
        "#kw-filter-rule option", "os => os.map(o => [o.value, o.textContent])")
    value = next(v for v, text in options if text.startswith(rule + " "))
    expect(dict(options)[value].endswith("(%d)" % n), "rule menu shows its running total")
    page.select_option("#kw-filter-rule", value)
    rules_shown = column(page, header_index(page, "rule"))
    expect(rules_shown == [rule] * n, "filter by %s shows its %d rows" % (rule, n))
    expect(page.get_attribute("#kw-shown", "data-shown") == str(n), "shown total follows the filter")
    users = sorted((f["user"] or "") for f in findings if f["rule"] == rule)
    expect(sorted(column(page, header_index(page, "user"))) == users, "filtered rows' users = JSON")
    # The other menus count within the filter.
    sev_options = page.eval_on_selector_all("#kw-filter-severity option", "os => os.map(o => o.textContent)")
    expect(sev_options[0] == "all (%d)" % n, "severity menu totals within the rule filter")
    page.select_option("#kw-filter-rule", "-2")

    # Text search.
    target = next(f for f in findings if f["user"] and f["user"] != "<root_account>")
    page.fill("#kw-search", target["user"])
    page.wait_for_function(
        "n => document.getElementById('kw-shown').dataset.shown == n",
        arg=str(sum(1 for f in findings if target["user"] in (f["user"] or "") + f["message"])),
    )
    expect(True, "search by user name")
    page.fill("#kw-search", "")
    page.wait_for_function(
        "n => document.getElementById('kw-shown').dataset.shown == n", arg=str(len(findings)))

    # Sort by user, both ways.
    k = header_index(page, "user")
    page.click("#kw-table th >> nth=%d" % k)
    shown = column(page, k)
    expect(shown == sorted(shown) and len(shown) == len(findings), "user column sorts ascending")
    expect(page.get_attribute("#kw-table th >> nth=%d" % k, "aria-sort") == "ascending", "aria-sort")
    page.click("#kw-table th >> nth=%d" % k)
    shown = column(page, k)
    expect(shown == sorted(shown, reverse=True), "user column sorts descending")

    # A detail: a KEY001 finding (its evidence, its fix, its plan action).
    page.select_option("#kw-filter-rule", next(v for v, t in options if t.startswith("KEY001 ")))
    page.click("#kw-table tr.row >> nth=0")
    page.wait_for_selector("#kw-detail:not([hidden])")
    user = page.inner_text('#kw-detail dd[data-field="user"]')
    finding = next(f for f in findings if f["rule"] == "KEY001" and f["user"] == user)
    expect(page.inner_text('#kw-detail dd[data-field="message"]') == finding["message"],
           "detail shows the finding's message")
    keys = page.eval_on_selector_all("#kw-evidence tr", "rs => rs.map(r => r.children[0].textContent)")
    expect(keys == list(finding["evidence"].keys()), "detail shows the evidence, in order")
    plan = page.inner_text("#kw-plan")
    expect("deactivate-key" in plan, "detail shows the plan action")
    expect("## How to fix" in page.inner_text("#kw-detail pre"), "detail shows the rule's documentation")
    page.screenshot(path=os.path.join(out, "demo-detail.png"), full_page=True)
    w.check_clean("demo report")
    expect(True, "demo report: no dialog, script error, console error or CSP violation")
    w.close()


def check_hostile(b, binary, out):
    html = os.path.join(out, "hostile-report.html")
    args = ["audit", "--report", os.path.join(HERE, "hostile-report.csv"),
            "--now", "2026-11-20T12:00:00Z"]
    keywarden(binary, args + ["--format", "html"], html)
    users = [f["user"] for f in keywarden_json(binary, args)["findings"]]
    w = Watched(b)
    page = w.page
    w.open(html)
    counts = page.evaluate("""() => ({
        img: document.querySelectorAll('img').length,
        script: document.querySelectorAll('script').length,
        elements_in_cells: document.querySelectorAll('#kw-table td *').length,
        raw_rlo: Array.from(document.querySelectorAll('td, dd, option')).filter(
            e => e.textContent.includes('\\u202e')).length })""")
    expect(counts["img"] == 0, "no <img> made from a user name")
    expect(counts["script"] == 2, "no <script> made from a user name")
    expect(counts["elements_in_cells"] == 0, "table cells hold text only")
    expect(counts["raw_rlo"] == 0, "no raw Bidi override in the page's text")
    shown = column(page, header_index(page, "user"))
    expect("<img src=x onerror=alert(1)>" in shown, "<img ...> user shown as text")
    expect("</script><script>alert(2)</script><!--" in shown, "</script> user shown as text")
    expect("\\u{202e}evil.exe-user" in shown, "Bidi override shown as a visible escape")
    expect("\u202eevil.exe-user" in users, "the JSON has the exact name")
    # Open the hostile user's detail too.
    row = shown.index("<img src=x onerror=alert(1)>")
    page.click("#kw-table tr.row >> nth=%d" % row)
    expect(page.inner_text('#kw-detail dd[data-field="user"]') == "<img src=x onerror=alert(1)>",
           "detail shows the hostile name as text")
    expect(page.evaluate("document.querySelectorAll('img').length") == 0, "still no <img>")
    page.wait_for_timeout(300)
    w.check_clean("hostile report")
    expect(True, "hostile report: no dialog, script error, console error or CSP violation")
    w.close()


def check_trail(b, binary, out):
    """A trail run's report: the key behind the finding gets its timeline, in the page and in the
    finding's detail."""
    logs = os.path.join(HERE, "..", "..", "crates", "keywarden", "tests", "data", "stratus-red-team",
                        "aws.persistence.sts-federation-token.json")
    html = os.path.join(out, "trail-report.html")
    keywarden(binary, ["trail", logs, "--format", "html"], html)
    doc = keywarden_json(binary, ["trail", logs])
    w = Watched(b)
    page = w.page
    w.open(html)
    expect(shown_count(page, "total") == len(doc["findings"]), "trail: total count = JSON")
    items = page.eval_on_selector_all("#kw-timelines li", "ls => ls.map(l => l.textContent)")
    expect(any("session minted" in i for i in items), "trail: the key's timeline shows the session minted")
    page.click("#kw-table tr.row >> nth=0")
    expect("Timeline of AKIA" in page.inner_text("#kw-detail"), "trail: the detail shows the key's timeline")
    page.screenshot(path=os.path.join(out, "trail-report.png"), full_page=True)
    w.check_clean("trail report")
    w.close()


ORG_SCENARIO = {
    "now": "2026-12-01T00:00:00Z",
    "users": [{"name": "mgmt-user", "access_keys": [{"created": "-400d"}]}],
    "organization": {
        "ous": [{"name": "Workloads"}, {"name": "Prod", "parent": "Workloads"}],
        "accounts": [
            {"name": "web", "ou": "Prod", "users": [
                {"name": "web-old", "access_keys": [{"created": "-300d", "last_used": "-1d"}]},
                {"name": "web-idle", "access_keys": [{"created": "-200d"}]}]},
            {"name": "<img src=x onerror=alert(1)>", "ou": "Workloads", "role": False},
            {"name": "old", "ou": "Workloads", "state": "SUSPENDED"},
        ],
    },
}


def check_org(b, binary, out, moto_python):
    """An organization run's report (moto's Organizations, STS and multi-account IAM through
    tests/moto/launcher.py): every account at the top with its name, OU path and status (the one
    that could not be audited and the suspended one included), its counts equal to the JSON's, a
    click on an account filters the table by it, and a hostile account name stays text."""
    launcher = subprocess.Popen(
        [moto_python, os.path.join(HERE, "..", "moto", "launcher.py"), "-", "--max-seconds", "300"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        launcher.stdin.write(json.dumps(ORG_SCENARIO) + "\n")
        launcher.stdin.flush()
        info = json.loads(launcher.stdout.readline())
        env = {"PATH": os.environ.get("PATH", ""), "AWS_ENDPOINT_URL": info["endpoint"],
               "AWS_ACCESS_KEY_ID": info["access_key_id"],
               "AWS_SECRET_ACCESS_KEY": info["secret_access_key"], "AWS_REGION": "us-east-1",
               "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
               "AWS_EC2_METADATA_DISABLED": "true"}
        state = os.path.join(out, "org-state")
        args = ["audit", "--org", "--now", ORG_SCENARIO["now"], "--state-dir", state,
                "--max-attempts", "2"]
        html = os.path.join(out, "org-report.html")
        keywarden(binary, args + ["--format", "html"], html, env=env)
        doc = json.loads(keywarden(binary, args + ["--format", "json"], env=env))
    finally:
        launcher.stdin.close()
        launcher.wait(timeout=60)
    w = Watched(b)
    page = w.page
    w.open(html)
    expect(shown_count(page, "total") == len(doc["findings"]), "org: total count = JSON findings")
    rows = page.eval_on_selector_all(
        "#kw-org tr[data-account]",
        "rs => rs.map(r => ({id: r.getAttribute('data-account'), "
        "cells: Array.from(r.children).map(c => c.textContent)}))")
    by_id = {a["id"]: a for a in doc["accounts"]}
    expect(sorted(r["id"] for r in rows) == sorted(by_id), "org: every account of the run is listed")
    for r in rows:
        a = by_id[r["id"]]
        expect(r["cells"][1] == a["name"] and r["cells"][2] == a["ou_path"]
               and r["cells"][3].startswith(a["status"]) and int(r["cells"][5].replace(",", "")) == a["fail"],
               "org: %s shows its name, OU path, status and failing count" % a["status"])
    expect(page.evaluate("document.querySelectorAll('img').length") == 0,
           "org: the hostile account name made no element")
    web = next(a for a in doc["accounts"] if a["name"] == "web")
    page.click('#kw-org tr[data-account="%s"]' % web["id"])
    page.wait_for_timeout(200)
    accounts = column(page, header_index(page, "account"))
    web_findings = [f for f in doc["findings"] if f["account"] == web["id"]]
    expect(len(accounts) == len(web_findings) and set(accounts) == {web["id"]},
           "org: a click on an account shows its %d finding(s) only" % len(web_findings))
    page.screenshot(path=os.path.join(out, "org-report.png"), full_page=True)
    w.check_clean("org report")
    expect(True, "org report: no dialog, script error, console error or CSP violation")
    w.close()


def check_the_watch(b, out):
    """The checks above can fail: markup slipped into a report is seen (a CSP violation, an
    error) by the same watcher."""
    with open(os.path.join(out, "hostile-report.html"), encoding="utf-8") as f:
        html = f.read()
    tampered = os.path.join(out, "tampered-report.html")
    with open(tampered, "w", encoding="utf-8") as f:
        f.write(html.replace("<body>", "<body><img src=x onerror=alert(1)>", 1))
    w = Watched(b)
    w.open(tampered)
    w.page.wait_for_timeout(300)
    try:
        w.check_clean("tampered report")
    except AssertionError as seen:
        expect("CSP violation" in str(seen) or "console" in str(seen),
               "the watcher sees injected markup: %s" % str(seen)[:160])
    else:
        raise AssertionError("injected markup went unnoticed")
    w.close()


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    binary, chromium, out, moto_python = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    with browser(chromium) as b:
        check_demo(b, binary, out)
        check_hostile(b, binary, out)
        check_trail(b, binary, out)
        check_org(b, binary, out, moto_python)
        check_the_watch(b, out)
    print("browser test: every check passed; screenshots in %s" % out)


if __name__ == "__main__":
    main()
