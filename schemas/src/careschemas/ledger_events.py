"""Ledger events (family "ledger", topic ledger.entries.v1): each committed journal entry, and each
business event the ledger refused to post, keyed by the shard whose hash chain they extend."""
from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .common import MAX_INT, Day, Detail, Event, Id, Pence, ReasonCode, Sha256Hex, ShortText, Timestamp, TypeName

_TOKEN = r"^[^\s\x00]+$"  # one word: no whitespace, and no NUL (PostgreSQL text cannot hold one)
Account = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_TOKEN), Field(
    description="Account id, `<council>/<kind>/<owner>[/<sub>]`, e.g. C001/budget/PB-1.")]
Shard = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_TOKEN), Field(
    description="The hash-chain shard (a partition of the ledger's input); message key of ledger.entries.")]


class EntryLine(BaseModel):
    """One side of a journal entry: a debit or a credit (exactly one of them is more than zero)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"oneOf": [
        {"required": ["debit_pence"],
         "properties": {"debit_pence": {"exclusiveMinimum": 0}, "credit_pence": {"const": 0}}},
        {"required": ["credit_pence"],
         "properties": {"credit_pence": {"exclusiveMinimum": 0}, "debit_pence": {"const": 0}}},
    ]})

    account: Account
    debit_pence: Pence = 0
    credit_pence: Pence = 0

    @model_validator(mode="after")
    def _one_side(self) -> EntryLine:
        if (self.debit_pence > 0) == (self.credit_pence > 0):
            raise ValueError("exactly one of debit_pence and credit_pence must be more than zero")
        return self


class EntryPosted(Event):
    """A balanced journal entry was appended to a shard's hash chain. Entries are never changed: a
    correction is a new entry with reverses_entry_id."""

    TYPE: ClassVar[str] = "ledger.EntryPosted.v1"
    entry_id: Id
    shard: Shard
    shard_seq: int = Field(ge=1, le=MAX_INT, strict=True, description="Position in the shard's chain, from 1.")
    effective_date: Day
    recorded_at: Timestamp = Field(description="Recorded time of the cause event (its envelope `time`), so replays hash identically; the database keeps the commit time separately.")
    cause_event_id: Id = Field(description="Envelope id of the business event this entry posts.")
    cause_type: TypeName
    rule_version: ShortText = Field(description="Version of the posting rule that produced the lines.")
    lines: list[EntryLine] = Field(min_length=2, description="At least two lines; debits equal credits.")
    reverses_entry_id: Id | None = None
    prev_hash: Sha256Hex = Field(description="Hash of the previous entry of the same shard.")
    hash: Sha256Hex

    @model_validator(mode="after")
    def _balanced(self) -> EntryPosted:
        debits = sum(line.debit_pence for line in self.lines)
        credits = sum(line.credit_pence for line in self.lines)
        if debits != credits:
            raise ValueError(f"entry does not balance: debits {debits} != credits {credits}")
        return self


class PostingRejected(Event):
    """The ledger refused to post a business event (no entry was written); reason_code says why."""

    TYPE: ClassVar[str] = "ledger.PostingRejected.v1"
    cause_event_id: Id
    cause_type: TypeName
    shard: Shard
    reason_code: ReasonCode
    detail: Detail
    effective_date: Day
