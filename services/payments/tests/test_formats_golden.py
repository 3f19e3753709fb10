"""Byte-exact golden files of the sample run in Bacs Standard 18 and pain.001 (.09 and .03).

A change to any renderer that alters a single byte fails here. When the change is intended,
regenerate explicitly and review the diff:
    .venv/bin/python services/payments/tests/test_formats_golden.py --regenerate
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from payments.formats import PAIN_001_001_03, PAIN_001_001_09, FileBatch, file_sha256, render_bacs18, render_pain001

sys.path.insert(0, str(Path(__file__).parent))
from test_formats_sample import GOLDEN, SAMPLE_BATCH

RENDERERS: dict[str, Callable[[FileBatch], bytes]] = {
    "sample_run.bacs18.txt": render_bacs18,
    "sample_run.pain.001.001.09.xml": lambda batch: render_pain001(batch, PAIN_001_001_09),
    "sample_run.pain.001.001.03.xml": lambda batch: render_pain001(batch, PAIN_001_001_03),
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_rendering_matches_the_golden_file_byte_for_byte(name: str) -> None:
    expected = (GOLDEN / name).read_bytes()
    actual = RENDERERS[name](SAMPLE_BATCH)
    assert actual == expected, f"{name} changed; if intended, regenerate (see module docstring) and review the diff"
    assert file_sha256(actual) == file_sha256(expected)


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_rendering_is_deterministic(name: str) -> None:
    assert RENDERERS[name](SAMPLE_BATCH) == RENDERERS[name](SAMPLE_BATCH)


def _regenerate() -> None:
    for name, render in RENDERERS.items():
        data = render(SAMPLE_BATCH)
        (GOLDEN / name).write_bytes(data)
        print(f"wrote {GOLDEN / name} ({len(data)} bytes, sha256 {file_sha256(data)})")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: test_formats_golden.py --regenerate")
    _regenerate()
