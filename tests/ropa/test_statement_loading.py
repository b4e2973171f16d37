"""Loading a register file never overwrites what was changed in the register since it was loaded.

Given the statements loaded, when the DPO changes an entry (in the admin or over the API) and the files
are loaded again, then the entry stays as the DPO left it, whole, and the output names it and the fields
that differ; ``--force`` takes the file's values. An entry nobody touched still follows a new version of
its file. ``--if-empty`` (what ``./dev run`` seeds with) loads nothing into a register that has entries.
"""

import shlex
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from processing.models import Controller, DataCategory, LoadedEntry, ProcessingActivity, Recipient
from retention.models import RetentionRule
from ropa.api.services import api_token_issue
from ropa.register.importer import load
from tests.support.api import Api

pytestmark = pytest.mark.django_db

DPO_EMAIL = "privacy@voiceking.example"
OWNER = "Team Klantendienst"
NOTE = "Nagekeken door de DPO."
ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def form_data(response) -> dict:
    """The admin change form as a browser sends it back unchanged: every field with its current value."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, list | tuple):
                value = [str(v) for v in value]
            data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms = [form for form in formset.forms if form.instance.pk]
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = formset.management_form[name].value()
        data[formset.management_form.add_prefix("TOTAL_FORMS")] = str(len(forms))
        for form in forms:
            add(form)
    return data


def admin_edit(client, instance, **changes) -> None:
    """Open ``instance``'s admin page, change some fields, save; ``changes`` keys are form field names."""
    url = reverse(f"admin:{instance._meta.app_label}_{instance._meta.model_name}_change", args=[instance.pk])
    data = form_data(client.get(url))
    data.update(changes)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response


@pytest.fixture
def voiceking():
    run("load_statements", "voiceking")
    controller = Controller.objects.get(key="voiceking")
    activity = ProcessingActivity.objects.filter(controller=controller, retention_rules__isnull=False).first()
    return controller, activity, activity.retention_rules.order_by("position", "id").first()


def snapshot(controller, activity, rule) -> tuple:
    controller.refresh_from_db()
    activity.refresh_from_db()
    rule.refresh_from_db()
    return controller.dpo_name, controller.dpo_email, activity.owner, rule.note


def test_reload_keeps_what_the_dpo_changed_in_the_admin_and_lists_it(dpo_client, voiceking):
    controller, activity, rule = voiceking
    loaded = snapshot(controller, activity, rule)
    admin_edit(dpo_client, controller, dpo_name="An Peeters", dpo_email=DPO_EMAIL)
    admin_edit(dpo_client, activity, owner=OWNER)
    admin_edit(dpo_client, rule, note=NOTE)
    assert snapshot(controller, activity, rule) == ("An Peeters", DPO_EMAIL, OWNER, NOTE)
    history = (controller.history.count(), activity.history.count(), rule.history.count())

    out = run("load_statements", "voiceking")

    assert snapshot(controller, activity, rule) == ("An Peeters", DPO_EMAIL, OWNER, NOTE)
    assert (controller.history.count(), activity.history.count(), rule.history.count()) == history
    assert "voiceking.yaml: kept controllers voiceking: changed in the register" in out
    assert "differs in dpo_email, dpo_name" in out
    activity_line = next(line for line in out.splitlines() if f"activities voiceking/{activity.reference}:" in line)
    assert "owner" in activity_line
    assert f"retention_rules[{rule.position}].note" in activity_line
    # Field names only: no value the DPO entered is echoed.
    assert DPO_EMAIL not in out and OWNER not in out and NOTE not in out
    assert "--force" in out

    out = run("load_statements", "voiceking", "--force")
    assert snapshot(controller, activity, rule) == loaded
    assert "kept" not in out
    assert "updated:" in out
    assert "nothing changed" in run("load_statements", "voiceking")


def test_reload_keeps_what_was_changed_over_the_api(voiceking):
    controller, activity, rule = voiceking
    api = Api(api_token_issue(role="dpo", name="dpo test")[1])
    assert api.patch(f"controllers/{controller.pk}/", {"dpo_email": DPO_EMAIL}).status_code == 200
    assert api.patch(f"processing-activities/{activity.pk}/", {"owner": OWNER}).status_code == 200
    rows = api.get(f"processing-activities/{activity.pk}/").json()["retention_rules"]
    rows = [{**row, "note": NOTE} if row["id"] == rule.pk else row for row in rows]
    response = api.patch(f"processing-activities/{activity.pk}/", {"retention_rules": rows})
    assert response.status_code == 200, response.json()
    before = snapshot(controller, activity, rule)
    assert before[1:] == (DPO_EMAIL, OWNER, NOTE)

    out = run("load_statements", "voiceking")

    assert snapshot(controller, activity, rule) == before
    assert "controllers voiceking: changed in the register since it was loaded; differs in dpo_email" in out
    assert f"activities voiceking/{activity.reference}: changed in the register" in out


