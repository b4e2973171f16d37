"""Retention evidence in the exports: what the last real runs did to each activity, and the chain's state."""

import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest
from django.utils import timezone

from retention.models import Tombstone
from retention.services import legal_hold_place, record_register, retention_enforce
from ropa.register import export_register
from ropa.register.evidence import EVIDENCE_COLUMNS, attach_evidence, chain_status
from ropa.register.snapshot import register_snapshot
from tests.factories import (
    DataCategoryFactory,
    DataSubjectFactory,
    ProcessingActivityFactory,
    RetentionRuleFactory,
)

pytestmark = pytest.mark.django_db

HEADINGS = [column.heading["en"] for column in EVIDENCE_COLUMNS]


@pytest.fixture
def swept(dpo, dpo_mail):
    """Activity A deletes after a year (no grace): two records erased, a third kept under a legal hold.
    Activity B only flags. One real sweep, then a dry run (which proves nothing and must not show)."""
    category = DataCategoryFactory(code="identity")
    deleting = ProcessingActivityFactory(reference="A-01", name_en="Deleting activity")
    flagging = ProcessingActivityFactory(controller=deleting.controller, reference="B-01", name_en="Flagging activity")
    for activity, action in ((deleting, "delete"), (flagging, "flag")):
        RetentionRuleFactory(
            activity=activity,
            duration_value=1,
            duration_unit="years",
            trigger="collection",
            action=action,
            grace_days=0,
        )
    records = []
    for n, activity in enumerate((deleting, deleting, deleting, flagging)):
        records.append(
            record_register(
                subject=DataSubjectFactory(controller=activity.controller),
                activity=activity,
                data_category=category,
                source_system="crm",
                external_id=f"CRM-{n}",
                payload={"name": f"Person {n}"},
                dates={"collected_on": dt.date(2020, 1, 1)},
            )
        )
    legal_hold_place(reason="litigation", actor=dpo, record=records[2])
    run = retention_enforce(now=timezone.now())
    retention_enforce(now=timezone.now(), dry_run=True)
    return deleting.controller, run


def _evidence_rows(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["Retention evidence"]
    header = [cell.value for cell in sheet[2]]
    assert header[3:] == HEADINGS
    rows = {}
    for values in sheet.iter_rows(min_row=3, values_only=True):
        rows.setdefault(values[1], []).append(dict(zip(HEADINGS, values[3:], strict=True)))
    return sheet["A1"].value, rows


def test_xlsx_evidence_shows_what_the_last_runs_did_to_each_activity(swept):
    controller, run = swept
    assert (run.deleted, run.flagged, run.skipped_for_hold) == (2, 3, 1)
    summary, rows = _evidence_rows(export_register(fmt="xlsx", controller=controller).content)
    assert summary == "The erasure evidence chain verifies (2 tombstones)."
    assert len(rows["A-01"]) == 1 and len(rows["B-01"]) == 1  # the dry run is no evidence
    deleting, flagging = rows["A-01"][0], rows["B-01"][0]
    assert (deleting["Flagged"], deleting["Anonymised"], deleting["Deleted"], deleting["Erasure tombstones"]) == (
        2,
        0,
        2,
        2,
    )
    # The hold is on one of A's records: A shows it, B (same run) shows none.
    assert (deleting["Kept for a legal hold"], flagging["Kept for a legal hold"]) == (1, 0)
    assert deleting["Chain verifies"] == "Yes" and deleting["Outcome"] == "finished"
    assert (flagging["Flagged"], flagging["Deleted"], flagging["Erasure tombstones"]) == (1, 0, 0)

    # Someone alters a tombstone: the chain no longer verifies, and the run that wrote it says so.
    Tombstone.objects.filter(sequence=1).update(source_system="elsewhere")
    summary, rows = _evidence_rows(export_register(fmt="xlsx", controller=controller).content)
    assert summary.startswith("The erasure evidence chain does NOT verify: tombstone #1")
    assert rows["A-01"][0]["Chain verifies"] == "No"
    assert chain_status().broken_runs == {run.pk}


def test_evidence_as_of_a_date_shows_only_the_runs_before_it(swept):
    controller, run = swept
    snapshot = register_snapshot(controller=controller)
    entries = list(
        attach_evidence(
            snapshot.activities(controller), moment=run.started_at - dt.timedelta(seconds=1), chain=chain_status()
        )
    )
    assert [entry.evidence.runs for entry in entries] == [[], []]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_pdf_evidence_section_per_activity(swept, tmp_path):
    controller, _run = swept
    path = tmp_path / "register.pdf"
    export_register(fmt="pdf", controller=controller, lang="nl").save(path)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert text.count("Bewijs van bewaring en wissing") == 2
    assert "De keten van wissingsbewijzen is intact (2 bewijzen)." in text
    assert "voltooid" in text and "Gemarkeerd" in text and "Wissingsbewijzen" in text


def test_a_run_recorded_before_per_rule_holds_shows_no_held_count_for_the_activity(swept):
    controller, run = swept
    run.counts = {rule: {k: n for k, n in actions.items() if k != "hold"} for rule, actions in run.counts.items()}
    run.save(update_fields=["counts"])
    _summary, rows = _evidence_rows(export_register(fmt="xlsx", controller=controller).content)
    assert rows["A-01"][0]["Kept for a legal hold"] in (None, "")
    assert rows["A-01"][0]["Deleted"] == 2
