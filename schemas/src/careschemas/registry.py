"""The registry of every payload type: stable type name -> pydantic model, the event and command sets,
and the two ways across the envelope boundary (`make_envelope` and `parse_payload`).

Models are collected from the family modules themselves (every `Payload` subclass with its own `TYPE`),
so a new class cannot be forgotten; a type name used twice stops the import.
"""
from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType

from pydantic import BaseModel

from . import (
    allocation_commands, allocation_events, invoice_commands, invoice_events, ledger_events, payments_commands,
    payments_events,
)
from .common import Command, Payload
from .envelope import Envelope

FAMILIES: tuple[str, ...] = ("allocation", "payments", "invoices", "ledger")

MODULES: tuple[ModuleType, ...] = (
    allocation_events, allocation_commands, payments_events, payments_commands, invoice_events, invoice_commands,
    ledger_events,
)


class UnknownType(LookupError):
    """An envelope names a type that no model in this registry has."""


def payload_classes(module: ModuleType) -> list[type[Payload]]:
    """The payload models a module defines (in definition order)."""
    return [
        obj for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Payload) and obj.__module__ == module.__name__
        and "TYPE" in obj.__dict__
    ]


def _collect(modules: tuple[ModuleType, ...]) -> dict[str, type[Payload]]:
    models: dict[str, type[Payload]] = {}
    for module in modules:
        for cls in payload_classes(module):
            if cls.TYPE in models:
                raise RuntimeError(f"type {cls.TYPE} defined twice: {models[cls.TYPE].__qualname__} and "
                                   f"{cls.__qualname__} in {module.__name__}")
            models[cls.TYPE] = cls
    return dict(sorted(models.items()))


_PAYLOADS: dict[str, type[Payload]] = _collect(MODULES)
MODELS: dict[str, type[BaseModel]] = dict(_PAYLOADS)
EVENT_TYPES: frozenset[str] = frozenset(t for t, m in _PAYLOADS.items() if m.KIND == "event")
COMMAND_TYPES: frozenset[str] = frozenset(t for t, m in _PAYLOADS.items() if m.KIND == "command")


def payload_model(type_name: str) -> type[BaseModel] | None:
    """The model of a type name, or None when the type is unknown."""
    return MODELS.get(type_name)


def type_name(model: type[BaseModel] | BaseModel) -> str:
    """The stable type name of a payload model (class or instance)."""
    cls = model if isinstance(model, type) else type(model)
    name = getattr(cls, "TYPE", None)
    if name is None or MODELS.get(name) is not cls:
        raise UnknownType(f"{cls.__qualname__} is not a registered payload model")
    return name


def kind(type_name_: str) -> str:
    """"event" or "command". Raises KeyError for an unknown type."""
    return _PAYLOADS[type_name_].KIND


def leads_to(command_type: str) -> str:
    """The event type a command leads to when accepted. Raises KeyError for an unknown command type."""
    model = _PAYLOADS[command_type]
    if not issubclass(model, Command):
        raise KeyError(f"{command_type} is not a command")
    return model.LEADS_TO


def family(type_name_: str) -> str:
    """The family of a type name: "allocation", "payments", "invoices" or "ledger"."""
    return type_name_.split(".", 1)[0]


def make_envelope(
    payload: BaseModel,
    *,
    id: str,  # noqa: A002 - the CloudEvents attribute name
    source: str,
    subject: str,
    council_id: str,
    correlation_id: str,
    causation_id: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Wrap a payload in a CloudEvents envelope; `time` (recorded time) defaults to now in UTC."""
    return Envelope(
        id=id,
        source=source,
        type=type_name(payload),
        time=time if time is not None else datetime.now(UTC),
        subject=subject,
        councilid=council_id,
        correlationid=correlation_id,
        causationid=causation_id,
        data=payload.model_dump(mode="json"),
    )


def parse_payload(envelope: Envelope) -> BaseModel:
    """The typed payload of an envelope. Raises UnknownType, or pydantic.ValidationError for bad data."""
    model = MODELS.get(envelope.type)
    if model is None:
        raise UnknownType(envelope.type)
    return model.model_validate(envelope.data)
