#!/usr/bin/env bash
# Make sure .venv-ocsf (repo root) holds exactly the pinned OCSF validator environment of
# tests/ocsf/requirements.txt (ocsf-lib, jsonschema), then print the venv's python path.
#
#   "$(scripts/ensure-ocsf.sh)" tests/ocsf/validate.py tests/ocsf/schema-1.8.0 FILE...
#
# Its own venv, apart from moto's .venv, so neither pin set constrains the other. Idempotent:
# a stamp (sha256 of the requirements and the interpreter's version) skips a venv already
# built; an interrupted install leaves no stamp and is redone. Serialised with flock.
# Exit status: 0 and the python path on stdout, or non-zero with the reason on stderr. A
# missing tool is an error, never a skip.
set -euo pipefail

die() {
    echo "ensure-ocsf: error: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/ocsf/requirements.txt"
venv="$root/.venv-ocsf"
python="$venv/bin/python"
stamp="$venv/.keywarden-ocsf-stamp"
base="${KEYWARDEN_PYTHON:-python3}"

[ -f "$requirements" ] || die "missing $requirements"
command -v "$base" >/dev/null 2>&1 || die "'$base' not found: install Python >= 3.10 or set KEYWARDEN_PYTHON"
want="requirements-sha256=$(sha256sum "$requirements" | cut -d' ' -f1) python=$("$base" -c 'import sys; print(sys.version.split()[0])')"
pin="$(sed -n 's/^ocsf-lib==\([^ ;#]*\).*/\1/p' "$requirements")"
[ -n "$pin" ] || die "no 'ocsf-lib==X.Y.Z' line in $requirements"

ready() {
    [ -x "$python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
        [ "$("$python" -c 'import importlib.metadata as m; print(m.version("ocsf-lib"))' 2>/dev/null)" = "$pin" ]
}

if ! ready; then
    exec 9>"${TMPDIR:-/tmp}/keywarden-ensure-ocsf-$(printf '%s' "$root" | cksum | cut -d' ' -f1).lock"
    flock 9
    if ! ready; then
        echo "ensure-ocsf: creating $venv with ocsf-lib==$pin" >&2
        "$base" -m venv --clear "$venv" >&2 || die "'$base -m venv' failed (install python3-venv)"
        PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$python" -m pip install --quiet \
            --requirement "$requirements" >&2 || die "pip install -r $requirements failed"
        "$python" -m pip check >&2 || die "pip check found inconsistent dependencies in $venv"
        "$python" -c 'import ocsf.compile, jsonschema' || die "ocsf-lib or jsonschema does not import"
        echo "$want" >"$stamp"
        echo "ensure-ocsf: ocsf-lib $pin ready" >&2
    fi
fi
echo "$python"
