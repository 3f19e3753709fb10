"""What the HTTP app holds while it runs: settings, key ring, GOV.UK Frontend, metrics, the pool.

Owns the per-process state object and the dependencies routes use to reach it: the database pool
(created lazily, so the process starts and /readyz can say "not ready" while PostgreSQL is down) and
the caller's principal (from a Bearer key, or for reads only, the sign-in cookie), as FastAPI
dependencies `reader` and `writer` that every council-scoped route takes.
"""
from dataclasses import dataclass, field
from typing import Annotated

import asyncpg
from careschemas import envelope
from fastapi import Depends, Path, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, Counter, Histogram

from .access import COOKIE_NAME, KeyRing, Principal, authorise
from .assets import GovukFrontend
from .config import WebSettings

# As careschemas.envelope.Envelope.councilid: the tenant id on every event.
COUNCIL_PATTERN = envelope.COUNCIL_PATTERN
REPORT_NAME_PATTERN = r"^[a-z0-9_]{1,64}$"


class DatabaseUnavailable(Exception):
    """PostgreSQL cannot be reached (or timed out): the request may succeed later (503)."""


class WebMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        kw = {"registry": registry, "namespace": "reporting_http"}
        self.requests = Counter("requests", "HTTP requests by route and status.", ["route", "status"], **kw)
        self.seconds = Histogram("request_seconds", "Time to answer, by route.", ["route"], **kw)
        self.reports = Counter("reports_run", "Reports run, by report and format.", ["report", "format"], **kw)
        self.denied = Counter("access_denied", "Requests refused by access control, by status.", ["status"], **kw)


@dataclass
class WebState:
    settings: WebSettings
    keyring: KeyRing
    frontend: GovukFrontend
    metrics: WebMetrics
    pool: asyncpg.Pool | None = field(default=None)

    async def open_pool(self) -> None:
        # min_size=0: no connection at start, so the app starts while PostgreSQL is down. Sessions are
        # read-only: the API reads projections and never writes the database.
        self.pool = await asyncpg.create_pool(
            self.settings.database_url, min_size=0, max_size=self.settings.pool_size,
            server_settings={"default_transaction_read_only": "on",
                             "statement_timeout": str(self.settings.statement_timeout_ms)})

    async def close_pool(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None



def web_state(request: Request) -> WebState:
    return request.app.state.web


# Declared as security schemes so the OpenAPI document says how to authenticate.
bearer_key = HTTPBearer(auto_error=False, scheme_name="accessKey",
                        description="An access key: it decides the one council and the role of the caller.")
cookie_key = APIKeyCookie(name=COOKIE_NAME, auto_error=False, scheme_name="signInCookie",
                          description="Set by POST /sign-in for people using the dashboard; reads only.")
Council = Annotated[str, Path(pattern=COUNCIL_PATTERN, description="The council (tenant) id.")]


def reader(council: Council, state: WebState = Depends(web_state),
           bearer: HTTPAuthorizationCredentials | None = Security(bearer_key),
           cookie: str | None = Security(cookie_key)) -> Principal:
    """The caller, if it may read `council`'s data (Bearer key, or the sign-in cookie)."""
    presented = bearer.credentials if bearer else cookie
    return authorise(state.keyring.principal(presented), council)


def writer(council: Council, state: WebState = Depends(web_state),
           bearer: HTTPAuthorizationCredentials | None = Security(bearer_key)) -> Principal:
    """The caller, if it may write for `council` (Bearer key only: a cookie never authorises a write)."""
    return authorise(state.keyring.principal(bearer.credentials if bearer else None), council, write=True)


def _query_names(dependant) -> set[str]:
    """The query parameters a route (a FastAPI Dependant) takes, its dependencies' included."""
    return {p.alias for p in dependant.query_params}.union(*(_query_names(d) for d in dependant.dependencies))


def exact_query(request: Request) -> None:
    """Refuses (422) a query parameter the route does not take: a typo (`asof=2026-03-31`) was ignored, and
    the figures answered another question (today's) without a word."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    takes = _query_names(dependant)
    unknown = sorted(set(request.query_params) - takes)
    if unknown:
        raise RequestValidationError([{"loc": ("query", name), "type": "value_error",
                                       "msg": f"not a parameter of this route (it takes: {', '.join(sorted(takes)) or 'none'})"}
                                      for name in unknown])
