#!/usr/bin/env bash
# Make sure .venv (repo root) holds exactly the pinned moto environment of
# tests/moto/requirements.txt, then print the venv's python path on stdout.
#
#   scripts/ensure-moto.sh && .venv/bin/python tests/moto/selftest.py
#
# Idempotent: the venv carries a stamp (sha256 of the requirements file and the
# base interpreter's version); when it matches, nothing is installed. Otherwise
# the venv is recreated from scratch and the stamp is written only after the
# install and `pip check` succeed, so an interrupted run is retried next time.
# Safe to run concurrently (serialised with flock where available).
#
# Environment: KEYWARDEN_PYTHON picks the base interpreter (default: python3).
# Exit status: 0 and the python path on stdout, or non-zero with the reason on
# stderr. A missing tool is an error, never a skip.
set -euo pipefail

die() {
    echo "ensure-moto: error: $*" >&2
    exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/moto/requirements.txt"
venv="$root/.venv"
venv_python="$venv/bin/python"
stamp="$venv/.keywarden-moto-stamp"
base_python="${KEYWARDEN_PYTHON:-python3}"

[ -f "$requirements" ] || die "missing $requirements"
command -v "$base_python" >/dev/null 2>&1 ||
    die "'$base_python' not found: install Python >= 3.10 or set KEYWARDEN_PYTHON"
"$base_python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "$base_python is $("$base_python" -V 2>&1); moto 5.2 needs Python >= 3.10 (set KEYWARDEN_PYTHON)"

# The stamp: what the venv must have been built from.
want="$("$base_python" - "$requirements" <<'EOF'
import hashlib, sys
with open(sys.argv[1], "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
print(f"requirements-sha256={digest} python={sys.version.split()[0]}")
EOF
)"
moto_pin="$(sed -n 's/^moto\[server\]==\([^ ;#]*\).*/\1/p' "$requirements")"
[ -n "$moto_pin" ] || die "no 'moto[server]==X.Y.Z' line in $requirements"

installed_moto() {
    "$venv_python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null
}

up_to_date() {
    [ -x "$venv_python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
        [ "$(installed_moto)" = "$moto_pin" ]
}

if up_to_date; then
    echo "$venv_python"
    exit 0
fi

# Serialise concurrent runs (parallel test processes) on one lock per checkout.
if command -v flock >/dev/null 2>&1; then
    lock_id="$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
    exec 9>"${TMPDIR:-/tmp}/keywarden-ensure-moto-$lock_id.lock"
    flock 9
    if up_to_date; then # another process finished the install while we waited
        echo "$venv_python"
        exit 0
    fi
fi

echo "ensure-moto: creating $venv with moto[server]==$moto_pin (this takes a minute once)" >&2
"$base_python" -m venv --clear "$venv" >&2 ||
    die "'$base_python -m venv' failed (on Debian/Ubuntu install the python3-venv package)"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$venv_python" -m pip install --quiet --requirement "$requirements" >&2 ||
    die "pip install -r $requirements failed (see pip's output above)"
"$venv_python" -m pip check >&2 ||
    die "pip check found inconsistent dependencies in $venv"
installed="$(installed_moto)" || die "moto is not installed in $venv"
[ "$installed" = "$moto_pin" ] || die "installed moto $installed, expected $moto_pin"

echo "$want" >"$stamp"
echo "ensure-moto: moto $installed ready" >&2
echo "$venv_python"