def test_a_dpo_change_to_one_part_keeps_the_whole_activity(dpo_client, voiceking):
    _, activity, _ = voiceking
    purpose = activity.purposes.order_by("position", "id").first()
    url = reverse("admin:processing_processingactivity_change", args=[activity.pk])
    data = form_data(dpo_client.get(url))
    prefix = next(k for k, v in data.items() if k.endswith("-id") and str(v) == str(purpose.pk)).removesuffix("-id")
    data[f"{prefix}-description"] = "Door de DPO herschreven doel"
    assert dpo_client.post(url, data).status_code == 302
    owner = activity.owner

    out = run("load_statements", "voiceking")

    purpose.refresh_from_db()
    assert purpose.description == "Door de DPO herschreven doel"
    activity.refresh_from_db()
    assert activity.owner == owner
    assert f"purposes[{purpose.position}].description" in out


def seeding_arguments(name: str) -> list[str]:
    """The arguments ``./dev run`` (or docker compose's web service) gives ``load_statements``."""
    line = next(line for line in (ROOT / name).read_text().splitlines() if "load_statements" in line)
    return shlex.split(line.split("load_statements", 1)[1].split("#")[0].split("&&")[0])


@pytest.mark.parametrize("name", ["dev", "docker-compose.yml"])
def test_seeding_at_start_loads_nothing_into_a_register_with_entries(dpo_client, voiceking, name):
    _, activity, _ = voiceking
    admin_edit(dpo_client, activity, owner=OWNER)
    rows = LoadedEntry.objects.count()
    arguments = seeding_arguments(name)
    assert arguments == ["--if-empty"]

    out = run("load_statements", *arguments)

    assert "not loaded" in out
    assert list(Controller.objects.values_list("key", flat=True)) == ["voiceking"]
    assert LoadedEntry.objects.count() == rows
    activity.refresh_from_db()
    assert activity.owner == OWNER


def test_if_empty_loads_an_empty_register():
    out = run("load_statements", "--if-empty")
    assert "new:" in out
    assert Controller.objects.count() == 6
    assert "not loaded" in run("load_statements", "--if-empty")


# --- A file of one's own, loaded with import_register: the same rule. ---------------------------------

FILE = """
format: ropa-file/1
vocabulary:
  data_subject_categories: [{code: customers, name: Klanten}]
  data_categories: [{code: identification, name: Identificatiegegevens}]
controllers:
  - key: acme
    name: Acme NV
    dpo: {name: Jan Janssens, email: dpo@acme.example}
    recipients:
      - {key: cloud, name: Cloud Inc, kind: processor, country: BE}
    activities:
      - reference: AC-01
        name: Klantenbeheer
        owner: Sales
        purposes:
          - {description: Uitvoering van het contract, legal_basis: contract}
        data_subject_categories: [customers]
        data_categories: [identification]
        recipients: [cloud]
        retention:
          - {duration: {value: 10, unit: years}, trigger: contract_end, action: delete, note: Tien jaar}
      - reference: AC-02
        name: Nieuwsbrief
        purposes:
          - {description: Nieuwsbrief, legal_basis: consent}
        retention:
          - {duration: {value: 2, unit: years}, trigger: consent_withdrawn, action: delete}
"""


@pytest.fixture
def write(tmp_path):
    def _write(text: str):
        path = tmp_path / "acme.yaml"
        path.write_text(textwrap.dedent(text))
        return path

    return _write


def test_a_new_file_version_updates_entries_nobody_touched(write):
    run("import_register", str(write(FILE)))
    ProcessingActivity.objects.filter(reference="AC-02").update(owner="Marketing")  # by hand, outside the loader

    out = run("import_register", str(write(FILE.replace("value: 10", "value: 12").replace("value: 2,", "value: 3,"))))

    assert RetentionRule.objects.get(activity__reference="AC-01").duration_value == 12
    # AC-02 was changed in the register: kept whole, its rule too, and listed as a conflict.
    assert RetentionRule.objects.get(activity__reference="AC-02").duration_value == 2
    assert "activities acme/AC-02: changed in the register since it was loaded, and in the file (conflict)" in out
    assert "differs in owner, retention_rules[0].duration_value" in out
    assert "AC-01" not in out

    out = run(
        "import_register",
        str(write(FILE.replace("value: 10", "value: 12").replace("value: 2,", "value: 3,"))),
        "--force",
    )
    assert RetentionRule.objects.get(activity__reference="AC-02").duration_value == 3
    assert ProcessingActivity.objects.get(reference="AC-02").owner == ""
    assert "kept" not in out


