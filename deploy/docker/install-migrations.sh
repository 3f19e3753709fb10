#!/bin/sh
# Put a service's migrations/ folder exactly where its installed code looks for it: the default of
# its Settings.migrations_dir (services/<service>/src/<service>/config.py), asked of the installed
# package itself. `<service> migrate` then needs no <SERVICE>_MIGRATIONS_DIR, and the image and the
# code cannot disagree about the path. Used by services/<service>/Dockerfile (and its test).
#
#   install-migrations.sh SERVICE SOURCE_DIR [PYTHON]
set -eu
service="$1"
source_dir="$2"
python="${3:-python}"
[ -d "$source_dir" ] || { echo "install-migrations: no folder $source_dir" >&2; exit 1; }
target="$("$python" - "$service" <<'PY'
import importlib
import sys

settings = importlib.import_module(f"{sys.argv[1]}.config").Settings
print(settings.model_fields["migrations_dir"].get_default(call_default_factory=True))
PY
)"
case "$target" in
    /*/migrations) ;;
    *) echo "install-migrations: $service's migrations_dir default is not an absolute .../migrations: $target" >&2
       exit 1 ;;
esac
rm -rf "$target"
mkdir -p "$(dirname "$target")"
cp -r "$source_dir" "$target"
echo "install-migrations: $service: $source_dir -> $target"
