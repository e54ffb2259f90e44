"""Shared by the HTML report's browser test and benchmark: run keywarden, open a report in the
system Chromium through Playwright, and watch for what must never happen (a dialog, a script
error, a console error, a Content-Security-Policy violation)."""

import json
import os
import subprocess
from contextlib import contextmanager

from playwright.sync_api import sync_playwright

# Installed into the page before its own script runs (Playwright's init scripts are not subject
# to the page's CSP): records the violations the browser reports.
WATCH_CSP = """
window.__kwViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__kwViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def keywarden(binary, args, out_path=None, env=None):
    """Runs keywarden; exit 0, 1 (failing findings) and 2 (unknown findings) are results."""
    done = subprocess.run([binary] + args, capture_output=True, check=False, env=env)
    if done.returncode not in (0, 1, 2):
        raise SystemExit(
            "keywarden %s exited %d: %s" % (" ".join(args), done.returncode, done.stderr.decode())
        )
    if out_path:
        with open(out_path, "wb") as f:
            f.write(done.stdout)
    return done.stdout


def keywarden_json(binary, args):
    return json.loads(keywarden(binary, args + ["--format", "json"]))


@contextmanager
def browser(chromium):
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=args, headless=True)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page with everything it must not do recorded in `problems`."""

    def __init__(self, browser, width=1400, height=1000):
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           offline=True)
        self.page = self.context.new_page()
        self.problems = []
        self.page.add_init_script(WATCH_CSP)
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.problems.append("page error: %s" % e))
        self.page.on("console", self._console)
        self.page.on("request", self._request)

    def _dialog(self, dialog):
        self.problems.append("dialog: %s %s" % (dialog.type, dialog.message))
        dialog.dismiss()

    def _console(self, message):
        if message.type in ("error", "warning"):
            self.problems.append("console %s: %s" % (message.type, message.text))

    def _request(self, request):
        if not request.url.startswith("file://"):
            self.problems.append("request: %s" % request.url)

    def open(self, path, timeout_ms=60000):
        self.page.goto("file://" + os.path.abspath(path))
        self.page.wait_for_selector("html[data-kw-ready]", timeout=timeout_ms, state="attached")

    def check_clean(self, what):
        violations = self.page.evaluate("window.__kwViolations || []")
        problems = self.problems + ["CSP violation: %s" % v for v in violations]
        if problems:
            raise AssertionError("%s: %s" % (what, "; ".join(problems)))

    def close(self):
        self.context.close()
