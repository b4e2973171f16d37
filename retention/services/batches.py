"""A batch of up to 1,000 records registered in a handful of queries (``record_register_many``). It computes
expiry with the same pure engine ``record_upsert`` uses (``engine.applicable_rules`` + ``engine.expires_at``,
rules read once per activity), inserts new records in one statement, and hands every record that already
exists and differs in what was sent to ``record_upsert`` itself, so an update has exactly one code path
(what is left out is kept; a hold or a restriction refuses what it freezes)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from processing.models import DataCategory
from ropa.kernel.problems import Conflict
from subjects.choices import RecordStatus
from subjects.models import DataSubject, PersonalDataRecord

from .. import engine, selectors
from ..models import RetentionRule
from .records import (
    OMITTED,
    Omitted,
    record_change_refusal,
    record_changes,
    record_expiry_warnings,
    record_upsert,
    subject_register,
)

# What a rule row of the API may set, besides its data category, duration and position (which it sets
# through ``data_category`` and ``duration``, and its place in the list).
_RULE_FIELDS = frozenset(
    f.name for f in RetentionRule._meta.concrete_fields if not f.primary_key and not f.is_relation
) - {"duration_value", "duration_unit", "position"}


@dataclass
class SubjectRef:
    """A subject as the batch needs it: its id, and the instance only when a service needs one."""

    pk: int
    controller_id: int
    key: str

    def instance(self) -> DataSubject:
        return DataSubject.objects.get(pk=self.pk)


@dataclass
class Registered:
    """One line of a registration's answer: the record, what was done to it (``created``, ``updated``,
    ``unchanged``) and its warnings (``no_expiry``)."""

    id: int
    external_id: str
    outcome: str
    warnings: list[dict] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.outcome == "created"


@dataclass
class RecordInput:
    """One validated record of a batch, its references already resolved. ``payload`` and ``retention_rule``
    are ``OMITTED`` when not sent (kept as stored), ``dates`` holds only the dates sent."""

    external_id: str
    subject_key: str
    subject_identifiers: dict | None
    activity: object
    data_category: DataCategory
    retention_rule: RetentionRule | Omitted | None
    payload: object
    dates: dict[str, dt.date | None]

    def rule_id(self) -> int | Omitted | None:
        return self.retention_rule if self.retention_rule is OMITTED else getattr(self.retention_rule, "pk", None)


class BatchConflict(Conflict):
    """Records of a batch that their hold or restriction refuses to change (``items``: position ->
    ``Conflict``); nothing of the batch is written."""

    def __init__(self, items: dict[int, Conflict]):
        self.items = dict(sorted(items.items()))
        first, *others = self.items.items()
        more = f" (and {len(others)} more record(s) of the batch)" if others else ""
        super().__init__(
            f"Nothing of the batch was written: record {first[0]} of the batch: {first[1].detail}{more}",
            code="batch_refused",
            records={str(index): conflict.body() for index, conflict in self.items.items()},
        )


@transaction.atomic
def record_register_many(
    *, source_system: str, items: list[RecordInput], now: dt.datetime | None = None
) -> list[Registered]:
    """Register a batch idempotently on ``source_system`` + ``external_id``: new records are inserted
    together; a record already registered is left alone when nothing sent differs and otherwise goes
    through ``record_upsert``, which keeps what was left out. All or nothing: a record its hold or its
    restriction keeps from changing refuses the whole batch (``BatchConflict``, every such record named).
    Returns one line per item, in order."""
    batch = _Batch(source_system, items, now or timezone.now())
    new = batch.sort()
    if batch.refused:
        raise BatchConflict(batch.refused)
    for index in batch.changing:
        batch.results[index] = batch.upsert(index)
    if new:
        batch.insert(new)
    return batch.results


class _Batch:
    """One batch on its way in: what is stored under its external ids, the rules of its activities (read
    once per activity), and a result line per item."""

    def __init__(self, source_system: str, items: list[RecordInput], now: dt.datetime):
        self.source_system, self.items, self.now = source_system, items, now
        self.tz = selectors.retention_time_zone()
        self.subjects = _subjects(items)
        self.existing = {
            r.external_id: r
            for r in PersonalDataRecord.objects.filter(
                source_system=source_system, external_id__in=[i.external_id for i in items]
            )
        }
        self.rules_of: dict[int, list[engine.RuleTerms]] = {}
        self.results: list[Registered | None] = [None] * len(items)
        self.changing: list[int] = []  # stored records the batch changes, through record_upsert
        self.refused: dict[int, Conflict] = {}

    def rules(self, activity_id: int, *, category_id: int, rule_id: int | None) -> list[engine.RuleTerms]:
        if activity_id not in self.rules_of:
            self.rules_of[activity_id] = selectors.rule_terms_for_activity(activity_id)
        return engine.applicable_rules(self.rules_of[activity_id], data_category_id=category_id, named_rule_id=rule_id)

    def warnings(self, *, activity_id, category_id, rule_id, dates, expires_at) -> list[dict]:
        if expires_at is not None:
            return []
        rules = self.rules(activity_id, category_id=category_id, rule_id=rule_id)
        return record_expiry_warnings(rules=rules, dates=dates, expires_at=None)

    def line(self, outcome: str, record: PersonalDataRecord) -> Registered:
        found = self.warnings(
            activity_id=record.activity_id,
            category_id=record.data_category_id,
            rule_id=record.retention_rule_id,
            dates=selectors.record_dates(record),
            expires_at=record.expires_at,
        )
        return Registered(record.pk, record.external_id, outcome, found)

    def sort(self) -> list[tuple[int, dict]]:
        """Settle what each item is: unchanged (its line written now), a change to a stored record (or a
        refused one), or new; returns the new ones as rows to insert."""
        new = []
        for index, item in enumerate(self.items):
            subject = self.subjects[(item.activity.controller_id, item.subject_key)]
            record = self.existing.get(item.external_id)
            if record is None:
                new.append((index, self.row(item, subject)))
                continue
            changed = record_changes(
                record,
                subject_id=subject.pk,
                activity_id=item.activity.pk,
                data_category_id=item.data_category.pk,
                retention_rule_id=item.rule_id(),
                payload=item.payload,
                dates=item.dates,
            )
            if not changed:
                self.results[index] = self.line("unchanged", record)
                continue
            refusal = record_change_refusal(record, changed)
            if refusal is not None:
                self.refused[index] = refusal
            self.changing.append(index)
        return new

    def row(self, item: RecordInput, subject: SubjectRef) -> dict:
        """A new record's columns, its expiry computed from its activity's rules."""
        rule_id = None if item.retention_rule is OMITTED else item.rule_id()
        applicable = self.rules(item.activity.pk, category_id=item.data_category.pk, rule_id=rule_id)
        expiry = engine.expires_at(rules=applicable, dates=item.dates, tz=self.tz)
        return {
            "subject_id": subject.pk,
            "activity_id": item.activity.pk,
            "data_category_id": item.data_category.pk,
            "retention_rule_id": rule_id,
            "source_system": self.source_system,
            "external_id": item.external_id,
            "payload": None if item.payload is OMITTED else item.payload,
            "expires_at": expiry.at if expiry else None,
            "expiry_rule_id": expiry.rule.id if expiry else None,
            **item.dates,
        }

    def upsert(self, index: int) -> Registered:
        item = self.items[index]
        try:
            done = record_upsert(
                subject=self.subjects[(item.activity.controller_id, item.subject_key)].instance(),
                activity=item.activity,
                data_category=item.data_category,
                source_system=self.source_system,
                external_id=item.external_id,
                payload=item.payload,
                dates=item.dates,
                retention_rule=item.retention_rule,
                now=self.now,
            )
        except Conflict as conflict:
            # Changed since it was read above: still reported as the record of the batch it is.
            raise BatchConflict({index: conflict}) from None
        return self.line(done.outcome, done.record)

    def insert(self, new: list[tuple[int, dict]]) -> None:
        """The new records in one statement; one by one when a concurrent request registered some a moment ago."""
        try:
            with transaction.atomic():
                ids = _insert_records([record for _, record in new], now=self.now)
        except IntegrityError:
            ids = None
        if ids is None:
            for index, _record in new:
                self.results[index] = self.upsert(index)
            return
        for (index, record), pk in zip(new, ids, strict=True):
            self.results[index] = Registered(
                pk,
                record["external_id"],
                "created",
                self.warnings(
                    activity_id=record["activity_id"],
                    category_id=record["data_category_id"],
                    rule_id=record["retention_rule_id"],
                    dates=self.items[index].dates,
                    expires_at=record["expires_at"],
                ),
            )


def _insert_records(records: list[dict], *, now: dt.datetime) -> list[int]:
    """Insert a batch in one statement and return the new ids in the order of ``records``.

    Columns come from the model's meta and values are adapted by the database backend, as
    ``bulk_create`` would, without building 1,000 model instances and preparing each column of each
    (the batch path's largest cost). On PostgreSQL the rows travel as one array per column
    (``INSERT ... SELECT FROM unnest(...)``): a dozen parameters instead of twelve thousand.
    """
    meta = PersonalDataRecord._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    names = sorted({name for record in records for name in record} | {"status", "created_at", "updated_at"})
    fields = [by_attname[name] for name in names]
    defaults = {"status": RecordStatus.ACTIVE, "created_at": now, "updated_at": now}
    columns = [[record.get(name, defaults.get(name)) for record in records] for name in names]
    ops = connection.ops
    table, pk = ops.quote_name(meta.db_table), ops.quote_name(meta.pk.column)
    external_id = ops.quote_name(meta.get_field("external_id").column)
    column_list = ", ".join(ops.quote_name(field.column) for field in fields)
    params: list = []
    if connection.vendor == "postgresql":
        selects = []
        for n, (field, values) in enumerate(zip(fields, columns, strict=True)):
            if field.get_internal_type() == "JSONField":
                params.append([None if v is None else json.dumps(v, cls=field.encoder) for v in values])
                selects.append(f"u.c{n}::jsonb")
            else:
                params.append(values)
                selects.append(f"u.c{n}")
        arrays = ", ".join(f"%s::{_array_type(field)}" for field in fields)
        aliases = ", ".join(f"c{n}" for n in range(len(fields)))
        # Names come from the model's meta, quoted; every value is a parameter.
        sql = (
            f"INSERT INTO {table} ({column_list}) SELECT {', '.join(selects)} "  # noqa: S608
            f"FROM unnest({arrays}) AS u({aliases}) RETURNING {pk}, {external_id}"
        )
    else:
        for record_index in range(len(records)):
            for field, values in zip(fields, columns, strict=True):
                params.append(field.get_db_prep_save(values[record_index], connection))
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        rows = ", ".join([row] * len(records))
        sql = f"INSERT INTO {table} ({column_list}) VALUES {rows} RETURNING {pk}, {external_id}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Matched on external_id (unique in a batch), not on the order RETURNING happens to use.
        ids = {external: pk_value for pk_value, external in cursor.fetchall()}
    return [ids[record["external_id"]] for record in records]


def _array_type(field) -> str:
    return f"{field.db_type(connection)}[]"  # a foreign key's db_type is its target's


def _subjects(items: list[RecordInput]) -> dict[tuple[int, str], SubjectRef]:
    """Find or create every subject of the batch in a few queries; identifiers given replace stored ones."""
    wanted: dict[tuple[int, str], RecordInput] = {}
    for item in items:
        # Per subject, the last record that gives identifiers (a record leaving them out keeps them).
        key = (item.activity.controller_id, item.subject_key)
        if key not in wanted or item.subject_identifiers is not None:
            wanted[key] = item
    by_controller: dict[int, list[str]] = defaultdict(list)
    for controller_id, key in wanted:
        by_controller[controller_id].append(key)

    def lookup(controller_id: int, keys: list[str]) -> None:
        for pk, key in DataSubject.objects.filter(controller_id=controller_id, key__in=keys).values_list("pk", "key"):
            found[(controller_id, key)] = SubjectRef(pk, controller_id, key)

    found: dict[tuple[int, str], SubjectRef] = {}
    for controller_id, keys in by_controller.items():
        lookup(controller_id, keys)
    missing = [k for k in wanted if k not in found]
    if missing:
        DataSubject.objects.bulk_create(
            [
                DataSubject(controller_id=c, key=k, identifiers=wanted[(c, k)].subject_identifiers or {})
                for c, k in missing
            ],
            ignore_conflicts=True,
        )
        for controller_id in {c for c, _ in missing}:
            lookup(controller_id, [k for c, k in missing if c == controller_id])
    with_identifiers = [k for k, item in wanted.items() if item.subject_identifiers is not None and k not in missing]
    for controller_id, key in with_identifiers:
        subject = found[(controller_id, key)].instance()
        if subject.identifiers != wanted[(controller_id, key)].subject_identifiers:
            subject_register(
                controller=subject.controller, key=key, identifiers=wanted[(controller_id, key)].subject_identifiers
            )
    return found
