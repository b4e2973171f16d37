"""After a restore from a backup: the erasures the journal holds and the database lacks, done again
(``manage.py retention_reapply_erasures``; docs/operations.md). Above the journal and the eraser, which
know nothing of each other."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord

from . import selectors
from .journal import JournalError, chain_head, disagreement, journal_path, journal_read
from .locks import CHAIN_LOCK_KEY, HOLD_LOCK_KEY, advisory_xact_lock
from .models import ErasureNotice, RetentionRun, Tombstone
from .services import record_ref_matches, records_erase

logger = logging.getLogger(__name__)


@dataclass
class ReapplyReport:
    tombstones_restored: int = 0
    runs_restored: int = 0
    anonymised: int = 0
    deleted: int = 0
    already_erased: int = 0
    held: int = 0
    mismatched: int = 0
    mismatched_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


def _evidence_restored(runs: dict, tombstones: list[dict], report: ReapplyReport, *, chunk: int) -> None:
    """Put back the runs and tombstones past the database's chain head, refusing a journal whose runs are not
    the database's own."""
    missing = tombstones[chain_head() :]
    wanted_runs = {t["run_id"] for t in missing}
    stored_runs = dict(RetentionRun.objects.filter(pk__in=wanted_runs).values_list("pk", "started_at"))
    for pk, started_at in stored_runs.items():
        if started_at != runs[pk]["started_at"]:
            raise JournalError(f"run #{pk} in the database is not the journal's run #{pk}")
    restored_runs = [RetentionRun(**runs[pk]) for pk in sorted(wanted_runs - set(stored_runs))]
    RetentionRun.objects.bulk_create(restored_runs)
    Tombstone.objects.bulk_create([Tombstone(**t) for t in missing], batch_size=chunk)
    if restored_runs and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [RetentionRun]):
                cursor.execute(sql)
    report.runs_restored, report.tombstones_restored = len(restored_runs), len(missing)


def _chunk_erased_again(by_record: dict[int, dict], report: ReapplyReport, mismatched: list[int], *, now) -> None:
    """Erase again the records of one chunk of tombstones that the database holds again, as their tombstones
    say, with their erasure-feed lines; a held record, or one whose reference does not match, is left."""
    back = list(
        PersonalDataRecord.objects.filter(pk__in=by_record)
        .exclude(status=RecordStatus.ERASED)
        .values_list("pk", "source_system", "external_id")
    )
    held = set(
        PersonalDataRecord.objects.filter(selectors.held_q(), pk__in=[pk for pk, _s, _e in back]).values_list(
            "pk", flat=True
        )
    )
    groups, notices = defaultdict(lambda: defaultdict(list)), []
    for pk, source_system, external_id in back:
        tombstone = by_record[pk]
        if tombstone["record_ref"] and not record_ref_matches(tombstone["record_ref"], source_system, external_id):
            mismatched.append(pk)
            continue
        if pk in held:
            report.held += 1
            continue
        groups[tombstone["erased_at"]][tombstone["action"]].append(pk)
        if tombstone["action"] == "delete":
            report.deleted += 1
        else:
            report.anonymised += 1
        if external_id is not None:
            notices.append(
                ErasureNotice(
                    source_system=source_system,
                    external_id=external_id,
                    record_id=pk,
                    action=tombstone["action"],
                    erased_at=tombstone["erased_at"],
                )
            )
    for erased_at, by_action in groups.items():
        records_erase(by_action=by_action, erased_at=erased_at, now=now)
    ErasureNotice.objects.bulk_create(notices)


@transaction.atomic
def erasures_reapply(*, path: Path | None = None, chunk: int = 2000) -> ReapplyReport:
    """After a restore from a backup: put back the runs and tombstones the database lacks, then erase again
    every record the journal says was erased and the database holds again. One transaction; running it twice
    changes nothing. Records under a legal hold in force, and records whose reference does not match their
    tombstone, are left and counted."""
    path = path or journal_path()
    if path is None:
        raise JournalError("no erasure journal is configured (ROPA_ERASURE_JOURNAL)")
    runs, tombstones = journal_read(path)
    report = ReapplyReport()
    # No sweep batch, no hold and no chain append while this runs.
    advisory_xact_lock(HOLD_LOCK_KEY)
    advisory_xact_lock(CHAIN_LOCK_KEY)
    common = min(chain_head(), len(tombstones))
    if common:
        problem = disagreement(tombstones[common - 1])
        if problem:
            raise JournalError(problem)
    _evidence_restored(runs, tombstones, report, chunk=chunk)
    now, mismatched = timezone.now(), []
    for start in range(0, len(tombstones), chunk):
        by_record = {t["record_id"]: t for t in tombstones[start : start + chunk]}
        _chunk_erased_again(by_record, report, mismatched, now=now)
    report.mismatched, report.mismatched_ids = len(mismatched), tuple(mismatched)
    report.already_erased = len(tombstones) - report.anonymised - report.deleted - report.held - report.mismatched
    counts = {name: value for name, value in report.as_dict().items() if name != "mismatched_ids"}
    logger.info("erasures re-applied from the journal: %s", counts)
    return report
