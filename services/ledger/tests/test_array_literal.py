"""array_literal: PostgreSQL array literals for one text parameter (pure; the round trip is in
tests/integration/test_ledger_array_literal.py)."""
from ledger.adapters.array_literal import int_array, text_array


def test_every_text_element_is_quoted_and_escaped():
    assert text_array(["E1/budget/PB-1", None, "", 'say "hi"', "back\\slash", "a,b {c}"]) == (
        '{"E1/budget/PB-1",NULL,"","say \\"hi\\"","back\\\\slash","a,b {c}"}')
    assert text_array([]) == "{}"


def test_integers_are_written_as_they_are():
    assert int_array([0, -5, 2**62]) == "{0,-5,4611686018427387904}"
    assert int_array([]) == "{}"
