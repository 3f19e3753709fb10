"""Derived event ids: the stem leaves room for the suffix, a hashed stem cannot meet a plain one, and each
service's marker is its own."""
from __future__ import annotations

import hashlib

from careruntime import event_ids
from careruntime.event_ids import MAX_ID, stem


def test_a_short_id_is_its_own_stem_and_a_long_one_is_hashed_with_another_separator():
    assert stem("c-17", 2) == "c-17."
    long_id = "x" * (MAX_ID - 2)
    hashed = "h" + hashlib.sha256(long_id.encode()).hexdigest()[:40]
    assert stem(long_id, 2) == hashed + ":"
    assert len(stem(long_id, 2)) + 2 <= MAX_ID and len(stem("x" * (MAX_ID - 3), 2)) + 2 == MAX_ID
    # a message sent under the hash itself (a valid id) does not take the long id's event ids
    assert stem(hashed, 2) != stem(long_id, 2)


def test_every_service_that_derives_ids_has_its_own_marker():
    markers = [value for name, value in vars(event_ids).items() if name.isupper() and name != "MAX_ID"]
    assert sorted(markers) == ["e", "p"] and len(set(markers)) == len(markers)
