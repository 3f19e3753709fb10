#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed.
# stack.sh runs its own cluster from them; the Debian 'main' cluster is not used.
# Quiet and quick when they are already there.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi

"$(dirname "$0")/apt-install.sh" install-postgres postgresql
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || {
    echo "install-postgres: initdb still missing after apt-get install" >&2; exit 1; }
echo "install-postgres: installed $(ls -d /usr/lib/postgresql/*/bin/initdb)"
