"""Shared field types, enumerations and base classes of every event and command payload.

Money is always `int` pence (strict: 12.5, "12" and True are refused), dates are ISO 8601 calendar
dates (`YYYY-MM-DD`, never timestamps), ids follow the envelope's ID pattern. Every payload model is
frozen and refuses unknown fields; its stable wire name is the ClassVar `TYPE`.
"""
from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, Strict,
    StringConstraints,
)
from pydantic_core import core_schema as cs

from .envelope import ID_PATTERN, NO_NUL, TYPE_PATTERN

# ---------------------------------------------------------------------------------------------------
# Enumerations


class ProviderType(StrEnum):
    """Who a provider is; every type but `in_house` counts as external provision."""

    in_house = "in_house"
    private = "private"
    charity = "charity"
    social_enterprise = "social_enterprise"
    mutual = "mutual"
    other_council = "other_council"
    nhs = "nhs"


EXTERNAL_PROVIDER_TYPES: frozenset[ProviderType] = frozenset(p for p in ProviderType if p is not ProviderType.in_house)


class DeliveryRoute(StrEnum):
    """How (part of) a personal budget reaches the person."""

    direct_payment = "direct_payment"
    managed_account = "managed_account"
    commissioned = "commissioned"
    isf = "isf"


class Unit(StrEnum):
    """The unit a service order's rate is priced in."""

    hour = "hour"
    quarter_hour = "quarter_hour"
    night = "night"
    week = "week"
    session = "session"


class PaymentBasis(StrEnum):
    """What a provider is paid on: the plan, recorded actuals, or its invoices."""

    planned = "planned"
    actuals = "actuals"
    invoice = "invoice"


class ContributionMode(StrEnum):
    """Netted: the DP is paid minus the contribution. Gross: paid in full, contribution invoiced."""

    netted = "netted"
    gross = "gross"


class FundingSource(StrEnum):
    """Who pays a share of a personal budget."""

    council = "council"
    icb = "icb"
    pooled = "pooled"


# ---------------------------------------------------------------------------------------------------
# Field types

_ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class _CalendarDate:
    """The validation of `Day`, in pydantic-core alone: a `date` (not a datetime), or a string of exactly
    `YYYY-MM-DD` that names a real day; timestamps and datetime strings are refused.

    It was a Python `BeforeValidator`; every event carries one to four dates, and the call into Python
    cost ~0.2 µs each on the consumers' hot path (docs/performance.md, "Eighth pass"). Same answers, one
    error: `calendar_date`. The JSON Schema stays `{"type": "string", "format": "date"}`.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> cs.CoreSchema:
        return cs.union_schema(
            [cs.date_schema(strict=True),  # a date object; a datetime is refused in strict mode
             cs.chain_schema([cs.str_schema(pattern=_ISO_DATE_PATTERN, strict=True), cs.date_schema()])],
            custom_error_type="calendar_date",
            custom_error_message="expected an ISO 8601 calendar date YYYY-MM-DD, not a datetime or timestamp",
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: cs.CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


Day = Annotated[date, _CalendarDate]
"""A business calendar date (ISO 8601 `YYYY-MM-DD`)."""

Timestamp = AwareDatetime
"""A recorded instant with a UTC offset (RFC 3339)."""

_ID = StringConstraints(pattern=ID_PATTERN)

Id = Annotated[str, _ID, Field(description="Opaque identifier.")]
BudgetId = Annotated[str, _ID, Field(description="Personal budget id (the aggregate; message key of budget events).")]
PersonRef = Annotated[str, _ID, Field(
    description="Opaque person reference issued by the council's case system (never a name).")]
ProviderId = Annotated[str, _ID, Field(description="Provider id.")]
OrderId = Annotated[str, _ID, Field(description="Service order id.")]
ScheduleId = Annotated[str, _ID, Field(description="Direct payment schedule id.")]
PaymentId = Annotated[str, _ID, Field(description="Payment id (one payment instruction).")]
RunId = Annotated[str, _ID, Field(description="Payment run id.")]
InvoiceId = Annotated[str, _ID, Field(
    description="Provider invoice id (issued by the payments service, not the provider's number).")]
RecoveryId = Annotated[str, _ID, Field(description="Surplus recovery id.")]

_RAW_BANK_DETAILS = re.compile(r"^[0-9\- ]{6,}$|^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def _not_raw_bank_details(token: str) -> str:
    if _RAW_BANK_DETAILS.match(token):
        raise ValueError("looks like raw bank details (sort code, account number or IBAN); send the vault token")
    return token


AccountRef = Annotated[str, StringConstraints(pattern=ID_PATTERN), AfterValidator(_not_raw_bank_details), Field(
    description="Opaque token of a bank account held in the council's vault; never a sort code, account "
    "number or IBAN.")]

MAX_INT = 2**63 - 1
"""The largest integer any field takes: a signed 64-bit integer, what PostgreSQL's bigint holds and what every
JSON encoder here writes (orjson refuses integers beyond 64 bits, so a larger one would pass validation and
then fail every content hash, stalling the consumer that read it; it is an INVALID_PAYLOAD instead)."""

MAX_COUNT = 2**31 - 1
"""The largest count (units, line numbers, payments, weeks): a PostgreSQL integer, the type the services store
them in. Units times a rate can still go beyond 64 bits, so invoice lines also check their total
(careschemas.invoice_events)."""

Pence = Annotated[int, Strict(), Field(ge=0, le=MAX_INT, description="Money in integer pence, zero or more.")]
PositivePence = Annotated[int, Strict(), Field(gt=0, le=MAX_INT, description="Money in integer pence, more than zero.")]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_COUNT)]
PositiveInt = Annotated[int, Strict(), Field(gt=0, le=MAX_COUNT)]

WORDS = r"^[^\x00]*[^\s\x00][^\x00]*$"
"""Text that is not blank and holds no NUL character: PostgreSQL text cannot store one, so a message carrying
it would fail its consumer's batch on every retry (envelope.NO_NUL is the same rule for text that may be empty)."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=WORDS)]
"""Free text for people (a reason): not blank, at most 500 characters."""
Detail = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]
"""Longer free text for people (may be empty)."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=WORDS)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=WORDS)]
Actor = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=WORDS), Field(
    description="Who did it: a user id or e-mail from the council's identity provider.")]
ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", max_length=64), Field(
    description="Stable machine-readable reason, UPPER_SNAKE.")]
TypeName = Annotated[str, StringConstraints(pattern=TYPE_PATTERN), Field(
    description="Stable type name, e.g. allocation.PersonalBudgetAgreed.v1.")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$"), Field(
    description="SHA-256 digest, 64 lower-case hex digits.")]


def require_order(earlier: date, later: date, *, strict: bool, what: str) -> None:
    """Raise ValueError unless `later` is after (strict) or on/after `earlier`."""
    if later < earlier or (strict and later == earlier):
        raise ValueError(f"{what}: must be {'after' if strict else 'on or after'} {earlier.isoformat()}")


# ---------------------------------------------------------------------------------------------------
# Base classes


class Payload(BaseModel):
    """The `data` of an envelope: an event (a fact, past tense) or a command (imperative)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    TYPE: ClassVar[str]
    KIND: ClassVar[str]


class Event(Payload):
    """A fact that happened; carries `effective_date` (business time)."""

    KIND: ClassVar[str] = "event"


class Command(Payload):
    """A request to a service; `LEADS_TO` names the event type it results in when accepted."""

    KIND: ClassVar[str] = "command"
    LEADS_TO: ClassVar[str]
