"""Pages for people: sign in with an access key, and the read-only dashboard of one council.

The dashboard shows the configured headline reports (by default the spend by provider type, with the
external-provision share against the council's target) as charts with their data tables, and links to
every report in every format. Everything here is a GET except signing in and out; nothing writes data.
"""
from datetime import UTC, date, datetime
from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from reporting.reports import ReportQuery

from .access import COOKIE_NAME, MAX_KEY_LENGTH, Principal
from .api_models import page_problems
from .html import render_report_section
from .layout import NavItem, PageAssets, page
from .runner import report_specs, run_reports
from .state import Council, WebState, reader, web_state

router = APIRouter(tags=["pages"])
_HTML_OK = {200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "An HTML page."}}


def _error_summary(message: str, field: str) -> str:
    return ('<div class="govuk-error-summary" data-module="govuk-error-summary"><div role="alert">'
            '<h2 class="govuk-error-summary__title">There is a problem</h2><div class="govuk-error-summary__body">'
            f'<ul class="govuk-list govuk-error-summary__list"><li><a href="#{field}">{escape(message)}</a></li>'
            "</ul></div></div></div>")


def _sign_in_page(error: str | None = None) -> str:
    group_error = " govuk-form-group--error" if error else ""
    input_error = " govuk-input--error" if error else ""
    message = (f'<p id="key-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> '
               f"{escape(error)}</p>") if error else ""
    described = "key-hint key-error" if error else "key-hint"
    content = (
        (_error_summary(error, "key") if error else "")
        + '<h1 class="govuk-heading-l">Sign in to the reports</h1>'
        '<form method="post" action="/sign-in" novalidate>'
        f'<div class="govuk-form-group{group_error}"><label class="govuk-label govuk-label--s" for="key">'
        'Access key</label><div id="key-hint" class="govuk-hint">The key your council gave you. '
        f'It decides which council\'s figures you see.</div>{message}'
        f'<input class="govuk-input{input_error}" id="key" name="key" type="password" autocomplete="off" '
        f'spellcheck="false" aria-describedby="{described}"></div>'
        '<button type="submit" class="govuk-button" data-module="govuk-button">Sign in</button></form>')
    return page("Sign in" if not error else "Error: Sign in", content, assets=PageAssets.served())


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


def _parse_date(text: str | None) -> tuple[date | None, str | None]:
    if not text:
        return datetime.now(UTC).date(), None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, "Enter the date as year-month-day, for example 2026-03-31"


def _date_form(council: str, text: str, error: str | None) -> str:
    group_error = " govuk-form-group--error" if error else ""
    message = (f'<p id="as_of-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:'
               f"</span> {escape(error)}</p>") if error else ""
    described = "as_of-hint as_of-error" if error else "as_of-hint"
    return (f'<form method="get" action="/councils/{escape(council)}/dashboard" novalidate>'
            f'<div class="govuk-form-group{group_error}"><label class="govuk-label govuk-label--s" for="as_of">'
            'Figures as at</label><div id="as_of-hint" class="govuk-hint">Effective date, for example 2026-03-31.'
            f' Leave empty for today.</div>{message}<input class="govuk-input govuk-input--width-10'
            f'{" govuk-input--error" if error else ""}" id="as_of" name="as_of" type="text" '
            f'value="{escape(text)}" autocomplete="off" spellcheck="false" aria-describedby="{described}"></div>'
            '<button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button">'
            "Show figures</button></form>")


def _report_links(council: str, as_of: date) -> str:
    rows = []
    for spec in report_specs():
        base = f"/councils/{escape(council)}/reports/{spec.name}?as_of={as_of.isoformat()}&amp;format="
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
                             "description": "The date is not valid (the page says why)."}})
async def dashboard(council: Council,
                    as_of: Annotated[str | None, Query(max_length=10, description="Effective date",
                                                       json_schema_extra={"format": "date"})] = None,
                    state: WebState = Depends(web_state), who: Principal = Depends(reader)) -> HTMLResponse:
    day, error = _parse_date(as_of)
    sections = ""
    if day is not None:
        available = {s.name for s in report_specs()}
        names = [n for n in state.settings.dashboard_reports if n in available]
        # The external-share target is per council (settings); the report judges against what it is given.
        query = ReportQuery(council_id=council, as_of=day,
                            params={"target": str(state.settings.target_for(council))})
        tables = await run_reports(state, names, query)
        sections = "".join(render_report_section(t, target=state.settings.target_for(council)) for t in tables)
    content = (
        (_error_summary(error, "as_of") if error else "")
        + f'<span class="govuk-caption-l">Council {escape(council)}</span>'
        '<h1 class="govuk-heading-xl">Dashboard</h1>'
        f'<p class="govuk-body">Read-only figures from the ledger. You are signed in as {escape(who.role)}.</p>'
        + _date_form(council, as_of or "", error) + sections
        + (_report_links(council, day) if day else "")
        + '<form method="post" action="/sign-out"><button type="submit" class="govuk-button govuk-button--secondary"'
        ' data-module="govuk-button">Sign out</button></form>')
    nav = [NavItem(f"/councils/{council}/dashboard", "Dashboard", current=True)]
    title = "Dashboard" if not error else "Error: Dashboard"
    return HTMLResponse(page(title, content, assets=PageAssets.served(), council=council, nav=nav),
                        status_code=400 if error else 200)
