"""Reads for retention: which records are held, which rules apply, what the evidence says."""

from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from processing.models import ProcessingActivity
from subjects.models import PersonalDataRecord

from . import engine
from .models import LegalHold, RetentionRule, Tombstone


def retention_time_zone() -> ZoneInfo:
    """The register's time zone: a trigger date's day runs from 00:00 to 24:00 here."""
    return ZoneInfo(settings.ROPA_RETENTION_TIME_ZONE)


def held_q() -> Q:
    """Records under a legal hold in force, whatever its scope. Four small hashed sub-selects, so the
    sweep's range scan stays a range scan."""
    holds = LegalHold.objects.in_force()
    held_controllers = holds.filter(controller__isnull=False).values("controller_id")
    return (
        Q(pk__in=holds.filter(record__isnull=False).values("record_id"))
        | Q(subject_id__in=holds.filter(subject__isnull=False).values("subject_id"))
        | Q(activity_id__in=holds.filter(activity__isnull=False).values("activity_id"))
        | Q(activity_id__in=ProcessingActivity.objects.filter(controller_id__in=held_controllers).values("id"))
    )


def record_is_held(record: PersonalDataRecord) -> bool:
    """Is ``record`` under a legal hold in force? Every path that erases must ask (or filter ``held_q``)."""
    return PersonalDataRecord.objects.filter(held_q(), pk=record.pk).exists()


def record_list_held(queryset: QuerySet | None = None) -> QuerySet:
    return (queryset if queryset is not None else PersonalDataRecord.objects.all()).filter(held_q())


def rule_terms_for_activity(activity_id: int) -> list[engine.RuleTerms]:
    return [engine.RuleTerms.of(rule) for rule in RetentionRule.objects.filter(activity_id=activity_id)]


def record_applicable_rules(
    *, activity_id: int, data_category_id: int, named_rule_id: int | None
) -> list[engine.RuleTerms]:
    return engine.applicable_rules(
        rule_terms_for_activity(activity_id), data_category_id=data_category_id, named_rule_id=named_rule_id
    )


def record_dates(record: PersonalDataRecord) -> dict:
    return {field: getattr(record, field) for field in engine.TRIGGER_DATE_FIELDS.values()}


def record_expiry(record: PersonalDataRecord) -> engine.Expiry | None:
    """The engine's verdict for one record, as the sweep would see it after a recompute."""
    rules = record_applicable_rules(
        activity_id=record.activity_id,
        data_category_id=record.data_category_id,
        named_rule_id=record.retention_rule_id,
    )
    return engine.expires_at(rules=rules, dates=record_dates(record), tz=retention_time_zone())


def tombstone_chain(*, chunk_size: int = 5000) -> Iterator[dict]:
    """Every tombstone in chain order, as plain dicts, in bounded memory."""
    fields = [
        "sequence",
        "record_id",
        "activity_id",
        "data_category_id",
        "rule_id",
        "action",
        "source_system",
        "run_id",
        "erased_at",
        "previous_hash",
        "hash",
    ]
    last = 0
    while True:
        rows = list(Tombstone.objects.filter(sequence__gt=last).order_by("sequence").values(*fields)[:chunk_size])
        if not rows:
            return
        yield from rows
        last = rows[-1]["sequence"]


def tombstone_chain_problems(rows: Iterable[dict] | None = None) -> Iterator[str]:
    """What is wrong with the chain: gaps, broken links, altered tombstones. Empty when it verifies."""
    return engine.chain_problems(tombstone_chain() if rows is None else rows)
