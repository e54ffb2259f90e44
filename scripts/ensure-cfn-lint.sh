#!/usr/bin/env bash
# Make sure .venv-cfn-lint (repo root) holds exactly the pinned cfn-lint of
# tests/cfn-lint/requirements.txt, then print the path of its cfn-lint on stdout.
#
#   "$(scripts/ensure-cfn-lint.sh)" template.json
#
# Its own venv: cfn-lint's dependencies (pydantic, networkx, sympy...) must not move moto's.
# scripts/ensure-venv.sh does the install. A missing tool is an error, never a skip.
set -euo pipefail
python="$("$(dirname "${BASH_SOURCE[0]}")/ensure-venv.sh" cfn-lint .venv-cfn-lint \
    tests/cfn-lint/requirements.txt cfn-lint 'import cfnlint')"
tool="$(dirname "$python")/cfn-lint"
[ -x "$tool" ] || { echo "ensure-cfn-lint: error: $tool is missing" >&2; exit 1; }
echo "$tool"
