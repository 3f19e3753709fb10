"""Generated files: committed copies are current, deterministic, and the JSON Schemas agree with the models."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from careschemas import catalogue, export
from careschemas.examples import example_envelope, example_payload
from careschemas.registry import MODELS

from schemas_testkit import REPO_ROOT, data

GENERATED = export.generate(REPO_ROOT)


def test_committed_files_are_current():
    stale = export.stale(REPO_ROOT, GENERATED)
    assert not stale, f"stale generated files {stale}: run .venv/bin/python -m careschemas.export"


def test_generation_is_deterministic_and_ends_with_a_newline():
    again = export.generate(REPO_ROOT)
    assert again == GENERATED
    for path, text in GENERATED.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        if path.suffix == ".json":
            assert export.dumps(json.loads(text)) == text, path  # sorted keys, one spelling


def test_one_schema_file_per_type_plus_the_envelope():
    names = {p.name for p in GENERATED if p.parent == export.JSON_DIR}
    assert names == {f"{t}.json" for t in MODELS} | {"envelope.json"}


def test_check_names_stale_files_and_exits_1(monkeypatch, capsys):
    assert export.main(["--check"]) == 0
    target = export.JSON_DIR / "allocation.PersonDied.v1.json"
    doctored = {**GENERATED, target: GENERATED[target].replace("date_of_death", "date_of_passing")}
    monkeypatch.setattr(export, "generate", lambda root=REPO_ROOT: doctored)
    assert export.main(["--check"]) == 1
    assert str(target) in capsys.readouterr().err


def test_docs_have_one_generated_section_listing_every_type():
    docs = GENERATED[export.DOCS_FILE]
    assert docs.count(catalogue.BEGIN) == 1 and docs.count(catalogue.END) == 1
    assert docs.startswith("# Event catalogue")
    for name in MODELS:
        assert f"### {name}\n" in docs
    for code in ("MALFORMED_JSON", "INVALID_ENVELOPE", "UNKNOWN_TYPE", "INVALID_PAYLOAD", "DUPLICATE_CONFLICT",
                 "INSUFFICIENT_BUDGET", "UNKNOWN_BUDGET", "UNKNOWN_PAYMENT", "PAYMENT_NOT_PENDING", "BUDGET_CLOSED",
                 "AMOUNT_MISMATCH", "SPLIT_EXCEEDS_BUDGET"):
        assert f"`{code}`" in docs
    assert catalogue.splice(docs) == docs  # splicing is idempotent


def _validator(path: Path) -> Draft202012Validator:
    schema = json.loads(GENERATED[path])
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_json_schema_accepts_the_example(name):
    _validator(export.JSON_DIR / f"{name}.json").validate(example_payload(name))


def test_envelope_schema_accepts_every_example():
    validator = _validator(export.JSON_DIR / "envelope.json")
    for name in MODELS:
        validator.validate(example_envelope(name))


@pytest.mark.parametrize("name,changes", [
    ("allocation.PersonalBudgetAgreed.v1", {"amount_pence": -1}),
    ("allocation.PersonalBudgetAgreed.v1", {"amount_pence": "12"}),
    ("allocation.PersonalBudgetAgreed.v1", {"amount_pence": 12.5}),
    ("allocation.PersonalBudgetAgreed.v1", {"surname": "Smith"}),
    ("allocation.PersonalBudgetAgreed.v1", {"start_date": "01/04/2025"}),
    ("allocation.ProviderRegistered.v1", {"provider_type": "plc"}),
    ("invoices.InvoiceReceived.v1", {"lines": []}),
    ("payments.PaymentInstructed.v1", {"kind": "invoice", "budget_id": None, "provider_id": None}),
    ("payments.PaymentInstructed.v1", {"kind": "direct_payment", "budget_id": None}),
    ("ledger.EntryPosted.v1", {"lines": [{"account": "C/bank", "debit_pence": 5, "credit_pence": 5},
                                         {"account": "C/x", "debit_pence": 0, "credit_pence": 0}]}),
])
def test_json_schema_and_model_refuse_the_same_mistakes(name, changes):
    bad = data(name, **changes)
    with pytest.raises(SchemaError):
        _validator(export.JSON_DIR / f"{name}.json").validate(bad)
    with pytest.raises(ValueError):
        MODELS[name].model_validate(bad)
