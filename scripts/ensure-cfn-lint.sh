#!/usr/bin/env bash
# Make sure .venv-cfn-lint (repo root) holds exactly the pinned cfn-lint of
# tests/cfn-lint/requirements.txt, then print the path of its cfn-lint on stdout.
#
#   "$(scripts/ensure-cfn-lint.sh)" template.json
#
# Its own venv: cfn-lint's dependencies (pydantic, networkx, sympy...) must not move moto's.
# Idempotent: the venv carries a stamp (sha256 of the requirements file and the base
# interpreter's version); when it matches, nothing is installed. Otherwise the venv is recreated
# and the stamp written only after the install and `pip check` succeed. Serialised with flock.
#
# Environment: KEYWARDEN_PYTHON picks the base interpreter (default: python3).
# Exit status: 0 and the cfn-lint path on stdout, or non-zero with the reason on stderr. A
# missing tool is an error, never a skip.
set -euo pipefail

die() {
    echo "ensure-cfn-lint: error: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/cfn-lint/requirements.txt"
venv="$root/.venv-cfn-lint"
venv_python="$venv/bin/python"
tool="$venv/bin/cfn-lint"
stamp="$venv/.keywarden-cfn-lint-stamp"
base_python="${KEYWARDEN_PYTHON:-python3}"

[ -f "$requirements" ] || die "missing $requirements"
command -v "$base_python" >/dev/null 2>&1 ||
    die "'$base_python' not found: install Python >= 3.9 or set KEYWARDEN_PYTHON"

want="$("$base_python" - "$requirements" <<'PY'
import hashlib, sys
with open(sys.argv[1], "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
print(f"requirements-sha256={digest} python={sys.version.split()[0]}")
PY
)"
pin="$(sed -n 's/^cfn-lint==\([^ ;#]*\).*/\1/p' "$requirements")"
[ -n "$pin" ] || die "no 'cfn-lint==X.Y.Z' line in $requirements"

installed() {
    "$venv_python" -c 'import importlib.metadata as m; print(m.version("cfn-lint"))' 2>/dev/null
}

up_to_date() {
    [ -x "$tool" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
        [ "$(installed)" = "$pin" ]
}

if up_to_date; then
    echo "$tool"
    exit 0
fi

if command -v flock >/dev/null 2>&1; then
    lock_id="$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
    exec 9>"${TMPDIR:-/tmp}/keywarden-ensure-cfn-lint-$lock_id.lock"
    flock 9
    if up_to_date; then
        echo "$tool"
        exit 0
    fi
fi

echo "ensure-cfn-lint: creating $venv with cfn-lint==$pin (this takes a minute once)" >&2
"$base_python" -m venv --clear "$venv" >&2 ||
    die "'$base_python -m venv' failed (on Debian/Ubuntu install the python3-venv package)"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$venv_python" -m pip install --quiet --requirement "$requirements" >&2 ||
    die "pip install -r $requirements failed (see pip's output above)"
"$venv_python" -m pip check >&2 ||
    die "pip check found inconsistent dependencies in $venv"
version="$(installed)" || die "cfn-lint is not installed in $venv"
[ "$version" = "$pin" ] || die "installed cfn-lint $version, expected $pin"
"$tool" --version >&2 || die "$tool does not run"

echo "$want" >"$stamp"
echo "ensure-cfn-lint: cfn-lint $version ready" >&2
echo "$tool"
