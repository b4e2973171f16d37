"""Every CSV the project writes (the register export, the audit trail from the admin and from the command,
the three CSV files of a data-subject package) opens in a spreadsheet as data: a cell that would run as a
formula starts with an apostrophe; numbers and telephone numbers stay as they are."""

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from processing.choices import LegalBasis
from ropa.audit.models import AuditEvent
from ropa.kernel.csv import csv_cell
from tests.factories import ControllerFactory, ProcessingActivityFactory, PurposeFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1+1",
    "-1+1",
    "-cmd",
    "\t=1+1",
    "\rcmd",
    "  =1+1",
    "\n@SUM(1)",
    "\uff1dSUM(1)",  # a full-width equals sign
]
HARMLESS = ["+32 2 000 00 00", "-5", "-(1.5)", "plain text", "a=b", "x@example.org"]


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_defused(all_cells: list[str], values: list[str]) -> None:
    for value in HOSTILE:
        if value in values:
            assert "'" + value in all_cells, (value, [c for c in all_cells if value.strip() in c])
            assert value not in all_cells, value
    for value in HARMLESS:
        if value in values:
            assert value in all_cells, value


ROOT = Path(__file__).resolve().parents[2]


def test_the_project_writes_csv_only_through_the_defusing_writer():
    writers = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    found = [
        str(path.relative_to(ROOT))
        for app in ("ropa", "processing", "retention", "subjects")
        for path in (ROOT / app).rglob("*.py")
        if writers.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["ropa/kernel/csv.py"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(value):
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_numbers_phone_numbers_and_text_stay_as_they_are(value):
    assert csv_cell(value) == value


def test_the_register_csv_defuses_every_cell(world):
    for i, value in enumerate(HOSTILE + HARMLESS):
        activity = ProcessingActivityFactory(controller=world.a, reference=f"X-{i}", name_en=value)
        PurposeFactory(activity=activity, description_en=value)
    response = world.api("dpo").get("register/export/?format=csv&controller=acme")
    assert response.status_code == 200, response.content[:300]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert_defused(cells(text), HOSTILE + HARMLESS)


def test_the_audit_trail_csv_defuses_every_cell_from_the_admin_and_the_command(dpo_client, tmp_path):
    for value in HOSTILE + HARMLESS:
        ControllerFactory(name=value)
    assert {e.object_repr for e in AuditEvent.objects.all()} >= set(HOSTILE)
    url = reverse("admin:audit_auditevent_changelist")
    ids = [str(pk) for pk in AuditEvent.objects.values_list("pk", flat=True)]
    response = dpo_client.post(url, {"action": "export_csv", "_selected_action": ids})
    assert response["Content-Type"].startswith("text/csv")
    assert_defused(cells(response.content.decode()), HOSTILE + HARMLESS)

    out = tmp_path / "audit.csv"
    call_command("export_audit", "--since", "2000-01-01", "-o", str(out))
    with out.open(encoding="utf-8", newline="") as file:
        assert_defused(cells(file.read()), HOSTILE + HARMLESS)


def test_the_data_subject_package_csvs_defuse_every_cell(world):
    system, dpo = world.api("system_a"), world.api("dpo")
    world.activity_a.name_en = HOSTILE[0]
    world.activity_a.save()
    purpose = PurposeFactory(activity=world.activity_a, legal_basis=LegalBasis.CONSENT, description_en=HOSTILE[1])
    stored = []  # as stored: the API trims leading and trailing whitespace of some fields
    for i, value in enumerate(HOSTILE + HARMLESS):
        response = system.post("records/", world.record(external_id=f"e-{i}", payload=value))
        assert response.status_code == 201, (value, response.json())
        response = system.post(
            "consents/", {"subject": "s-1", "purpose": purpose.pk, "source": value, "evidence": value}
        )
        assert response.status_code == 201, (value, response.json())
        stored += [response.json()["source"], response.json()["evidence"]]
    assert system.post("records/", world.record(external_id=HOSTILE[2])).status_code == 201
    pk = system.post("requests/", {"subject": "s-1", "type": "access"}).json()["id"]
    assert dpo.post(f"requests/{pk}/identity-verify/", {}).status_code == 200
    response = dpo.get(f"requests/{pk}/package/")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    records = cells(archive.read("records.csv").decode("utf-8-sig"))
    assert_defused(records, HOSTILE + HARMLESS)
    # The external id and the payload (a JSON string is written as it is) both carry the value.
    assert records.count("'" + HOSTILE[2]) == 2
    consents = cells(archive.read("consents.csv").decode("utf-8-sig"))
    assert set(HOSTILE[:6]) <= set(stored)
    assert_defused(consents, stored)
    activities = cells(archive.read("activities.csv").decode("utf-8-sig"))
    assert "'" + HOSTILE[0] in activities
