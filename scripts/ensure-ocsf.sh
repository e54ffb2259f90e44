#!/usr/bin/env bash
# Make sure .venv-ocsf (repo root) holds exactly the pinned OCSF validator environment of
# tests/ocsf/requirements.txt (ocsf-lib, jsonschema), then print the venv's python path.
#
#   "$(scripts/ensure-ocsf.sh)" tests/ocsf/validate.py tests/ocsf/schema-1.8.0 FILE...
#
# Its own venv, apart from moto's .venv (scripts/ensure-venv.sh does the install). A missing
# tool is an error, never a skip.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/ensure-venv.sh" ocsf .venv-ocsf tests/ocsf/requirements.txt \
    ocsf-lib 'import ocsf.compile, jsonschema'
