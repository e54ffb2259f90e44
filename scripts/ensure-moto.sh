#!/usr/bin/env bash
# Make sure .venv (repo root) holds exactly the pinned moto environment of
# tests/moto/requirements.txt, then print the venv's python path on stdout.
#
#   scripts/ensure-moto.sh && .venv/bin/python tests/moto/selftest.py
#
# The install, its stamp and lock are scripts/ensure-venv.sh's. A missing tool is an error,
# never a skip.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/ensure-venv.sh" moto .venv tests/moto/requirements.txt moto
