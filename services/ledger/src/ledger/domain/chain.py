"""The per-shard hash chain that makes the journal tamper-evident.

Each entry's hash is sha256 over the previous hash of its shard and a canonical text of the entry.
The text leaves out nothing that matters to money and includes nothing that varies between replays
(the database commit time is not in it), so replaying the same input gives the same chain heads.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

GENESIS = "0" * 64


def canonical(
    entry_id: str,
    effective_date: str,
    recorded_at: str,
    cause_event_id: str,
    cause_type: str,
    rule_version: str,
    reverses_entry_id: str | None,
    lines: Iterable[tuple[str, int, int]],
) -> str:
    body = ";".join(f"{account},{debit},{credit}" for account, debit, credit in lines)
    return "|".join(
        (entry_id, effective_date, recorded_at, cause_event_id, cause_type, rule_version,
         reverses_entry_id or "", body)
    )


def link(prev_hash: str, canonical_text: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{canonical_text}".encode()).hexdigest()


def checkpoint_text(heads: Iterable[tuple[str, int, str]]) -> str:
    """Canonical text of a checkpoint: every (shard, seq, hash), sorted by shard (code point order)."""
    return ";".join(f"{shard},{seq},{digest}" for shard, seq, digest in sorted(heads))
