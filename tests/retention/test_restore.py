"""A restore from a backup older than some erasures: the erasure journal erases them again.

Given a journal, a backup taken after a first sweep, and a second sweep after the backup; when the backup is
restored (the rows the sweeps change, dumped and loaded back as a dump/restore would) and
``retention_reapply_erasures`` runs; then what the second sweep erased is erased again, what no sweep erased
stays, the chain is whole and verifies, and running it again changes nothing.
"""

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from retention.journal import RestorePending, journal_export, restore_pending
from retention.models import ErasureNotice, LegalHold, RetentionRun, Tombstone
from retention.selectors import tombstone_chain_problems
from retention.services import legal_hold_place, legal_hold_release, retention_enforce, subject_records_erase
from subjects.choices import RecordStatus
from subjects.models import DataSubject, PersonalDataRecord
from tests.factories import DataCategoryFactory
from tests.support.records import NOW

LATER = NOW + dt.timedelta(days=600)
# What a database backup of the rows a sweep changes holds, in the order a restore can delete them.
BACKED_UP = [ErasureNotice, Tombstone, RetentionRun, LegalHold, PersonalDataRecord, DataSubject]


@pytest.fixture
def journal(settings, tmp_path):
    settings.ROPA_ERASURE_JOURNAL = str(tmp_path / "erasures.jsonl")
    return tmp_path / "erasures.jsonl"


def backup(path) -> None:
    labels = [f"{model._meta.app_label}.{model.__name__}" for model in BACKED_UP]
    call_command("dumpdata", *labels, output=str(path), verbosity=0)


def restore(path) -> None:
    for model in BACKED_UP:
        model.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)


