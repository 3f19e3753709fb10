"""Held records (careruntime.held): what a partition keeps for the next batch, and in what order."""
from __future__ import annotations

from types import SimpleNamespace

from careruntime.held import Part, split


def part(*offsets, bad=()):
    records = [SimpleNamespace(offset=o) for o in offsets]
    good = [(r, f"d{r.offset}") for r in records if r.offset not in bad]
    errors = [(r, f"e{r.offset}") for r in records if r.offset in bad]
    return Part(records, good, errors)


def offsets(p: Part) -> tuple:
    return ([r.offset for r in p.records], [r.offset for r, _ in p.good], [r.offset for r, _ in p.bad])


def test_from_offset_keeps_the_records_at_and_after_it_good_and_bad():
    assert offsets(part(5, 6, 7, 8, bad={7}).from_offset(6)) == ([6, 7, 8], [6, 8], [7])


def test_from_offset_past_the_end_keeps_nothing_and_before_the_start_keeps_all():
    p = part(5, 6)
    assert p.from_offset(7) is None
    assert p.from_offset(5) is p
    assert part().from_offset(0) is None


def test_then_appends_the_later_records_in_order():
    assert offsets(part(1, 2, bad={2}).then(part(3, 4))) == ([1, 2, 3, 4], [1, 3, 4], [2])


def test_split_gives_the_handler_shapes_and_leaves_out_empty_lists():
    records, decoded, rejects = split({"a": part(1, 2), "b": part(3, bad={3})})
    assert [r.offset for r in records["b"]] == [3]
    assert set(decoded) == {"a"} and set(rejects) == {"b"}
