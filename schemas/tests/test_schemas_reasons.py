"""Every reason code the contracts document has a meaning and an example, and docs/events.md shows
both: a code added to a table without an example, or an example for a code that does not exist,
fails here (and `python -m careschemas.export --check` fails while docs/events.md is stale)."""
import pytest

from careschemas import reasons
from careschemas.catalogue import render

TABLES = {
    "dlq": (reasons.DLQ_REASONS, reasons.DLQ_EXAMPLES),
    "allocation": (reasons.ALLOCATION_REJECTION_REASONS, reasons.ALLOCATION_REJECTION_EXAMPLES),
    "ledger": (reasons.POSTING_REJECTION_REASONS, reasons.POSTING_REJECTION_EXAMPLES),
    "invoice holds": (reasons.INVOICE_HOLD_REASONS, reasons.INVOICE_HOLD_EXAMPLES),
}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_code_has_a_meaning_and_an_example(table):
    meanings, examples = TABLES[table]
    assert set(examples) == set(meanings)
    assert all(text.strip() for text in [*meanings.values(), *examples.values()])


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_catalogue_shows_each_code_with_its_example(table):
    text = render()
    meanings, examples = TABLES[table]
    for code in meanings:
        assert any(line.startswith(f"| `{code}` |") and examples[code].split("`")[0][:20] in line
                   for line in text.splitlines()), code
