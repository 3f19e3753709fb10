"""The reporting HTTP API fuzzed against its own OpenAPI document (schemathesis, in-process over ASGI)
with a real, seeded reporting database behind it: no request may produce a server error, and every
answer must match what the document promises (status codes, content types, JSON schemas, and that
invalid input is refused).

Schemathesis' own pytest plugin cannot load a schema from a fixture under pytest 9 (it reads a node
attribute pytest removed), so each test drives Hypothesis directly with the schema's strategy."""
from __future__ import annotations

import asyncio
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from reporting.web.app import create_app
from reporting.web.runner import report_specs
from reporting.web.state import COUNCIL_PATTERN, REPORT_NAME_PATTERN
from schemathesis import GenerationMode
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .reporting_web_harness import bearer, seed_reporting_db, web_settings

REPORTS = [s.name for s in report_specs()] + ["no_such_report"]
CASES = [
    # (what, generation mode, council forced into the path or None, key's council, role, examples)
    ("own council, valid input, finance key", GenerationMode.POSITIVE, "C001", "C001", "finance", 250),
    ("own council, valid input, auditor key", GenerationMode.POSITIVE, "C002", "C002", "auditor", 150),
    ("any council, valid input", GenerationMode.POSITIVE, None, "C001", "finance", 100),
    ("own council, invalid input", GenerationMode.NEGATIVE, "C001", "C001", "finance", 150),
]


def fuzz(schema, mode: GenerationMode, council: str | None, key_council: str, role: str, examples: int,
         seen: list[tuple[str, int]]) -> None:
    @given(case=schema.as_strategy(mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        path = case.path_parameters or {}
        # Only well-formed ids are replaced: a malformed one may be what a negative case is testing.
        if council is not None and re.fullmatch(COUNCIL_PATTERN, str(path.get("council", ""))):
            path["council"] = council
        if re.fullmatch(REPORT_NAME_PATTERN, str(path.get("name", ""))):
            path["name"] = REPORTS[sum(map(ord, path["name"])) % len(REPORTS)]  # mostly real reports
        # A parameter is schema-valid by name and shape, but whether this report takes it and can use its value
        # is the report's to say (reports.params): that refusal is a 422 at query.params with the reason,
        # checked here instead of schemathesis' "valid data is accepted".
        response = case.call_and_validate(headers=bearer(key_council, role), excluded_checks=[positive_data_acceptance])
        if mode is GenerationMode.POSITIVE and response.status_code >= 400 and response.status_code not in (401, 403, 404):
            detail = response.json()["detail"]
            assert response.status_code == 422 and detail[0]["loc"] == ["query", "params"] and detail[0]["msg"], detail
        seen.append((case.operation.label, response.status_code))

    run()


@pytest.mark.parametrize("what,mode,council,key_council,role,examples", CASES, ids=[c[0] for c in CASES])
async def test_the_api_matches_its_openapi_document_and_never_fails(fresh_db, tmp_path, what, mode, council,
                                                                    key_council, role, examples):
    dsn = await fresh_db("reporting")
    await seed_reporting_db(dsn)
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(web_settings(dsn, tmp_path / "packs")))
    seen: list[tuple[str, int]] = []
    try:
        await asyncio.to_thread(fuzz, schema, mode, council, key_council, role, examples, seen)
    finally:  # schemathesis keeps an app's lifespan (our pool) open until exit; close it before the DB goes
        await asyncio.to_thread(schemathesis_asgi.shutdown_lifespans)
    assert not [s for s in seen if s[1] >= 500]
    if mode is GenerationMode.POSITIVE and council is not None:
        # the fuzzing reached the real reports, not only the refusals
        assert ("GET /councils/{council}/reports/{name}", 200) in seen
