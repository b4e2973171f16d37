"""Retention evidence: proof that data is erased as the register says.

For each activity, the last real retention runs that covered it (dry runs change nothing and prove
nothing), with what each did to the activity's records: flagged, anonymised, deleted, and the
tombstones it left; what the run left alone under a legal hold; and whether the erasure-evidence
chain (tombstones chained by hash, retention.engine.chain_problems) verifies. The chain is walked
once per export, in bounded memory; runs and counts are read per batch of activities.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Q

from retention.models import RetentionRule, RetentionRun, Tombstone
from retention.selectors import tombstone_chain, tombstone_chain_problems
from ropa.kernel.dates import local_minute

from . import labels as L
from .entries import BATCH_SIZE, ActivityEntry
from .labels import Labels, say

RUNS_PER_ACTIVITY = 5


@dataclass(frozen=True)
class RunEvidence:
    """What one retention run did to one activity's records."""

    run_id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    flagged: int
    anonymised: int
    deleted: int
    held: int | None  # None: a run recorded before holds were counted per rule
    tombstones: int
    chain_verifies: bool


@dataclass
class ChainStatus:
    """The tombstone chain as walked for this export: how long, and where (which runs) it breaks."""

    count: int = 0
    problems: list[str] = field(default_factory=list)
    broken_runs: set[int] = field(default_factory=set)

    @property
    def verifies(self) -> bool:
        return not self.problems


def chain_status() -> ChainStatus:
    """Walk the whole chain once; attribute each problem to the run of the tombstone it was found at."""
    status = ChainStatus()
    current: dict[str, int] = {}

    def tracked(rows):
        for row in rows:
            status.count += 1
            current["run_id"] = row["run_id"]
            yield row

    # chain_problems yields a tombstone's problems before it reads the next one.
    for problem in tombstone_chain_problems(tracked(tombstone_chain())):
        status.problems.append(problem)
        status.broken_runs.add(current.get("run_id"))
    return status


def chain_summary(chain: ChainStatus, *, language: str) -> str:
    if chain.verifies:
        return say(L.WORDS["chain_ok"], language).format(count=chain.count)
    shown = "; ".join(chain.problems[:5]) + (" ..." if len(chain.problems) > 5 else "")
    return say(L.WORDS["chain_broken"], language).format(problems=shown)


@dataclass
class ActivityEvidence:
    runs: list[RunEvidence]


def _runs_by_controller(controller_id: int, moment: dt.datetime) -> list[RetentionRun]:
    return list(
        RetentionRun.objects.filter(dry_run=False, started_at__lte=moment)
        .filter(Q(controller__isnull=True) | Q(controller_id=controller_id))
        .order_by("-started_at", "-id")[:RUNS_PER_ACTIVITY]
    )


