"""A retention rule can be a maximum ("at most N"): editable in the admin, the API and a register file,
never together with a statutory minimum, and what it caps moves the records' expiry at once."""

import datetime as dt
import textwrap

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from processing.models import ProcessingActivity
from retention.models import RetentionRule
from ropa.register.importer import RegisterFileError, load
from subjects.models import PersonalDataRecord
from tests.factories import ControllerFactory, RetentionRuleFactory
from tests.support.api import ApiWorld
from tests.support.forms import activity_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return ApiWorld()


def test_the_api_reads_and_writes_a_maximum_and_the_expiry_follows(world):
    response = world.api("system_a").post("records/", world.record(collected_on="2024-01-15"))
    record = PersonalDataRecord.objects.get(pk=response.json()["id"])
    assert record.expires_at is None  # 2 years after the contract, which still runs
    url = f"processing-activities/{world.activity_a.pk}/"
    cap = {"trigger": "collection", "duration": {"value": 1, "unit": "years"}, "action": "delete", "maximum": True}
    response = world.api("dpo").patch(url, {"retention_rules": [{"id": world.rule_a.pk}, cap]})
    assert response.status_code == 200, response.json()
    rules = world.api("dpo").get(url).json()["retention_rules"]
    assert [(r["maximum"], r["text"]) for r in rules] == [
        (False, "Deleted 2 years after the end of the contract."),
        (True, "Deleted at most 1 year after collection."),
    ]
    record.refresh_from_db()
    assert record.expires_at == dt.datetime(2025, 1, 16, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert record.expiry_rule.maximum is True


def test_the_api_refuses_a_rule_both_statutory_and_maximum(world):
    url = f"processing-activities/{world.activity_a.pk}/"
    both = {"trigger": "collection", "duration": {"value": 7, "unit": "years"}, "statutory": True, "maximum": True}
    response = world.api("dpo").patch(url, {"retention_rules": [{"id": world.rule_a.pk}, both]})
    assert response.status_code == 400, response.json()
    assert "maximum" in str(response.json()), response.json()
    assert RetentionRule.objects.filter(activity=world.activity_a).count() == 1


def test_the_database_refuses_a_rule_both_statutory_and_maximum():
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionRuleFactory(statutory=True, maximum=True)


def test_the_admin_edits_a_maximum_and_refuses_one_that_is_also_statutory(dpo_client):
    controller = ControllerFactory()
    url = reverse("admin:processing_processingactivity_add")
    refused = dpo_client.post(
        url, activity_form(controller, **{"retention_rules-0-statutory": "on", "retention_rules-0-maximum": "on"})
    )
    assert refused.status_code == 200
    assert "either a statutory minimum or a maximum" in refused.content.decode()
    assert not ProcessingActivity.objects.exists()
    saved = dpo_client.post(url, activity_form(controller, **{"retention_rules-0-maximum": "on"}))
    assert saved.status_code == 302
    rule = RetentionRule.objects.get()
    assert rule.maximum and rule.sentence("nl") == "Verwijderd maximaal 3 jaar na de laatste activiteit."
    assert b'name="maximum"' in dpo_client.get(reverse("admin:retention_retentionrule_change", args=[rule.pk])).content


FILE = """
format: ropa-file/1
statement: {file: acme.txt, title: Privacyverklaring Acme, date: 2024-03-01}
vocabulary:
  data_subject_categories: [{code: customers, name: Klanten, name_en: Customers}]
  data_categories: [{code: identification, name: Identificatiegegevens, name_en: Identification data}]
controllers:
  - key: acme
    name: Acme NV
    enterprise_number: BE0653.989.638
    country: BE
    sources: ["Acme NV is verantwoordelijk voor de verwerking."]
    activities:
      - reference: AC-01
        name: Klantenbeheer
        purposes: [{description: Uitvoering van het contract, legal_basis: contract}]
        data_subject_categories: [customers]
        data_categories: [identification]
        retention:
          - {trigger: relevance_end, action: flag, sources: ["Wij bewaren uw gegevens niet langer dan nodig."]}
          - {duration: {value: 3, unit: years}, trigger: inactivity, action: delete, MARK
             sources: ["Wij verwijderen ze na maximaal 3 jaar inactiviteit."]}
        sources: ["Acme NV is verantwoordelijk voor de verwerking."]
"""
STATEMENT = (
    "Acme NV is verantwoordelijk voor de verwerking. Wij bewaren uw gegevens niet langer dan nodig. "
    "Wij verwijderen ze na maximaal 3 jaar inactiviteit."
)


@pytest.fixture
def write(tmp_path):
    (tmp_path / "acme.txt").write_text(STATEMENT)

    def _write(mark: str):
        path = tmp_path / "acme.yaml"
        path.write_text(textwrap.dedent(FILE).replace("MARK", mark))
        return path

    return _write


def test_a_register_file_marks_a_maximum_and_defaults_to_none(write):
    load(write("maximum: true,"))
    assert list(RetentionRule.objects.order_by("position").values_list("maximum", flat=True)) == [False, True]
    load(write(""))
    assert list(RetentionRule.objects.order_by("position").values_list("maximum", flat=True)) == [False, False]


def test_a_register_file_refuses_a_rule_both_statutory_and_maximum_naming_file_entry_and_field(write):
    with pytest.raises(RegisterFileError) as excinfo:
        load(write("statutory: true, maximum: true,"))
    assert excinfo.value.filename == "acme.yaml"
    assert any(
        "activities[0] (AC-01) > retention[1].maximum: A rule is either a statutory minimum or a maximum" in problem
        for problem in excinfo.value.problems
    ), excinfo.value.problems
    assert not RetentionRule.objects.exists()


def test_the_admin_the_api_and_a_register_file_refuse_a_rule_in_the_same_words(world, tmp_path):
    """One rule (retention/rules.py) behind the model's clean (the admin's forms), the API and the importer."""
    expected = "A statutory period with no stated length can only flag for review."
    rule = RetentionRule(activity=world.activity_a, trigger="collection", action="delete", statutory=True)
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert refused.value.message_dict["action"] == [expected]

    url = f"processing-activities/{world.activity_a.pk}/"
    unknown_length = {"trigger": "collection", "action": "delete", "statutory": True}
    response = world.api("dpo").patch(url, {"retention_rules": [{"id": world.rule_a.pk}, unknown_length]})
    assert response.status_code == 400 and expected in str(response.json()), response.json()

    (tmp_path / "acme.txt").write_text(STATEMENT)
    path = tmp_path / "acme.yaml"
    bad = "{trigger: relevance_end, action: delete, statutory: true,"
    path.write_text(textwrap.dedent(FILE).replace("{trigger: relevance_end, action: flag,", bad).replace("MARK", ""))
    with pytest.raises(RegisterFileError) as excinfo:
        load(path)
    where = "controllers[0] (acme) > activities[0] (AC-01) > retention[0].action: "
    assert excinfo.value.problems == [where + expected]
    assert RetentionRule.objects.filter(activity=world.activity_a).count() == 1
