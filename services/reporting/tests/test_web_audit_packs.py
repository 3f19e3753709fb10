"""Unit tests of where HTTP-requested audit packs are kept: one folder per council that no council id
can escape or share, pack ids that cannot name a path, one lock per pack while it is being built."""
from __future__ import annotations

import asyncio
from pathlib import Path

from reporting.web.audit_packs import council_folder, pack_file, pack_lock


def test_each_council_has_its_own_folder_inside_the_root(tmp_path):
    folders = {c: council_folder(tmp_path, c) for c in ("C1", "C-1", "C_1", "../C1", "C1/..", "C" * 200)}
    assert len(set(folders.values())) == len(folders)  # "C-1" and "C_1" do not share a folder
    assert all(f.parent == tmp_path for f in folders.values())


def test_a_pack_is_found_only_in_its_own_councils_folder(tmp_path):
    page = council_folder(tmp_path, "C1") / "audit-pack-C1-2026-03-31" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html></html>")
    assert pack_file(tmp_path, "C1", "audit-pack-C1-2026-03-31", "html") == page
    assert pack_file(tmp_path, "C2", "audit-pack-C1-2026-03-31", "html") is None
    assert pack_file(tmp_path, "C1", "audit-pack-C1-2026-03-31", "zip") is None
    for bad in ("..", "../C2", "a/b", "", "x" * 200):
        assert pack_file(tmp_path, "C1", bad, "html") is None


def test_one_lock_per_pack_while_it_is_held():
    async def run() -> None:
        first, again, other = pack_lock(Path("p")), pack_lock(Path("p")), pack_lock(Path("q"))
        assert first is again and first is not other

    asyncio.run(run())
