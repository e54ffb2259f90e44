#!/usr/bin/env bash
# Make sure Debian's headless-capable Chromium is installed (the HTML report's browser test
# drives it), then print its path on stdout.
#
#   scripts/ensure-chromium.sh
#
# Idempotent: when `chromium` is on PATH nothing is installed. Otherwise it is installed with
# apt-get (as root, or through sudo when available). A missing browser is an error, never a skip.
# Environment: KEYWARDEN_CHROMIUM names another Chromium binary to use instead.
set -euo pipefail

die() {
    echo "ensure-chromium: error: $*" >&2
    exit 1
}

if [ -n "${KEYWARDEN_CHROMIUM:-}" ]; then
    [ -x "$KEYWARDEN_CHROMIUM" ] || die "KEYWARDEN_CHROMIUM=$KEYWARDEN_CHROMIUM is not an executable"
    echo "$KEYWARDEN_CHROMIUM"
    exit 0
fi

found() { command -v chromium 2>/dev/null; }

if ! found >/dev/null; then
    command -v apt-get >/dev/null 2>&1 ||
        die "chromium is not installed and apt-get is not available: install Chromium and set KEYWARDEN_CHROMIUM"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "chromium is not installed; run as root or install it: apt-get install -y chromium"
        sudo=(sudo -n)
    fi
    echo "ensure-chromium: installing Debian's chromium (once)" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >&2 || die "apt-get update failed"
    "${sudo[@]}" apt-get install -y -qq chromium >&2 || die "apt-get install chromium failed"
fi
path="$(found)" || die "chromium is still not on PATH after the install"
"$path" --version >&2 || die "$path --version failed"
echo "$path"
