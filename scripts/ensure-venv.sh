#!/usr/bin/env bash
# Make sure a venv at the repository root holds exactly the pinned packages of a requirements
# file, then print the venv's python path on stdout. The one implementation behind
# ensure-moto.sh, ensure-cfn-lint.sh, ensure-ocsf.sh and ensure-playwright.sh: each tool has
# its own venv so no pin set constrains another.
#
#   scripts/ensure-venv.sh NAME VENV REQUIREMENTS PACKAGE [IMPORT]
#
#   NAME          a short name for messages, the stamp and the lock (moto, cfn-lint, ...)
#   VENV          the venv folder, relative to the repository root (.venv, .venv-ocsf, ...)
#   REQUIREMENTS  the pinned requirements file, relative to the repository root; it must hold
#                 a line `PACKAGE==X.Y.Z` (extras allowed: `moto[server]==5.2.5`)
#   PACKAGE       the distribution whose installed version must equal the pin
#   IMPORT        optional Python statement that must run in the venv (`import ocsf.compile`)
#
# Idempotent: the venv carries a stamp (sha256 of the requirements file and the base
# interpreter's version); when it matches and the package has its pinned version, nothing is
# installed. Otherwise the venv is recreated from scratch, and the stamp is written only after
# the install, `pip check` and the import succeed, so an interrupted run is redone next time.
# Safe to run concurrently (one flock per checkout and venv).
#
# Environment: KEYWARDEN_PYTHON picks the base interpreter (default: python3, at least 3.10).
# Exit status: 0 and the python path on stdout, or non-zero with the reason on stderr. A
# missing tool is an error, never a skip.
set -euo pipefail

[ "$#" -ge 4 ] || { echo "usage: ensure-venv.sh NAME VENV REQUIREMENTS PACKAGE [IMPORT]" >&2; exit 2; }
name=$1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/$2"
requirements="$root/$3"
package=$4
import_check=${5:-}

die() {
    echo "ensure-$name: error: $*" >&2
    exit 1
}

python="$venv/bin/python"
stamp="$venv/.keywarden-$name-stamp"
base="${KEYWARDEN_PYTHON:-python3}"

[ -f "$requirements" ] || die "missing $requirements"
command -v "$base" >/dev/null 2>&1 ||
    die "'$base' not found: install Python >= 3.10 or set KEYWARDEN_PYTHON"
"$base" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "$base is $("$base" -V 2>&1); the test tools need Python >= 3.10 (set KEYWARDEN_PYTHON)"

want="requirements-sha256=$(sha256sum "$requirements" | cut -d' ' -f1) python=$("$base" -c 'import sys; print(sys.version.split()[0])')"
# The pin: `package==X.Y.Z` or `package[extras]==X.Y.Z` at the start of a line.
pin="$(sed -n "s/^${package//./\\.}\(\[[^]]*\]\)\{0,1\}==\([^ ;#]*\).*/\2/p" "$requirements")"
[ -n "$pin" ] || die "no '$package==X.Y.Z' line in $requirements"

installed() {
    "$python" -c "import importlib.metadata as m; print(m.version('$package'))" 2>/dev/null
}

ready() {
    [ -x "$python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ "$(installed)" = "$pin" ]
}

if ! ready; then
    lock_id="$(printf '%s' "$venv" | cksum | cut -d' ' -f1)"
    exec 9>"${TMPDIR:-/tmp}/keywarden-ensure-$name-$lock_id.lock"
    flock 9
    if ! ready; then # another process may have finished the install while we waited
        echo "ensure-$name: creating $venv with $package==$pin (this takes a minute once)" >&2
        "$base" -m venv --clear "$venv" >&2 ||
            die "'$base -m venv' failed (on Debian/Ubuntu install the python3-venv package)"
        export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
        "$python" -m pip install --quiet --requirement "$requirements" >&2 ||
            die "pip install -r $requirements failed (see pip's output above)"
        "$python" -m pip check >&2 || die "pip check found inconsistent dependencies in $venv"
        version="$(installed)" || die "$package is not installed in $venv"
        [ "$version" = "$pin" ] || die "installed $package $version, expected $pin"
        if [ -n "$import_check" ]; then
            "$python" -c "$import_check" >&2 || die "'$import_check' fails in $venv"
        fi
        echo "$want" >"$stamp"
        echo "ensure-$name: $package $version ready" >&2
    fi
fi
echo "$python"
