"""Shared helpers of the contract tests: build a payload from the type's example with some fields changed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from careschemas.examples import example_payload
from careschemas.registry import MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
_DROP = object()


def data(type_name: str, **changes: Any) -> dict[str, Any]:
    """The example payload of a type with `changes` applied (a value of DROP removes the field)."""
    out = example_payload(type_name)
    for key, value in changes.items():
        if value is _DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def valid(type_name: str, **changes: Any) -> BaseModel:
    return MODELS[type_name].model_validate(data(type_name, **changes))


def invalid(type_name: str, **changes: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        MODELS[type_name].model_validate(data(type_name, **changes))
    return info.value


DROP = _DROP