def reapply() -> str:
    out = io.StringIO()
    call_command("retention_reapply_erasures", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def state() -> tuple:
    records = list(PersonalDataRecord.objects.order_by("pk").values())
    tombstones = list(Tombstone.objects.order_by("sequence").values())
    runs = list(RetentionRun.objects.order_by("pk").values())
    notices = list(ErasureNotice.objects.order_by("record_id").values("record_id", "external_id", "action"))
    return records, tombstones, runs, notices


@pytest.fixture
def restored(world, journal, tmp_path):
    """Two sweeps with a backup between them, then that backup restored. Returns the record groups."""
    world.rule(action="anonymise", grace_days=0, data_category=world.category)
    delete_category = DataCategoryFactory()
    world.rule(action="delete", grace_days=0, data_category=delete_category)
    early = [world.record().pk for _ in range(3)] + [world.record(category=delete_category).pk for _ in range(2)]
    late_anonymised = [world.record(collected_on=dt.date(2030, 3, 1)).pk for _ in range(3)]
    late_deleted = [world.record(collected_on=dt.date(2030, 3, 1), category=delete_category).pk for _ in range(2)]
    kept = [world.record(collected_on=dt.date(2031, 6, 1)).pk for _ in range(2)]

    retention_enforce(now=NOW)
    backup(tmp_path / "backup.json")
    retention_enforce(now=LATER)
    assert Tombstone.objects.count() == 10
    restore(tmp_path / "backup.json")
    assert Tombstone.objects.count() == 5
    assert PersonalDataRecord.objects.filter(pk__in=late_anonymised + late_deleted, status="active").count() == 5
    return {"early": early, "late_anonymised": late_anonymised, "late_deleted": late_deleted, "kept": kept}


def test_reapply_erases_again_what_was_erased_after_the_backup(restored, client):
    out = reapply()

    assert "tombstones put back: 5" in out and "runs put back: 1" in out
    assert "anonymised again: 3" in out and "deleted again: 2" in out and "already erased: 5" in out
    late = PersonalDataRecord.objects.filter(pk__in=restored["late_anonymised"])
    assert all(r.status == RecordStatus.ERASED and r.payload is None and r.external_id is None for r in late)
    assert not PersonalDataRecord.objects.filter(pk__in=restored["late_deleted"]).exists()
    kept = PersonalDataRecord.objects.filter(pk__in=restored["kept"])
    assert all(r.status == RecordStatus.ACTIVE and r.payload for r in kept)
    assert sorted(Tombstone.objects.values_list("record_id", flat=True)) == sorted(
        restored["early"] + restored["late_anonymised"] + restored["late_deleted"]
    )
    assert list(tombstone_chain_problems()) == []
    # The source system hears of the erasures again (the restore lost those feed lines).
    assert set(restored["late_anonymised"] + restored["late_deleted"]) <= set(
        ErasureNotice.objects.values_list("record_id", flat=True)
    )
    assert restore_pending() is None
    assert client.get("/healthz").json()["erasures"] is True


def test_reapply_twice_changes_nothing(restored):
    reapply()
    before = state()
    out = reapply()
    assert "tombstones put back: 0" in out and "anonymised again: 0" in out and "deleted again: 0" in out
    assert "already erased: 10" in out
    assert state() == before


def test_until_reapplied_sweeps_refuse_and_healthz_says_503(restored, client):
    assert "the database was restored from a backup" in restore_pending()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["erasures"] is False
    with pytest.raises(RestorePending):
        retention_enforce(now=LATER)
    with pytest.raises(CommandError, match="restored from a backup"):
        call_command("export_tombstones")
    with pytest.raises(CommandError, match=r"No sweep: .*retention_reapply_erasures"):
        call_command("retention_enforce")
    # An erasure request waits for the restore as well.
    subject = DataSubject.objects.filter(records__status=RecordStatus.ACTIVE).first()
    assert subject is not None
    with pytest.raises(ValidationError, match="restore is complete"):
        subject_records_erase(subject=subject, now=LATER)
    assert Tombstone.objects.count() == 5 and RetentionRun.objects.count() == 1

    reapply()
    assert client.get("/healthz").status_code == 200
    run = retention_enforce(now=LATER)  # new runs take ids after the ones put back
    assert run.pk > max(Tombstone.objects.values_list("run_id", flat=True))
    assert list(tombstone_chain_problems()) == []


def test_a_record_that_does_not_match_its_tombstone_is_left(restored):
    impostor = restored["late_anonymised"][0]
    PersonalDataRecord.objects.filter(pk=impostor).update(external_id="SOMEONE-ELSE")
    with pytest.raises(CommandError, match=rf"1 record\(s\) do not match their tombstone .*ids {impostor}\)"):
        reapply()
    assert PersonalDataRecord.objects.get(pk=impostor).payload
    assert PersonalDataRecord.objects.filter(pk__in=restored["late_anonymised"][1:], status="erased").count() == 2


def test_a_rotated_secret_key_still_recognises_the_records_while_the_old_one_is_a_fallback(restored, settings):
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-of-more-than-thirty-two-characters"
    assert "anonymised again: 3" in reapply()
    assert PersonalDataRecord.objects.filter(pk__in=restored["late_anonymised"], status="erased").count() == 3


def test_a_record_under_a_hold_in_force_is_left_until_released(restored, dpo):
    held = PersonalDataRecord.objects.get(pk=restored["late_deleted"][0])
    hold = legal_hold_place(record=held, reason="Litigation", actor=dpo)
    assert "left under a legal hold in force: 1" in reapply()
    assert PersonalDataRecord.objects.filter(pk=held.pk).exists()

    legal_hold_release(hold=hold, actor=dpo)
    assert "deleted again: 1" in reapply()
    assert not PersonalDataRecord.objects.filter(pk=held.pk).exists()


def test_a_tampered_journal_is_refused_and_nothing_changes(restored, journal):
    lines = journal.read_text().splitlines()
    last = json.loads(lines[-1])
    last["record_id"] += 1
    journal.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    before = state()
    with pytest.raises(CommandError, match="does not verify"):
        reapply()
    assert state() == before


def test_export_appends_only_what_is_new_and_drops_a_line_cut_short(world, journal):
    world.rule(action="anonymise", grace_days=0)
    for _ in range(3):
        world.record()
    retention_enforce(now=NOW)  # appends by itself after erasing
    assert journal_export() == 0
    with journal.open("ab") as handle:
        handle.write(b'{"kind":"tombstone","seq')  # a crash mid-append
    world.record()
    retention_enforce(now=NOW)
    kinds = [json.loads(line)["kind"] for line in journal.read_text().splitlines()]
    assert kinds.count("tombstone") == 4 and kinds[0] == "header"
    assert restore_pending() is None


def test_without_a_journal_the_command_says_so(settings):
    settings.ROPA_ERASURE_JOURNAL = ""
    assert "nothing to re-apply" in reapply()
