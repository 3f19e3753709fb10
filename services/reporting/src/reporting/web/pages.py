"""Pages for people: sign in with an access key, and the read-only dashboard of one council.

The dashboard shows the configured headline reports (by default the spend by provider type, with the
external-provision share against the council's target) as charts with their data tables, and links to
every report in every format. Everything here is a GET except signing in and out; nothing writes data.
"""
from datetime import UTC, date, datetime
from html import escape
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from reporting.reports import ReportQuery

from .access import COOKIE_NAME, MAX_KEY_LENGTH, Principal
from .api_models import page_problems
from .forms import error_summary, text_field
from .html import render_report_section
from .layout import NavItem, PageAssets, page
from .runner import report_specs, run_reports
from .state import Council, WebState, exact_query, reader, web_state

router = APIRouter(tags=["pages"])
_HTML_OK = {200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "An HTML page."}}


def _sign_in_page(error: str | None = None) -> str:
    errors = {"key": error} if error else {}
    content = (error_summary(errors) + '<h1 class="govuk-heading-l">Sign in to the reports</h1>'
               '<form method="post" action="/sign-in" novalidate>'
               + text_field("key", "Access key", "The key your council gave you. It decides which council's "
                            "figures you see.", error=error, input_type="password")
               + '<button type="submit" class="govuk-button" data-module="govuk-button">Sign in</button></form>')
    return page("Error: Sign in" if error else "Sign in", content, assets=PageAssets.served())


@router.get("/", include_in_schema=False)
async def index() -> RedirectResponse:
    return RedirectResponse("/sign-in", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse, responses=_HTML_OK, summary="The sign-in page")
async def sign_in_form() -> HTMLResponse:
    return HTMLResponse(_sign_in_page())


@router.post("/sign-in", response_class=HTMLResponse, summary="Sign in with an access key (sets a cookie)",
             responses={303: {"description": "Signed in: on to the council's dashboard."},
                        401: {"content": {"text/html": {"schema": {"type": "string"}}},
                              "description": "The key is not valid."}})
async def sign_in(key: Annotated[str, Form(max_length=MAX_KEY_LENGTH)] = "",
                  state: WebState = Depends(web_state)):
    principal = state.keyring.principal(key.strip())
    if principal is None:
        return HTMLResponse(_sign_in_page("Enter a valid access key"), status_code=401)
    response = RedirectResponse(f"/councils/{principal.council_id}/dashboard", status_code=303)
    response.set_cookie(COOKIE_NAME, key.strip(), httponly=True, samesite="strict",
                        secure=state.settings.cookie_secure, max_age=8 * 3600)
    return response


@router.post("/sign-out", summary="Sign out (clears the cookie)",
             responses={303: {"description": "Signed out: back to the sign-in page."}})
async def sign_out() -> RedirectResponse:
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(COOKIE_NAME)
    return response


def parse_when(as_of: str | None, known_at: str | None) -> tuple[date, datetime | None, dict[str, str]]:
    """The dashboard's as-at date (today when empty) and as-known-at time (UTC when no offset is given),
    with a message per field that is not valid."""
    errors, day, moment = {}, datetime.now(UTC).date(), None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            errors["as_of"] = "Enter the date as year-month-day, for example 2026-03-31"
    if known_at:
        try:
            moment = datetime.fromisoformat(known_at)
            moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        except (ValueError, OverflowError):
            errors["known_at"] = "Enter the time as year-month-day and hours:minutes, for example 2026-04-01T09:00"
    return day, moment, errors


def _when_form(council: str, as_of: str, known_at: str, errors: dict[str, str]) -> str:
    return (f'<form method="get" action="/councils/{escape(council)}/dashboard" novalidate>'
            + text_field("as_of", "Figures as at", "Effective date, for example 2026-03-31. Leave empty for today.",
                         as_of, errors.get("as_of"), width="10")
            + text_field("known_at", "As known at (optional)", "Only what had been recorded by then, for example "
                         "2026-04-01T09:00 (UTC unless you add an offset). Leave empty for everything recorded.",
                         known_at, errors.get("known_at"), width="20")
            + '<button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button">'
            "Show figures</button></form>")


def _report_links(council: str, query: ReportQuery) -> str:
    when = urlencode({"as_of": query.as_of.isoformat(), **({"known_at": query.known_at.isoformat()}
                                                           if query.known_at else {})})
    rows = []
    for spec in report_specs():
        base = f"/councils/{escape(council)}/reports/{spec.name}?{escape(when)}&amp;format="
        links = " ".join(f'<a class="govuk-link" href="{base}{fmt}">{fmt.upper()}'
                         f'<span class="govuk-visually-hidden"> of {escape(spec.title)}</span></a>'
                         for fmt in ("html", "csv", "xlsx", "json"))
        rows.append(f'<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">{escape(spec.title)}'
                    f'</th><td class="govuk-table__cell">{escape(spec.description)}</td>'
                    f'<td class="govuk-table__cell">{links}</td></tr>')
    return ('<table class="govuk-table"><caption class="govuk-table__caption govuk-table__caption--m">All reports'
            '</caption><thead class="govuk-table__head"><tr class="govuk-table__row">'
            '<th scope="col" class="govuk-table__header">Report</th>'
            '<th scope="col" class="govuk-table__header">What it shows</th>'
            '<th scope="col" class="govuk-table__header">Download</th></tr></thead>'
            f'<tbody class="govuk-table__body">{"".join(rows)}</tbody></table>')


@router.get("/councils/{council}/dashboard", response_class=HTMLResponse, summary="The council's dashboard",
            responses={**_HTML_OK, **page_problems(401, 403, 503),
                       400: {"content": {"text/html": {"schema": {"type": "string"}}},
                             "description": "A date or time is not valid (the page says why)."}},
            dependencies=[Depends(exact_query)])
async def dashboard(council: Council,
                    as_of: Annotated[str | None, Query(max_length=10, description="Effective date",
                                                       json_schema_extra={"format": "date"})] = None,
                    known_at: Annotated[str | None, Query(max_length=40, description="Recorded time",
                                                          json_schema_extra={"format": "date-time"})] = None,
                    state: WebState = Depends(web_state), who: Principal = Depends(reader)) -> HTMLResponse:
    day, moment, errors = parse_when(as_of, known_at)
    body = ""
    if not errors:
        available = {s.name for s in report_specs()}
        names = [n for n in state.settings.dashboard_reports if n in available]
        # The external-share target is per council (settings); the report judges against what it is given.
        query = ReportQuery(council_id=council, as_of=day, known_at=moment,
                            params={"target": str(state.settings.target_for(council))})
        tables = await run_reports(state, names, query)
        body = "".join(render_report_section(t, target=state.settings.target_for(council)) for t in tables)
        body += _report_links(council, query)
    content = (
        error_summary(errors) + f'<span class="govuk-caption-l">Council {escape(council)}</span>'
        '<h1 class="govuk-heading-xl">Dashboard</h1>'
        f'<p class="govuk-body">Read-only figures from the ledger. You are signed in as {escape(who.role)}.</p>'
        + _when_form(council, as_of or "", known_at or "", errors) + body
        + '<form method="post" action="/sign-out"><button type="submit" class="govuk-button govuk-button--secondary"'
        ' data-module="govuk-button">Sign out</button></form>')
    nav = [NavItem(f"/councils/{council}/dashboard", "Dashboard", current=True)]
    return HTMLResponse(page("Error: Dashboard" if errors else "Dashboard", content, assets=PageAssets.served(),
                             council=council, nav=nav), status_code=400 if errors else 200)
