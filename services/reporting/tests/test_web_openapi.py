"""The committed OpenAPI document (reporting/web/openapi.json) is the one the code generates, and it
says what the brief asks of the API: every route scoped to a council, both security schemes, the four
formats, and the auditor-refused write."""
from __future__ import annotations

import json
from pathlib import Path

import reporting.web
from reporting.web.app import openapi_document

COMMITTED = Path(reporting.web.__file__).with_name("openapi.json")


def test_the_committed_document_is_not_stale():
    assert COMMITTED.read_text() == openapi_document(), (
        "regenerate: python -m reporting.web openapi > services/reporting/src/reporting/web/openapi.json")


def test_the_document_describes_scoped_reports_formats_and_the_write():
    doc = json.loads(openapi_document())
    paths = doc["paths"]
    scoped = [p for p in paths if p not in ("/healthz", "/readyz", "/metrics", "/sign-in", "/sign-out")]
    assert scoped and all(p.startswith("/councils/{council}/") for p in scoped)
    report = paths["/councils/{council}/reports/{name}"]["get"]
    fmt = next(p for p in report["parameters"] if p["name"] == "format")
    assert fmt["schema"]["enum"] == ["json", "csv", "xlsx", "html"]
    assert {"401", "403", "404", "503"} <= set(report["responses"])
    assert set(doc["components"]["securitySchemes"]) == {"accessKey", "signInCookie"}
    write = paths["/councils/{council}/audit-packs"]["post"]
    assert write["security"] == [{"accessKey": []}]  # a write never takes the cookie
    assert "403" in write["responses"]
