#!/usr/bin/env bash
# Make sure .venv-browser (repo root) holds the pinned Playwright client of
# tests/browser/requirements.txt, then print the venv's python path on stdout. No browser is
# downloaded: the test drives the system Chromium (scripts/ensure-chromium.sh).
#
# Its own venv (scripts/ensure-venv.sh does the install). A missing tool is an error, never a skip.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/ensure-venv.sh" playwright .venv-browser tests/browser/requirements.txt \
    playwright 'import playwright.sync_api'
