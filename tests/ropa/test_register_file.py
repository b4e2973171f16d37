"""Register files: validation names the problem, loading is all-or-nothing and idempotent."""


import pytest
from django.core.management import CommandError, call_command

from processing.models import Controller, ProcessingActivity, Purpose
from retention.models import RetentionRule
from ropa.register.importer import RegisterFileError, load, parse
from tests.support.register_file import GOOD

pytestmark = pytest.mark.django_db

def test_load_creates_the_register_then_is_a_no_op(write):
    path = write(GOOD)
    first = load(path)
    assert first.changed
    activity = ProcessingActivity.objects.get(reference="AC-01")
    assert activity.recipients.get().inside_eea is False
    assert activity.retention_rules.get().sentence("en") == "Deleted 10 years after the end of the contract."
    assert activity.sources.get().quote == "Wij verwerken uw gegevens om het contract uit te voeren."
    history_rows = activity.history.count()

    second = load(path)
    assert not second.changed
    assert "unchanged" in str(second)
    assert activity.history.count() == history_rows


def test_load_updates_in_place_keeping_ids(write):
    load(write(GOOD))
    rule_id = RetentionRule.objects.get().pk
    report = load(write(GOOD.replace("value: 10", "value: 12")))
    assert report.updated == {"retention rules": 1}
    assert RetentionRule.objects.get().pk == rule_id
    assert RetentionRule.objects.get().duration_value == 12


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("legal_basis: contract", "legal_basis: hunch"), "activities[0] (AC-01) > purposes[0].legal_basis"),
        (("legal_basis: contract", "legal_basis: legitimate_interests"), "purposes[0].legitimate_interest"),
        (("safeguard: scc", "safeguard: null"), "recipients[0] (cloud).safeguard"),
        (("data_categories: [identification]", "data_categories: [identification, health]"), "art9_condition"),
        (("trigger: contract_end", "trigger: someday"), "retention[0].trigger"),
        (("recipients: [cloud]", "recipients: [nobody]"), "no recipient “nobody”"),
        (("data_subject_categories: [customers]", "data_subject_categories: [aliens]"), "unknown code “aliens”"),
        (("om het contract uit te voeren", "om het contract te breken"), "not found verbatim in acme.txt"),
        (("BE0653.989.638", "BE0653.989.639"), "enterprise_number"),
        (
            ("country: BE\n", "country: BE\n    dpo: {name: An Peeters}\n    dpo_not_required: Not needed.\n"),
            "controllers[0] (acme).dpo_not_required: A DPO is named",
        ),
        (("name_en: Customer management", "name_english: Customer management"), "name_english: unknown field"),
        (("value: 10", "value: ten"), "duration.value"),
    ],
)
def test_bad_file_is_refused_naming_entry_and_field_and_loads_nothing(write, change, message):
    path = write(GOOD.replace(*change))
    with pytest.raises(RegisterFileError) as excinfo:
        load(path)
    assert excinfo.value.filename == "acme.yaml"
    assert any(message in problem for problem in excinfo.value.problems), excinfo.value.problems
    assert not Controller.objects.exists()
    assert not Purpose.objects.exists()


def test_bad_edit_leaves_the_loaded_register_untouched(write):
    load(write(GOOD))
    with pytest.raises(RegisterFileError):
        load(write(GOOD.replace("value: 10", "value: 12").replace("legal_basis: contract", "legal_basis: hunch")))
    assert RetentionRule.objects.get().duration_value == 10


@pytest.mark.parametrize("text", ["", "[1, 2]", "format: ropa-file/1\ncontrollers: {", "format: other/9"])
def test_malformed_files_get_a_clear_error(write, text):
    with pytest.raises(RegisterFileError) as excinfo:
        parse(write(text))
    assert excinfo.value.problems


def test_import_register_command_reports_problems(write):
    path = write(GOOD.replace("legal_basis: contract", "legal_basis: hunch"))
    with pytest.raises(CommandError) as excinfo:
        call_command("import_register", str(path))
    assert "acme.yaml: refused, nothing was loaded" in str(excinfo.value)
    assert '"hunch" is not a valid choice' in str(excinfo.value)


def test_import_register_dry_run_stores_nothing(write, capsys):
    call_command("import_register", str(write(GOOD)), "--dry-run")
    assert "[dry run] acme.yaml: new:" in capsys.readouterr().out
    assert not Controller.objects.exists()


def test_a_file_without_vocabulary_uses_the_register_s_and_loads(write):
    """The vocabulary section is optional: a file may name codes the register already has."""
    load(write(GOOD))
    without = GOOD.replace(GOOD[GOOD.index("vocabulary:") : GOOD.index("controllers:")], "")
    load(write(without, "acme-again.yaml"))
    assert ProcessingActivity.objects.filter(reference="AC-01").count() == 1


def test_a_file_without_vocabulary_naming_an_unknown_code_is_refused(write):
    without = GOOD.replace(GOOD[GOOD.index("vocabulary:") : GOOD.index("controllers:")], "")
    with pytest.raises(RegisterFileError, match="identification"):
        load(write(without))
    assert not Controller.objects.exists()
