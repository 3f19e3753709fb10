"""Audit packs requested over HTTP: built by the reporting service's own audit pack builder
(reporting.service.audit_pack: every report in every format, the HTML page, a manifest and a zip), kept
in one folder per council, named so that no council id can reach another council's folder.

A pack's id is its folder name (council, as-at date, known-at time), so asking again for the same
figures rebuilds the same pack; requests for one pack are serialised. With several replicas the folder
must be a shared volume; a pack can always be rebuilt from the projections.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import weakref
from pathlib import Path

_PACK_ID = re.compile(r"^[A-Za-z0-9-]{1,120}$")
# A lock lives only while a request holds it, so the map does not grow with every pack ever asked for.
_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def council_folder(root: Path, council_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9-]", "_", council_id)[:32]
    return root / f"{safe}-{hashlib.sha256(council_id.encode()).hexdigest()[:12]}"


def pack_lock(folder: Path) -> asyncio.Lock:
    lock = _locks.get(str(folder))
    if lock is None:
        lock = _locks[str(folder)] = asyncio.Lock()
    return lock


def pack_file(root: Path, council_id: str, pack_id: str, kind: str) -> Path | None:
    """The pack's HTML page ("html") or zip ("zip"), or None when there is no such pack."""
    if not _PACK_ID.match(pack_id):
        return None
    folder = council_folder(root, council_id)
    path = folder / pack_id / "index.html" if kind == "html" else folder / f"{pack_id}.zip"
    return path if path.is_file() else None
