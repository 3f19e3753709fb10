"""The HTTP API's response models: what the OpenAPI document promises and schemathesis checks."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Format = Literal["json", "csv", "xlsx", "html"]


class Problem(BaseModel):
    detail: str = Field(description="What went wrong, in words.")


class ReportInfo(BaseModel):
    name: str
    title: str
    description: str
    links: dict[str, str] = Field(description="The report as JSON, CSV, XLSX and HTML (as at today).")


class ReportList(BaseModel):
    council_id: str
    reports: list[ReportInfo]


class ColumnOut(BaseModel):
    name: str
    title: str
    kind: Literal["text", "pence", "int", "date", "ratio"] = Field(
        description='"pence": integer pence; "ratio": a fraction in [0, 1]; "date": ISO 8601.')


class QueryOut(BaseModel):
    council_id: str
    as_of: str = Field(description="Effective date, ISO 8601.")
    known_at: str | None = Field(description="Recorded time the figures were known at; null: now.")
    params: dict[str, str]


class ReportDocument(BaseModel):
    report: str
    title: str
    query: QueryOut
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    notes: list[str]


class AuditPack(BaseModel):
    id: str
    council_id: str
    as_of: str
    known_at: str | None
    reports: list[str]
    href: str = Field(description="The pack's HTML page.")
    zip_href: str = Field(description="Every file of the pack (CSV, JSON, XLSX, HTML, manifest) as a zip.")


_WORDS = {401: "No valid access key.", 403: "The key is not for this council, or its role may not do this.",
          404: "No such report or audit pack.", 503: "The reporting database is unavailable; try again."}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for JSON problem answers of the API."""
    return {s: {"model": Problem, "description": _WORDS[s]} for s in statuses}


def page_problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the same answers given as a page (routes for people)."""
    return {s: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": _WORDS[s]}
            for s in statuses}
