#!/usr/bin/env bash
# Makes sure Debian's `chromium` package is installed, for the reporting dashboard's browser tests
# (headless Chromium driven over the DevTools protocol; no browser download of its own).
# Quiet and quick when it is already there. Prints nothing else on success.
set -euo pipefail

find_chromium() {
    command -v chromium || command -v chromium-browser || true
}

if [[ -n "$(find_chromium)" ]]; then
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null; then
    SUDO=(sudo)
else
    echo "install-chromium: chromium is missing; run as root: apt-get install -y chromium" >&2
    exit 1
fi

echo "install-chromium: installing Debian's chromium package"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium fonts-liberation >/dev/null
[[ -n "$(find_chromium)" ]] || { echo "install-chromium: chromium still missing after apt-get install" >&2; exit 1; }
echo "install-chromium: installed $("$(find_chromium)" --version 2>/dev/null || find_chromium)"