def attach_evidence(
    entries: Iterable[ActivityEntry], *, moment: dt.datetime, chain: ChainStatus
) -> Iterator[ActivityEntry]:
    """Give each entry the last runs that covered it (started by ``moment``), batch by batch."""
    runs_cache: dict[int, list[RetentionRun]] = {}
    batch: list[ActivityEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == BATCH_SIZE:
            yield from _with_evidence(batch, moment, chain, runs_cache)
            batch = []
    if batch:
        yield from _with_evidence(batch, moment, chain, runs_cache)


def _held(run: RetentionRun, counts: list[dict]) -> int | None:
    """The activity's records the run left alone under a legal hold: the sum over its rules. A run from
    before holds were counted per rule has only its run-wide total, which is not the activity's: unknown."""
    if run.skipped_for_hold and not any("hold" in c for c in run.counts.values()):
        return None
    return sum(c.get("hold", 0) for c in counts)


def _with_evidence(batch, moment, chain, runs_cache) -> Iterator[ActivityEntry]:
    for entry in batch:
        if entry.controller.pk not in runs_cache:
            runs_cache[entry.controller.pk] = _runs_by_controller(entry.controller.pk, moment)
    activity_ids = [entry.activity.pk for entry in batch]
    run_ids = {run.pk for entry in batch for run in runs_cache[entry.controller.pk]}
    # Every rule the activity ever had: a run may have counted under a rule removed since.
    rules_of = defaultdict(set)
    for rule_id, activity_id in (
        RetentionRule.history.filter(activity_id__in=activity_ids).values_list("id", "activity_id").distinct()
    ):
        rules_of[activity_id].add(str(rule_id))
    tombstones = defaultdict(int)
    for row in (
        Tombstone.objects.filter(activity_id__in=activity_ids, run_id__in=run_ids)
        .values("run_id", "activity_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        tombstones[row["run_id"], row["activity_id"]] = row["n"]
    for entry in batch:
        runs = []
        for run in runs_cache[entry.controller.pk]:
            counts = [run.counts.get(rule, {}) for rule in rules_of[entry.activity.pk]]
            runs.append(
                RunEvidence(
                    run_id=run.pk,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    status=run.status,
                    flagged=sum(c.get("flag", 0) for c in counts),
                    anonymised=sum(c.get("anonymise", 0) for c in counts),
                    deleted=sum(c.get("delete", 0) for c in counts),
                    held=_held(run, counts),
                    tombstones=tombstones[run.pk, entry.activity.pk],
                    chain_verifies=run.pk not in chain.broken_runs,
                )
            )
        entry.evidence = ActivityEvidence(runs=runs)
        yield entry


@dataclass(frozen=True)
class EvidenceColumn:
    key: str
    heading: Labels
    value: Callable[[RunEvidence, str], object]
    width: int = 12


def _moment(value: dt.datetime | None) -> str:
    return local_minute(value) if value else ""


EVIDENCE_COLUMNS: tuple[EvidenceColumn, ...] = (
    EvidenceColumn(
        "started_at",
        {"en": "Run started", "nl": "Ronde gestart", "fr": "Cycle démarré"},
        lambda r, lang: _moment(r.started_at),
        18,
    ),
    EvidenceColumn(
        "status",
        {"en": "Outcome", "nl": "Resultaat", "fr": "Résultat"},
        lambda r, lang: L.choice(L.RUN_STATUS, r.status, lang),
        14,
    ),
    EvidenceColumn("flagged", {"en": "Flagged", "nl": "Gemarkeerd", "fr": "Signalés"}, lambda r, lang: r.flagged, 11),
    EvidenceColumn(
        "anonymised", {"en": "Anonymised", "nl": "Geanonimiseerd", "fr": "Anonymisés"}, lambda r, lang: r.anonymised, 13
    ),
    EvidenceColumn("deleted", {"en": "Deleted", "nl": "Verwijderd", "fr": "Supprimés"}, lambda r, lang: r.deleted, 11),
    EvidenceColumn(
        "held",
        {
            "en": "Kept for a legal hold",
            "nl": "Behouden wegens juridische blokkering",
            "fr": "Conservés pour gel juridique",
        },
        lambda r, lang: "" if r.held is None else r.held,
        16,
    ),
    EvidenceColumn(
        "tombstones",
        {"en": "Erasure tombstones", "nl": "Wissingsbewijzen", "fr": "Preuves d'effacement"},
        lambda r, lang: r.tombstones,
        16,
    ),
    EvidenceColumn(
        "chain_verifies",
        {"en": "Chain verifies", "nl": "Keten intact", "fr": "Chaîne intacte"},
        lambda r, lang: L.yes_no(r.chain_verifies, lang),
        11,
    ),
)


def evidence_rows(entry: ActivityEntry, *, language: str) -> list[list]:
    """The entry's runs as rows of ``EVIDENCE_COLUMNS`` values; none when no run covered it."""
    if entry.evidence is None:
        return []
    return [[column.value(run, language) for column in EVIDENCE_COLUMNS] for run in entry.evidence.runs]
