"""Every payments and invoices event type on the wire has a posting rule (a posting or a note), so the
payments service cannot emit anything the ledger would refuse as NO_POSTING_RULE."""
from __future__ import annotations

import pytest
from careschemas.registry import MODELS, family, kind

from ledger.domain.rules import RULES

PAYMENT_EVENTS = sorted(t for t in MODELS if family(t) in ("payments", "invoices") and kind(t) == "event")


def test_there_are_payment_events_to_check():
    assert len(PAYMENT_EVENTS) >= 20


@pytest.mark.parametrize("type_name", PAYMENT_EVENTS)
def test_every_payment_and_invoice_event_has_a_posting_rule(type_name):
    assert type_name in RULES
