"""Held records through `deciding.collect`: a partition's items held from an earlier batch are taken as they
are when the consumer offers the same records again first, and matched by offset when it does not;
`held_from` keeps exactly the items at or after a partition's resume offset. Pure, no I/O."""
from __future__ import annotations

from collections import namedtuple

from ledger.service import deciding

Record = namedtuple("Record", "offset")
Envelope = namedtuple("Envelope", "id councilid")
Decoded = namedtuple("Decoded", "envelope payload")


class Payload:
    """A payload that refers to nothing (wire.refs_of reads only the attributes it finds)."""


def _pairs(offsets):
    return [(Record(o), Decoded(Envelope(f"ev-{o}", "C1"), Payload())) for o in offsets]


def _built(pairs):
    return [(record, decoded.envelope, f"event-{record.offset}") for record, decoded in pairs]


def _collect(decoded_by_tp, held):
    batch, refs, event_ids, fresh = {}, {}, set(), []
    deciding.collect(decoded_by_tp, held, batch, refs, event_ids, fresh)
    return batch, event_ids, fresh


def test_held_records_offered_again_first_are_taken_as_built_and_only_the_rest_is_fresh():
    pairs = _pairs([3, 4, 5, 6, 7])
    held = {"tp": _built(pairs[:3])}  # the same record objects, as the consumer offers them again
    batch, event_ids, fresh = _collect({"tp": pairs}, held)
    assert batch["tp"][:3] == held["tp"] and batch["tp"][3:] == [None, None]
    assert batch["tp"] is not held["tp"]  # a copy: the held list is not grown in place
    assert event_ids == {"ev-6", "ev-7"}
    assert [(index, record.offset) for _, index, record, _ in fresh] == [(3, 6), (4, 7)]


def test_held_records_not_offered_as_the_same_prefix_are_matched_by_offset():
    pairs = _pairs([3, 4, 5, 6])
    rebuilt = _pairs([4, 5])  # equal offsets, other record objects (say, fetched again)
    held = {"tp": _built(rebuilt)}
    assert deciding.held_prefix(pairs, held["tp"]) == 0
    batch, event_ids, fresh = _collect({"tp": pairs}, held)
    assert batch["tp"][0] is None and batch["tp"][1:3] == held["tp"] and batch["tp"][3] is None
    assert event_ids == {"ev-3", "ev-6"}


def test_a_batch_shorter_than_what_is_held_is_matched_by_offset():
    pairs = _pairs([3, 4, 5])
    held = {"tp": _built(pairs)}
    assert deciding.held_prefix(pairs[:2], held["tp"]) == 0
    batch, event_ids, _ = _collect({"tp": pairs[:2]}, held)
    assert batch["tp"] == held["tp"][:2] and event_ids == set()


def test_held_from_keeps_the_items_at_or_after_the_resume_offset():
    items = _built(_pairs([3, 4, 7, 9]))  # offsets may have gaps (transaction markers)
    assert [i[0].offset for i in deciding.held_from(items, 4)] == [4, 7, 9]
    assert [i[0].offset for i in deciding.held_from(items, 5)] == [7, 9]
    assert deciding.held_from(items, 3) == items
    assert deciding.held_from(items, 10) == []
    assert deciding.held_from([], 1) == []
