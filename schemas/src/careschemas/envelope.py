"""The CloudEvents 1.0 envelope (structured JSON mode) that every message on every topic travels in.

`data` stays a plain dict here; the registry (`careschemas.registry`) turns it into the typed payload
named by `type`. Extensions `councilid`, `correlationid` and `causationid` are required so that every
record can be scoped to one council and traced across services.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"

# Stable type names: "<family>.<Name>.v<N>", e.g. "allocation.PersonalBudgetAgreed.v1".
TYPE_PATTERN = r"^[a-z]+\.[A-Z][A-Za-z]+\.v[0-9]+$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
# Free text the services store (the ledger keeps the subject on every entry): PostgreSQL text cannot hold NUL,
# so a record carrying one would fail its consumer's batch on every retry.
NO_NUL = r"^[^\x00]*$"
COUNCIL_PATTERN = r"^[A-Za-z0-9\-]{1,32}$"
# A recorded time is an instant with a UTC offset (RFC 3339, as CloudEvents' Timestamp), at least a day inside the
# calendar, so that it names an instant in UTC as well as at its own offset (offsets are under a day). A time
# without an offset compared with one that has one raised TypeError in the ledger's business-time order, and one
# within hours of the calendar's ends could not be shifted to UTC (OverflowError) by the consumers that store it
# as timestamptz: either failed its batch on every retry.
EARLIEST_TIME = datetime(1, 1, 2, tzinfo=UTC)
LATEST_TIME = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)


class Envelope(BaseModel):
    """A CloudEvents 1.0 event in structured mode, with this project's required extensions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(pattern=ID_PATTERN, description="Unique id of this event or command.")
    source: str = Field(min_length=1, max_length=256, pattern=NO_NUL, description="URI-reference of the producer.")
    type: str = Field(pattern=TYPE_PATTERN, description="Stable type name, e.g. allocation.PersonalBudgetAgreed.v1.")
    time: AwareDatetime = Field(ge=EARLIEST_TIME, le=LATEST_TIME, description=(
        "Recorded time at the producer (RFC 3339, with its UTC offset), from 0001-01-02 to 9999-12-30 in UTC."))
    subject: str = Field(min_length=1, max_length=128, pattern=NO_NUL,
                         description="Aggregate id: budget, provider, payment or run.")
    datacontenttype: Literal["application/json"] = "application/json"
    councilid: str = Field(pattern=COUNCIL_PATTERN, description="Tenant: the council the record belongs to.")
    correlationid: str = Field(pattern=ID_PATTERN, description="Id of the business conversation.")
    causationid: str | None = Field(default=None, pattern=ID_PATTERN, description="Id of the message that caused this one.")
    data: dict[str, Any]
