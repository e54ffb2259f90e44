#!/usr/bin/env bash
# The HTML report's browser test: headless Debian Chromium driven by Playwright for Python
# (tests/browser/test_html_report.py). Installs what it needs (scripts/ensure-chromium.sh,
# scripts/ensure-playwright.sh); a missing browser is a failure, never a skip. Screenshots of the
# demo report are written to target/browser/ (not committed).
#
#   scripts/test-browser.sh
#
# Environment: KEYWARDEN_BIN tests another keywarden binary (default: the dev build with the
# test hooks, built here if needed).
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="$(scripts/ensure-chromium.sh)"
python="$(scripts/ensure-playwright.sh)"
moto_python="$(scripts/ensure-moto.sh)"
binary="${KEYWARDEN_BIN:-}"
if [ -z "$binary" ]; then
    # --workspace: the features unify as in the test run's build, so its artifacts are shared
    # (`-p keywarden` alone rebuilds the AWS SDK with other features).
    cargo build --quiet --locked --workspace --features keywarden/test-hooks
    binary="target/debug/keywarden"
fi
exec "$python" tests/browser/test_html_report.py "$binary" "$chromium" target/browser "$moto_python"
