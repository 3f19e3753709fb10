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

"$(dirname "$0")/apt-install.sh" install-chromium --no-install-recommends chromium fonts-liberation
[[ -n "$(find_chromium)" ]] || { echo "install-chromium: chromium still missing after apt-get install" >&2; exit 1; }
echo "install-chromium: installed $("$(find_chromium)" --version 2>/dev/null || find_chromium)"
