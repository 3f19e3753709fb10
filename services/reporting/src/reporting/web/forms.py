"""GOV.UK Design System form pieces for the pages: a text input's form group (label, hint, error message
wired by aria-describedby) and the error summary that links to the fields in error."""
from __future__ import annotations

from collections.abc import Mapping
from html import escape


def error_summary(errors: Mapping[str, str]) -> str:
    """The summary at the top of a page in error; each message links to its field."""
    if not errors:
        return ""
    items = "".join(f'<li><a href="#{field}">{escape(message)}</a></li>' for field, message in errors.items())
    return ('<div class="govuk-error-summary" data-module="govuk-error-summary"><div role="alert">'
            '<h2 class="govuk-error-summary__title">There is a problem</h2><div class="govuk-error-summary__body">'
            f'<ul class="govuk-list govuk-error-summary__list">{items}</ul></div></div></div>')


def text_field(name: str, label: str, hint: str, value: str = "", error: str | None = None, *,
               input_type: str = "text", width: str = "") -> str:
    """One labelled input with its hint and, when in error, its error message (GOV.UK text input)."""
    group = " govuk-form-group--error" if error else ""
    described = f"{name}-hint" + (f" {name}-error" if error else "")
    message = (f'<p id="{name}-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:'
               f"</span> {escape(error)}</p>") if error else ""
    classes = "govuk-input" + (f" govuk-input--width-{width}" if width else "") + (" govuk-input--error" if error else "")
    shown = f' value="{escape(value)}"' if value and input_type != "password" else ""
    return (f'<div class="govuk-form-group{group}"><label class="govuk-label govuk-label--s" for="{name}">'
            f'{escape(label)}</label><div id="{name}-hint" class="govuk-hint">{escape(hint)}</div>{message}'
            f'<input class="{classes}" id="{name}" name="{name}" type="{input_type}"{shown} autocomplete="off" '
            f'spellcheck="false" aria-describedby="{described}"></div>')
