"""The page shell every reporting page shares, following the GOV.UK Design System's page template.

Owns the HTML around a page's content: language, title, skip link, the generic header and service
navigation (a council service carries no GOV.UK crown), the main landmark and the footer. Pages served
by the HTTP API link the stylesheet and the govuk-frontend script from /assets; a page written to a file
(the audit pack) carries the stylesheet inline so it reads the same offline and in print.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from .assets import GovukFrontend, govuk_frontend

SERVICE_NAME = "Care budget ledger reports"
ASSETS_PREFIX = "/assets"
# The page's own additions to GOV.UK Frontend: chart sizing and keyboard-scrollable wide tables.
_APP_CSS = (
    ".app-chart{display:block;max-width:760px;height:auto;margin-bottom:20px}"
    ".app-table-wrap{overflow-x:auto;margin-bottom:30px}"
    ".app-table-wrap:focus{outline:3px solid #ffdd00;outline-offset:0;box-shadow:inset 0 0 0 4px #0b0c0c}"
    "@media print{.govuk-service-navigation,.govuk-skip-link{display:none}}"
)
_JS_ENABLED = ("document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype"
               " ? ' govuk-frontend-supported' : '');")
# The only inline script, allowed by its hash in the Content-Security-Policy of served pages.
INLINE_SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_JS_ENABLED.encode()).digest()).decode()


@dataclass(frozen=True)
class PageAssets:
    """How a page gets GOV.UK Frontend: linked (served pages) or inline (standalone files)."""

    stylesheet_href: str | None = None
    inline_css: str = ""
    script_src: str | None = None
    icon_href: str | None = None

    @classmethod
    def served(cls, prefix: str = ASSETS_PREFIX) -> PageAssets:
        return cls(stylesheet_href=f"{prefix}/govuk-frontend.min.css", script_src=f"{prefix}/init.mjs",
                   icon_href=f"{prefix}/images/favicon.ico")

    @classmethod
    def standalone(cls, frontend: GovukFrontend | None = None) -> PageAssets:
        """Inline stylesheet from the installed package; without it the page is plain but complete."""
        frontend = frontend or govuk_frontend()
        return cls(inline_css=frontend.stylesheet if frontend.installed else "")


@dataclass(frozen=True)
class NavItem:
    href: str
    text: str
    current: bool = False


def _navigation(items: Sequence[NavItem], home_href: str | None) -> str:
    links = []
    for item in items:
        current = ' aria-current="page"' if item.current else ""
        active = " govuk-service-navigation__item--active" if item.current else ""
        links.append(f'<li class="govuk-service-navigation__item{active}"><a class="govuk-service-navigation__link"'
                     f' href="{escape(item.href)}"{current}>{escape(item.text)}</a></li>')
    nav = (f'<nav aria-label="Menu" class="govuk-service-navigation__wrapper">'
           f'<ul class="govuk-service-navigation__list" id="navigation">{"".join(links)}</ul></nav>') if links else ""
    return ('<section aria-label="Service information" class="govuk-service-navigation" '
            'data-module="govuk-service-navigation"><div class="govuk-width-container">'
            '<div class="govuk-service-navigation__container"><span class="govuk-service-navigation__service-name">'
            + (f'<a href="{escape(home_href)}" class="govuk-service-navigation__link">{SERVICE_NAME}</a>'
               if home_href else f'<span class="govuk-service-navigation__text">{SERVICE_NAME}</span>') + '</span>'
            f'{nav}</div></div></section>')


def page(title: str, content: str, *, assets: PageAssets, council: str | None = None,
         nav: Sequence[NavItem] = (), home_href: str | None = None) -> str:
    """A whole HTML document: `content` is trusted HTML, everything else is escaped here. The service name
    links to `home_href` when given (served pages); a page written to a file has nowhere to link to."""
    if home_href is None and assets.stylesheet_href:
        home_href = f"/councils/{council}/dashboard" if council else "/sign-in"
    head_css = (f'<link rel="stylesheet" href="{escape(assets.stylesheet_href)}">' if assets.stylesheet_href else "")
    if assets.icon_href:
        head_css += f'<link rel="icon" sizes="48x48" href="{escape(assets.icon_href)}">'
    inline = f"<style>{assets.inline_css}{_APP_CSS}</style>"
    script = (f'<script type="module" src="{escape(assets.script_src)}"></script>' if assets.script_src else "")
    organisation = f"Council: {council}" if council else "Care budget ledger"
    return (
        '<!DOCTYPE html><html lang="en" class="govuk-template"><head><meta charset="utf-8">'
        f"<title>{escape(title)} – {SERVICE_NAME}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">'
        '<meta name="theme-color" content="#0b0c0c">'
        f"{head_css}{inline}</head>"
        f'<body class="govuk-template__body"><script>{_JS_ENABLED}</script>'
        '<a href="#main-content" class="govuk-skip-link" data-module="govuk-skip-link">Skip to main content</a>'
        '<header class="govuk-generic-header"><div class="govuk-generic-header__container govuk-width-container">'
        '<div class="govuk-generic-header__logo"><span class="govuk-generic-header__homepage-link">'
        f'{escape(organisation)}</span></div></div></header>'
        f"{_navigation(nav, home_href)}"
        f'<div class="govuk-width-container">'
        f'<main class="govuk-main-wrapper" id="main-content">{content}</main></div>'
        '<footer class="govuk-footer"><div class="govuk-width-container"><div class="govuk-footer__meta">'
        '<div class="govuk-footer__meta-item govuk-footer__meta-item--grow">'
        '<p class="govuk-body-s">Figures come from the council\'s append-only ledger journal. '
        "People are shown only by opaque references.</p></div></div></div></footer>"
        f"{script}</body></html>"
    )
