#!/usr/bin/env bash
# Installs the pinned npm package @asyncapi/specs (the official AsyncAPI JSON Schemas) into the
# git-ignored prefix .local/node, so AsyncAPI documents can be validated offline. Idempotent: a stamp
# holding the pinned version skips the work when it is already installed.
set -euo pipefail

ASYNCAPI_SPECS_VERSION="6.11.1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.local/node"
STAMP="$PREFIX/.installed"
SCHEMA="$PREFIX/node_modules/@asyncapi/specs/schemas/3.0.0.json"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$ASYNCAPI_SPECS_VERSION" && -f "$SCHEMA" ]]; then
    exit 0
fi

command -v npm >/dev/null || { echo "install-node-deps: npm is required: apt-get install -y npm" >&2; exit 1; }

echo "install-node-deps: installing @asyncapi/specs@$ASYNCAPI_SPECS_VERSION into $PREFIX"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --save-exact --loglevel=error \
    "@asyncapi/specs@$ASYNCAPI_SPECS_VERSION"
test -f "$SCHEMA" || { echo "install-node-deps: $SCHEMA is missing after install" >&2; exit 1; }
echo "$ASYNCAPI_SPECS_VERSION" > "$STAMP"
