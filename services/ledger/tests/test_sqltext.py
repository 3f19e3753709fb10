"""sqltext: values written into SQL text as literals (pure; PostgreSQL reads them back in
tests/integration/test_ledger_array_literal.py)."""
import pytest
from ledger.adapters.sqltext import bind, literal


def test_strings_become_escape_string_constants_with_backslash_and_quote_doubled():
    assert literal("plain") == "E'plain'"
    assert literal("") == "E''"
    assert literal("it's") == "E'it''s'"
    assert literal("back\\slash") == "E'back\\\\slash'"
    assert literal("\\'") == "E'\\\\'''"


def test_integers_and_none_are_written_as_they_are():
    assert literal(42) == "42" and literal(-7) == "-7" and literal(2**63) == str(2**63)
    assert literal(None) == "NULL"


@pytest.mark.parametrize("value", [True, 1.5, b"bytes", ["list"]])
def test_other_types_are_refused_not_guessed(value):
    with pytest.raises(TypeError):
        literal(value)


def test_a_nul_character_is_refused():
    with pytest.raises(ValueError, match="NUL"):
        literal("a\x00b")


def test_bind_replaces_every_placeholder_in_one_pass():
    # the first value's text contains "$2": it must stay as it is, not be bound again
    assert bind("SELECT $1, $2, $1", ("costs $2", 5)) == "SELECT E'costs $2', 5, E'costs $2'"
    ten = ", ".join(f"${n}" for n in range(10, 0, -1))  # $10 is not $1 followed by a 0
    assert bind(ten, tuple(range(1, 11))) == "10, 9, 8, 7, 6, 5, 4, 3, 2, 1"


def test_bind_refuses_a_missing_or_an_unused_value():
    with pytest.raises(IndexError):
        bind("SELECT $1, $2", ("only one",))
    with pytest.raises(ValueError):
        bind("SELECT $1", ("one", "two"))
