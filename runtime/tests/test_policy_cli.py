"""careruntime.policy_cli: KEY=JSON parsing (no I/O)."""
import pytest

from careruntime.policy_cli import parse_assignments


def test_values_are_json_or_bare_words():
    assert parse_assignments(['payment_frequency_weeks=2', 'modes=["netted"]', "contribution_mode=gross"]) == {
        "payment_frequency_weeks": 2, "modes": ["netted"], "contribution_mode": "gross"}


@pytest.mark.parametrize("text", ["no_equals_sign", "=4"])
def test_a_setting_without_a_key_is_refused_with_the_services_error(text):
    class PolicyError(ValueError):
        pass

    with pytest.raises(PolicyError, match="expected KEY=JSON"):
        parse_assignments([text], PolicyError)
