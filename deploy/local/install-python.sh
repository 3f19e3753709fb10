#!/usr/bin/env bash
# Prints the interpreter `make` builds .venv on, installing Debian's python3.11 (with venv and headers) when
# it is missing on a Debian machine.
#
# Why Debian's: it is built with profile-guided optimisation and link-time optimisation, as the images'
# python:3.11-slim base is. On one built without them (a plain pyenv build, say) the ledger's in-process hot
# path ran 12-20% slower and its worker took ~9% more CPU per event (docs/performance.md, "Tenth pass").
# The environment variable BASE_PYTHON overrides the choice; off Debian, without /usr/bin/python3.11, it
# falls back to python3 on PATH.
set -euo pipefail

if [[ -n "${BASE_PYTHON:-}" ]]; then
    echo "$BASE_PYTHON"; exit 0
fi
debian=/usr/bin/python3.11
ready() { [[ -x $debian ]] && $debian -c 'import ensurepip, sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; }
if ! ready && command -v apt-get >/dev/null && [[ -r /etc/debian_version ]]; then
    # venv: ensurepip for `-m venv`; dev: Python.h, which compiling the ledger's decision code (mypyc) needs.
    "$(dirname "$0")/apt-install.sh" install-python python3.11 python3.11-venv python3.11-dev >&2 || true
fi
if ready; then
    echo "$debian"
else
    echo "install-python: Debian's python3.11 is not available; using python3 on PATH" >&2
    command -v python3
fi
