"""The auditor-facing posting-rule table in docs/ must be what the code does."""
from pathlib import Path

from ledger.domain.rules import RULES, TABLE
from ledger.service.rules_doc import render

DOC = Path(__file__).resolve().parents[3] / "docs" / "posting-rules.md"


def test_posting_rules_doc_is_current():
    assert DOC.read_text() == render(), "run: python -m ledger rules > docs/posting-rules.md"


def test_each_event_type_has_exactly_one_rule():
    assert len(RULES) == len(TABLE)


def test_every_event_on_the_ledgers_input_topics_has_a_rule():
    from careschemas.registry import EVENT_TYPES
    from careschemas.topics import topic_for

    inputs = {t for t in EVENT_TYPES if topic_for(t) in ("allocation.events.v1", "payments.events.v1")}
    assert inputs - set(RULES) == set(), "events the ledger would refuse as NO_POSTING_RULE"


def test_the_event_catalogue_lists_exactly_the_ledgers_reason_codes():
    from careschemas.reasons import POSTING_REJECTION_REASONS

    from ledger.domain import reasons

    assert sorted(POSTING_REJECTION_REASONS) == reasons.ALL
