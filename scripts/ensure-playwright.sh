#!/usr/bin/env bash
# Make sure .venv-browser (repo root) holds the pinned Playwright client of
# tests/browser/requirements.txt, then print the venv's python path on stdout. No browser is
# downloaded: the test drives the system Chromium (scripts/ensure-chromium.sh).
#
# Idempotent: the venv carries a stamp (sha256 of the requirements file); when it matches,
# nothing is installed. A missing tool is an error, never a skip.
# Environment: KEYWARDEN_PYTHON picks the base interpreter (default: python3).
set -euo pipefail

die() {
    echo "ensure-playwright: error: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/browser/requirements.txt"
venv="$root/.venv-browser"
stamp="$venv/.keywarden-playwright-stamp"
base_python="${KEYWARDEN_PYTHON:-python3}"
command -v "$base_python" >/dev/null 2>&1 || die "'$base_python' not found (set KEYWARDEN_PYTHON)"
want="requirements-sha256=$(sha256sum "$requirements" | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "$venv/bin/python"
    exit 0
fi
echo "ensure-playwright: creating $venv (once)" >&2
"$base_python" -m venv --clear "$venv" >&2 || die "'$base_python -m venv' failed (install python3-venv)"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
"$venv/bin/python" -m pip install --quiet --requirement "$requirements" >&2 ||
    die "pip install -r $requirements failed"
"$venv/bin/python" -c 'import playwright.sync_api' || die "playwright does not import"
echo "$want" >"$stamp"
echo "$venv/bin/python"
