"""Composition root of the reporting HTTP API and dashboard: `create_app(settings)` builds the FastAPI app.

Owns what every route shares: the lifespan (the database pool), error handling (access denied 401/403,
unknown report 404, database unavailable 503 with Retry-After), request metrics, the operations routes
(/healthz, /readyz, /metrics) and the GOV.UK Frontend assets under /assets. The OpenAPI document at
/openapi.json is generated from the routes; no interactive docs page (it would load code from a CDN).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from contextlib import asynccontextmanager
from html import escape

from careruntime.health import postgres_check
from careruntime.metrics import exposition
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from prometheus_client import CollectorRegistry
from starlette.routing import Match

from reporting.reports import UnknownReport

from . import pages, routes_api
from .access import AccessDenied, KeyRing
from .assets import govuk_frontend
from .config import WebSettings
from .layout import INLINE_SCRIPT_HASH, PageAssets, page
from .state import DatabaseUnavailable, WebMetrics, WebState

# Starts GOV.UK Frontend's components (skip link, service navigation, buttons, error summary). Kept here,
# not as a file, so it ships in any install of the package.
INIT_SCRIPT = 'import { initAll } from "./govuk-frontend.min.js";\ninitAll();\n'
# Pages load only their own assets; the one inline script is allowed by its hash; nothing may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": (f"default-src 'self'; script-src 'self' '{INLINE_SCRIPT_HASH}'; "
                                "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
                                "form-action 'self'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
log = logging.getLogger(__name__)
LIST_PARAMETERS = frozenset({"params"})  # the only query parameter that may be repeated
_DESCRIPTION = """Audit reports of one council's personal budgets, from the reporting projections.

Every request is scoped to one council: send `Authorization: Bearer <key>`; the key decides the council
and the role. The `auditor` role reads; only `finance` may request an audit pack. Money is integer
pence; ratios are fractions in [0, 1]; `as_of` is an effective date, `known_at` a recorded time."""


def _wants_html(request: Request) -> bool:
    """Pages for people answer errors with a page; the API answers with a JSON problem."""
    path = request.url.path
    return path.endswith("/dashboard") or path.startswith("/sign-")


def _problem(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request):
        content = (f'<h1 class="govuk-heading-l">{"Sign in" if status == 401 else "Sorry"}</h1>'
                   f'<p class="govuk-body">{escape(detail)}</p>'
                   + ('<p class="govuk-body"><a class="govuk-link" href="/sign-in">Sign in with your access key'
                      "</a></p>" if status == 401 else ""))
        return HTMLResponse(page("Sign in" if status == 401 else "Sorry", content, assets=PageAssets.served()),
                            status_code=status, headers=headers)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _repeated_parameter(request: Request) -> Response | None:
    """A 422 (FastAPI's own shape) when a one-value query parameter is given twice: otherwise the last one
    would silently win, and a caller could believe the figures answer the first."""
    counts = Counter(name for name, _ in request.query_params.multi_items())
    twice = sorted({n for n, times in counts.items() if times > 1} - LIST_PARAMETERS)
    if not twice:
        return None
    return JSONResponse({"detail": [{"loc": ["query", n], "msg": "give this parameter once", "type": "value_error"}
                                    for n in twice]}, status_code=422)


def _route_name(request: Request) -> str:
    for route in request.app.router.routes:
        if route.matches(request.scope)[0] == Match.FULL:
            return getattr(route, "path", "other")
    return "unmatched"


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    state = WebState(settings, KeyRing(settings.api_keys), govuk_frontend(settings.govuk_frontend_dir),
                     WebMetrics(CollectorRegistry()))

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await state.open_pool()
        try:
            yield
        finally:
            await state.close_pool()

    app = FastAPI(title="Care budget ledger: reporting API", version="1", description=_DESCRIPTION,
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.web = state

    @app.exception_handler(AccessDenied)
    async def denied(request: Request, exc: AccessDenied) -> Response:
        state.metrics.denied.labels(str(exc.status)).inc()
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _problem(request, exc.status, exc.detail, headers)

    @app.exception_handler(UnknownReport)
    async def unknown(request: Request, exc: UnknownReport) -> Response:
        return _problem(request, 404, f"No report called {exc.args[0]!r}.")

    @app.exception_handler(DatabaseUnavailable)
    async def unavailable(request: Request, _: DatabaseUnavailable) -> Response:
        return _problem(request, 503, "The reporting database is unavailable; try again shortly.",
                        {"Retry-After": "5"})

    @app.middleware("http")
    async def measure(request: Request, call_next):
        started = time.perf_counter()
        response = _repeated_parameter(request) or await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if request.url.path.startswith("/councils/"):
            response.headers["Cache-Control"] = "no-store"  # a council's figures stay out of shared caches
        route = _route_name(request)
        state.metrics.requests.labels(route, str(response.status_code)).inc()
        state.metrics.seconds.labels(route).observe(time.perf_counter() - started)
        return response

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: PostgreSQL answers",
             responses={503: {"description": "Not ready: PostgreSQL does not answer."}})
    async def readyz() -> JSONResponse:
        try:
            if state.pool is None:
                raise DatabaseUnavailable("no pool")
            await asyncio.wait_for(postgres_check(state.pool)(), timeout=3)
        except Exception as exc:  # any failure means "do not send traffic here yet"
            return JSONResponse({"status": "unready", "failing": ["postgres"],
                                 "errors": {"postgres": f"{type(exc).__name__}: {exc}"[:200]}}, status_code=503)
        return JSONResponse({"status": "ready", "failing": [], "errors": {}})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics",
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    async def metrics() -> Response:
        payload, content_type = exposition(state.metrics.registry)
        return Response(payload, headers={"Content-Type": content_type})

    _mount_assets(app, state)
    app.include_router(routes_api.router)
    app.include_router(pages.router)
    return app


def _mount_assets(app: FastAPI, state: WebState) -> None:
    """GOV.UK Frontend from the installed npm package: the council stylesheet, the script, its images."""
    frontend = state.frontend
    year = {"Cache-Control": "public, max-age=86400"}
    if not frontend.installed:
        log.warning("govuk-frontend is not installed at %s: pages will be unstyled (make node-deps, or set "
                    "REPORTING_GOVUK_FRONTEND_DIR)", frontend.package_dir)

    @app.get("/assets/govuk-frontend.min.css", include_in_schema=False)
    async def stylesheet() -> Response:
        if not frontend.installed:
            return Response("/* govuk-frontend is not installed: run make node-deps */", media_type="text/css",
                            status_code=404)
        return Response(frontend.stylesheet, media_type="text/css", headers=year)

    @app.get("/assets/govuk-frontend.min.js", include_in_schema=False)
    async def script() -> Response:
        if not frontend.installed:
            return Response("", media_type="text/javascript", status_code=404)
        return Response(frontend.script, media_type="text/javascript", headers=year)

    @app.get("/assets/init.mjs", include_in_schema=False)
    async def init_script() -> Response:
        return Response(INIT_SCRIPT, media_type="text/javascript", headers=year)

    @app.get("/assets/images/{name}", include_in_schema=False)
    async def image(name: str) -> Response:
        path = frontend.image(name) if frontend.installed else None
        return FileResponse(path, headers=year) if path else Response(status_code=404)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return await image("favicon.ico")


def openapi_document() -> str:
    """The OpenAPI document as committed (web/openapi.json): stable key order, one trailing newline."""
    return json.dumps(create_app(WebSettings(api_keys=[])).openapi(), indent=2, sort_keys=True) + "\n"
