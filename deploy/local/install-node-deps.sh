#!/usr/bin/env bash
# Installs the pinned npm packages into the git-ignored prefix .local/node: @asyncapi/specs (the official
# AsyncAPI JSON Schemas, so AsyncAPI documents can be validated offline), govuk-frontend (the GOV.UK
# Design System's CSS, JavaScript, fonts and images, served by the reporting dashboard) and axe-core (the
# accessibility checker the dashboard's browser test injects). Idempotent: a stamp holding the pinned
# versions skips the work when they are already installed.
set -euo pipefail

ASYNCAPI_SPECS_VERSION="6.11.1"
GOVUK_FRONTEND_VERSION="6.6.0"
AXE_CORE_VERSION="4.14.1"
PINNED="@asyncapi/specs@$ASYNCAPI_SPECS_VERSION govuk-frontend@$GOVUK_FRONTEND_VERSION axe-core@$AXE_CORE_VERSION"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.local/node"
STAMP="$PREFIX/.installed"
SCHEMA="$PREFIX/node_modules/@asyncapi/specs/schemas/3.0.0.json"
GOVUK_CSS="$PREFIX/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css"
AXE_JS="$PREFIX/node_modules/axe-core/axe.min.js"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$PINNED" && -f "$SCHEMA" && -f "$GOVUK_CSS" && -f "$AXE_JS" ]]; then
    exit 0
fi

command -v npm >/dev/null || { echo "install-node-deps: npm is required: apt-get install -y npm" >&2; exit 1; }

echo "install-node-deps: installing $PINNED into $PREFIX"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --save-exact --loglevel=error \
    $PINNED
for file in "$SCHEMA" "$GOVUK_CSS" "$AXE_JS"; do
    test -f "$file" || { echo "install-node-deps: $file is missing after install" >&2; exit 1; }
done
echo "$PINNED" > "$STAMP"
