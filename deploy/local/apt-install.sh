#!/usr/bin/env bash
# apt-install.sh NAME [APT-OPTION...] PACKAGE...: installs Debian packages for the install-*.sh scripts, as root or
# through sudo; says what to run by hand when neither is possible. NAME prefixes its messages.
set -euo pipefail
name=$1; shift

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null; then
    SUDO=(sudo)
else
    echo "$name: missing; run as root: apt-get install -y $*" >&2
    exit 1
fi

echo "$name: installing Debian's $* package(s)"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
