"""Generates the committed contract files, or checks that they are current.

    python -m careschemas.export            # write schemas/json/*.json, schemas/asyncapi.json, docs/events.md
    python -m careschemas.export --check    # exit 1 and name the stale files when any differ

Outputs: one JSON Schema (draft 2020-12) per type in schemas/json/<type>.json, the envelope in
schemas/json/envelope.json, the AsyncAPI 3.0.0 document schemas/asyncapi.json, and the generated
section of docs/events.md. Output is deterministic: sorted keys, two-space indent, trailing newline.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import asyncapi, catalogue
from .envelope import Envelope
from .registry import MODELS

REPO_ROOT = Path(__file__).resolve().parents[3]
JSON_DIR = Path("schemas/json")
ASYNCAPI_FILE = Path("schemas/asyncapi.json")
DOCS_FILE = Path("docs/events.md")
SCHEMA_ID_BASE = "urn:careschemas:"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def dumps(data: Any) -> str:
    """The one JSON spelling of every generated file."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def payload_schema(type_name: str) -> dict[str, Any]:
    """The standalone JSON Schema of a type's payload (the envelope's `data`)."""
    schema = MODELS[type_name].model_json_schema()
    return {"$schema": DRAFT_2020_12, "$id": SCHEMA_ID_BASE + type_name, "x-type": type_name, **schema}


def envelope_schema() -> dict[str, Any]:
    return {"$schema": DRAFT_2020_12, "$id": SCHEMA_ID_BASE + "envelope", **Envelope.model_json_schema()}


def generate(root: Path = REPO_ROOT) -> dict[Path, str]:
    """Every generated file (path relative to the repository root) and its exact content."""
    files: dict[Path, str] = {JSON_DIR / f"{t}.json": dumps(payload_schema(t)) for t in MODELS}
    files[JSON_DIR / "envelope.json"] = dumps(envelope_schema())
    files[ASYNCAPI_FILE] = dumps(asyncapi.build())
    docs = root / DOCS_FILE
    files[DOCS_FILE] = catalogue.splice(docs.read_text(encoding="utf-8") if docs.exists() else "# Event catalogue\n")
    return files


def stale(root: Path = REPO_ROOT, files: dict[Path, str] | None = None) -> list[str]:
    """Generated files that are missing or differ on disk, and JSON files nothing generates any more."""
    files = generate(root) if files is None else files
    out = [str(p) for p, text in files.items()
           if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text]
    if (root / JSON_DIR).is_dir():
        out += [str(JSON_DIR / f.name) for f in (root / JSON_DIR).glob("*.json") if JSON_DIR / f.name not in files]
    return sorted(out)


def write(root: Path = REPO_ROOT) -> list[str]:
    """Write every generated file, remove orphaned schema files; the paths that changed."""
    files = generate(root)
    changed = stale(root, files)
    (root / JSON_DIR).mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        target = root / path
        if str(path) in changed:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    for orphan in (root / JSON_DIR).glob("*.json"):
        if JSON_DIR / orphan.name not in files:
            orphan.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m careschemas.export", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed files are stale")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        out = stale(args.root)
        for path in out:
            print(f"stale: {path}", file=sys.stderr)
        if out:
            print("run: python -m careschemas.export", file=sys.stderr)
        return 1 if out else 0
    changed = write(args.root)
    print(f"{len(changed)} file(s) written" + "".join(f"\n  {p}" for p in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
