"""journal_copy: COPY text data only when no value needs escaping or quoting, else None (pure)."""
from datetime import date

import pytest
from ledger.adapters.journal_copy import text_data


def row(**changes):
    base = dict(entry_id="t.payments.events.v1:2:7", shard="t.payments.events.v1:2", shard_seq=7, council_id="E1",
                effective_date=date(2026, 9, 7), recorded_at="2027-04-09T12:05:00.004941+00:00",
                cause_event_id="ev-1", cause_type="payments.PaymentInstructed.v1", rule_version="2026.1",
                reverses_entry_id=None, accounts=["E1/committed/PB-1", "E1/pending/PB-1"], debits=[10000, 0],
                credits=[0, 10000], prev_hash="a" * 64, hash="b" * 64, cause_subject="PB-1",
                correlation_id="corr-1")
    base.update(changes)
    return tuple(base.values())


def test_plain_rows_become_one_text_line_each():
    data = text_data([row(), row(reverses_entry_id="x:1", shard_seq=8, debits=[-5, 2**62], credits=[0, 0])])
    assert data == (
        b"t.payments.events.v1:2:7\tt.payments.events.v1:2\t7\tE1\t2026-09-07\t2027-04-09T12:05:00.004941+00:00\t"
        b"ev-1\tpayments.PaymentInstructed.v1\t2026.1\t\\N\t{E1/committed/PB-1,E1/pending/PB-1}\t{10000,0}\t"
        b"{0,10000}\t" + b"a" * 64 + b"\t" + b"b" * 64 + b"\tPB-1\tcorr-1\n"
        b"t.payments.events.v1:2:7\tt.payments.events.v1:2\t8\tE1\t2026-09-07\t2027-04-09T12:05:00.004941+00:00\t"
        b"ev-1\tpayments.PaymentInstructed.v1\t2026.1\tx:1\t{E1/committed/PB-1,E1/pending/PB-1}\t{-5,4611686018427387904}\t"
        b"{0,0}\t" + b"a" * 64 + b"\t" + b"b" * 64 + b"\tPB-1\tcorr-1\n")


@pytest.mark.parametrize("changes", [
    {"cause_event_id": "a\\b"}, {"cause_event_id": "a\tb"}, {"cause_event_id": "a\nb"}, {"cause_event_id": "a\rb"},
    {"reverses_entry_id": "\\N"}, {"rule_version": "\\N"}, {"accounts": ["E1/a", "E1/\"b\""]},
    {"accounts": ["E1/a,b", "E1/c"]}, {"accounts": ["NULL", "E1/c"]}, {"accounts": ["null", "E1/c"]},
    {"accounts": ["E1/a b", "E1/c"]}, {"accounts": ["E1/a\x0bb", "E1/c"]}, {"accounts": ["E1/a\x0cb", "E1/c"]},
    {"accounts": ["E1/a", "E1/b\\"]}, {"accounts": ["E1/a}", "E1/c"]}, {"accounts": ["E1/a", "E1/b,c"]},
    {"accounts": ["", "E1/c"]}, {"accounts": ["E1/{a}", "E1/c"]}, {"accounts": [], "debits": [], "credits": []},
    {"accounts": ["E1/a"], "debits": [1, 2], "credits": [0, 0]}, {"prev_hash": "a" * 63 + "\\"},
    {"cause_subject": "PB\t1"}, {"cause_subject": None}, {"reverses_entry_id": 7},
    {"correlation_id": None}, {"correlation_id": "\\N"}, {"cause_subject": 7},
])
def test_any_value_that_would_need_escaping_sends_the_batch_the_binary_way(changes):
    assert text_data([row(), row(**changes)]) is None


@pytest.mark.parametrize("changes", [{"cause_event_id": "a b"}, {"cause_event_id": "a\x0bb"}, {"cause_subject": "PB 1"},
                                     {"cause_subject": 'say "hi"'}, {"rule_version": "£ ünïcödé"},
                                     {"cause_event_id": "a,b"}, {"cause_event_id": "{a}"}, {"cause_subject": "a,b"}])
def test_a_scalar_value_that_copy_text_reads_as_it_is_stays_on_the_text_path(changes):
    """Outside the arrays, COPY text reads only backslashes, tabs, newlines and carriage returns specially
    (tests/integration/test_ledger_journal_copy.py stores such values and reads them back)."""
    data = text_data([row(), row(**changes)])
    assert data is not None and str(next(iter(changes.values()))).encode() in data


def test_a_null_marker_among_other_nulls_is_still_caught():
    # three rows, two of them NULL markers, one value spelled like the marker: not plain
    assert text_data([row(), row(), row(reverses_entry_id="\\N")]) is None
    assert text_data([row(), row()]) is not None


# -- scalar_text_data: the unescaped fast path must give exactly the escaped text -------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from ledger.adapters.journal_copy import _scalar, scalar_text_data  # noqa: E402

_values = st.one_of(st.none(), st.integers(min_value=-2**63, max_value=2**63 - 1),
                    st.text(alphabet=st.sampled_from("ab \\\t\n\r\x0bN,{}\"£"), max_size=6))


def _escaped(rows):
    return "".join(["\t".join([_scalar(v) for v in row]) + "\n" for row in rows]).encode()


@given(st.lists(st.tuples(_values, _values, _values), max_size=6))
def test_scalar_text_is_the_escaped_text_whatever_the_values(rows):
    assert scalar_text_data(rows) == _escaped(rows)


def test_scalar_text_of_plain_rows_and_of_rows_that_need_escaping():
    plain = [("ev-1", 7, None, "posted"), ("ev-2", 8, "x", None)]
    assert scalar_text_data(plain) == b"ev-1\t7\t\\N\tposted\nev-2\t8\tx\t\\N\n"
    # one backslash and one NULL: as many backslashes as markers, but the value's must still be escaped
    assert scalar_text_data([("a\\b", None)]) == b"a\\\\b\t\\N\n"
    assert scalar_text_data([("tab\there", 1), ("cr\r", 2)]) == b"tab\\there\t1\ncr\\r\t2\n"
    assert scalar_text_data([]) == b""


async def test_rendering_in_slices_gives_the_text_of_the_whole_batch():
    from ledger.adapters import repository, snapshot

    rows = [row(shard_seq=n, entry_id=f"t.payments.events.v1:2:{n}") for n in range(1, 2 * repository.RENDER_SLICE + 8)]
    rendered = await repository.render(snapshot.BatchRows(journal=rows))
    assert rendered.journal_text == text_data(rows) and rendered.journal == []


async def test_one_row_needing_escapes_in_a_later_slice_sends_the_whole_batch_the_binary_way():
    from ledger.adapters import repository, snapshot

    rows = [row(shard_seq=n) for n in range(1, repository.RENDER_SLICE + 8)]
    rows[-1] = row(cause_event_id="a\\b")
    rendered = await repository.render(snapshot.BatchRows(journal=rows))
    assert rendered.journal_text is None and rendered.journal == rows