def test_a_change_the_file_then_makes_too_is_no_conflict(write):
    path = write(FILE)
    load(path)
    Controller.objects.filter(key="acme").update(dpo_email="privacy@acme.example")
    assert load(path).kept  # changed in the register: kept
    report = load(write(FILE.replace("dpo@acme.example", "privacy@acme.example")))
    assert not report.kept and not report.changed
    assert load(write(FILE.replace("dpo@acme.example", "dpo-new@acme.example"))).kept == []
    assert Controller.objects.get(key="acme").dpo_email == "dpo-new@acme.example"


def test_an_entry_removed_in_the_register_is_not_recreated(write, dpo_client):
    path = write(FILE)
    load(path)
    recipient = Recipient.objects.get(key="cloud")
    response = dpo_client.post(reverse("admin:processing_recipient_delete", args=[recipient.pk]), {"post": "yes"})
    assert response.status_code == 302

    report = load(path)

    assert not Recipient.objects.filter(key="cloud").exists()
    assert [str(entry) for entry in report.kept] == [
        "recipients acme/cloud: removed or renamed in the register since it was loaded",
        "activities acme/AC-01: changed in the register since it was loaded; differs in recipients",
    ]
    load(path, force=True)
    assert list(ProcessingActivity.objects.get(reference="AC-01").recipients.values_list("key", flat=True)) == ["cloud"]


def test_a_register_loaded_before_digests_were_kept_goes_by_the_history(write, dpo_client):
    load(write(FILE))
    admin_edit(dpo_client, Controller.objects.get(key="acme"), dpo_name="Els Peeters")
    LoadedEntry.objects.all().delete()  # as a register loaded by an earlier version of the loader

    report = load(write(FILE.replace("Jan Janssens", "Jan Janssens-Peeters").replace("owner: Sales", "owner: Verkoop")))

    assert Controller.objects.get(key="acme").dpo_name == "Els Peeters"
    assert [str(entry) for entry in report.kept] == [
        "controllers acme: changed in the register since it was loaded, and in the file (conflict); differs in dpo_name"
    ]
    assert ProcessingActivity.objects.get(reference="AC-01").owner == "Verkoop"  # only the loader wrote it


def test_saving_an_admin_page_unchanged_is_no_change(write, dpo_client):
    load(write(FILE))
    activity = ProcessingActivity.objects.get(reference="AC-01")
    for instance in (Controller.objects.get(key="acme"), activity, activity.retention_rules.get()):
        admin_edit(dpo_client, instance)

    report = load(write(FILE.replace("value: 10", "value: 12").replace("Jan Janssens", "Jan Peeters")))

    assert report.kept == []
    assert report.updated == {"controllers": 1, "retention rules": 1}
    assert RetentionRule.objects.get(activity=activity).duration_value == 12


def test_vocabulary_and_recipients_changed_in_the_register_are_kept(write, dpo_client):
    path = write(FILE)
    load(path)
    admin_edit(dpo_client, DataCategory.objects.get(code="identification"), name="Identiteitsgegevens")
    api = Api(api_token_issue(role="dpo", name="dpo test")[1])
    recipient = Recipient.objects.get(key="cloud")
    response = api.patch(f"recipients/{recipient.pk}/", {"safeguard_note": "Contract nagekeken"})
    assert response.status_code == 200, response.json()

    report = load(write(FILE.replace("name: Identificatiegegevens", "name: Identificatie")))

    assert DataCategory.objects.get(code="identification").name == "Identiteitsgegevens"
    recipient.refresh_from_db()
    assert recipient.safeguard_note == "Contract nagekeken"
    assert sorted(str(entry) for entry in report.kept) == [
        "data categories identification: changed in the register since it was loaded, and in the file (conflict);"
        " differs in name",
        "recipients acme/cloud: changed in the register since it was loaded; differs in safeguard_note",
    ]
    load(path, force=True)  # the file as last written
    assert DataCategory.objects.get(code="identification").name == "Identificatie"


def test_every_loaded_entry_has_its_english_and_french():
    """After the five statements load, every name and description the register shows has an English and a
    French counterpart: a new entry without its translations fails here."""
    from processing.models import DataSubjectCategory, Purpose, SecurityMeasure

    run("load_statements")
    assert ProcessingActivity.objects.count() and Recipient.objects.count()
    missing = []

    def check(kind, obj, *fields):
        for field in fields:
            if not (getattr(obj, field) or "").strip():
                continue  # nothing to translate
            for language in ("en", "fr"):
                if not (getattr(obj, f"{field}_{language}") or "").strip():
                    missing.append(f"{kind} {obj.pk} ({obj}): {field}_{language}")

    for activity in ProcessingActivity.objects.all():
        check("activity", activity, "name", "description")
    for purpose in Purpose.objects.all():
        check("purpose", purpose, "description")
    for recipient in Recipient.objects.all():
        check("recipient", recipient, "name", "description")
    for model in (DataCategory, DataSubjectCategory, SecurityMeasure):
        for entry in model.objects.all():
            check(model.__name__, entry, "name")
    assert Purpose.objects.count() >= 100
    assert not missing, "\n".join(missing)
