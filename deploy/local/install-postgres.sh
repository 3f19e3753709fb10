#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed.
# stack.sh runs its own cluster from them; the Debian 'main' cluster is not used.
# Quiet and quick when they are already there.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null; then
    SUDO=(sudo)
else
    echo "install-postgres: PostgreSQL is missing; run as root: apt-get install -y postgresql" >&2
    exit 1
fi

echo "install-postgres: installing Debian's postgresql package"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || {
    echo "install-postgres: initdb still missing after apt-get install" >&2; exit 1; }
echo "install-postgres: installed $(ls -d /usr/lib/postgresql/*/bin/initdb)"
