"""The register to export: as it stands now, or as it stood on a past date.

One selector, two sources. Today's register is read from the register tables. A past register is
rebuilt from django-simple-history: for every model the latest historical row on or before the date
(``Model.history.as_of``, with ties broken), and for the activity's many-to-many fields the rows
simple-history copied beside that historical activity row (each one holds the full set of categories,
recipients and measures the activity had then). Both sources hand the exports the same
``ActivityEntry`` objects with every relation resolved, so nothing that formats a row queries the
database, and the same code serves "now" and "then".

Activities are read through a database cursor in batches of ``BATCH_SIZE``, their relations fetched
per batch, so the memory an export needs does not grow with the size of the register.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Exists, Min, OuterRef, Prefetch, Q
from django.utils import timezone

from processing.models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Purpose,
    Recipient,
    SecurityMeasure,
    Source,
)
from retention.models import RetentionRule
from ropa.kernel.dates import NotADayError, parse_day

from .entries import BATCH_SIZE, ActivityEntry, RetentionItem
from .evidence import attach_evidence, chain_status


class ExportError(ValueError):
    """An export that cannot be made as asked (unknown controller, format, language or date)."""


@dataclass
class Vocabularies:
    """The register's vocabularies, as of the snapshot's date: the Lists sheet offers them."""

    data_subject_categories: list[DataSubjectCategory] = field(default_factory=list)
    data_categories: list[DataCategory] = field(default_factory=list)
    security_measures: list[SecurityMeasure] = field(default_factory=list)


def _by_name(items: Iterable) -> list:
    # Sorted in Python, not by the database's collation: today's and a past register sort alike.
    return sorted(items, key=lambda item: (str(getattr(item, "name", "")).casefold(), item.pk))


def _by_position(items: Iterable) -> list:
    return sorted(items, key=lambda item: (item.position, item.pk))


def end_of_day(day: dt.date) -> dt.datetime:
    """The last moment of ``day`` in the register's time zone: "as of 1 March" includes 1 March."""
    start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(start) - dt.timedelta(microseconds=1)


class _LiveSource:
    """Today's register, from the register tables."""

    def controllers(self, ids: list[int] | None) -> list[Controller]:
        queryset = Controller.objects.all()
        if ids is not None:
            queryset = queryset.filter(pk__in=ids)
        return _by_name(queryset)

    def vocabularies(self) -> Vocabularies:
        return Vocabularies(
            data_subject_categories=_by_name(DataSubjectCategory.objects.all()),
            data_categories=_by_name(DataCategory.objects.all()),
            security_measures=_by_name(SecurityMeasure.objects.all()),
        )

    def activities(self, controller: Controller) -> Iterator[ActivityEntry]:
        queryset = (
            ProcessingActivity.objects.filter(controller=controller)
            .select_related("replaced_by")
            .prefetch_related(
                "purposes",
                "data_subject_categories",
                "data_categories",
                "recipients",
                "security_measures",
                "sources",
                Prefetch("retention_rules", queryset=RetentionRule.objects.select_related("data_category")),
            )
            .order_by("reference", "pk")
        )
        for activity in queryset.iterator(chunk_size=BATCH_SIZE):
            yield ActivityEntry(
                controller=controller,
                activity=activity,
                purposes=_by_position(activity.purposes.all()),
                data_subject_categories=_by_name(activity.data_subject_categories.all()),
                data_categories=_by_name(activity.data_categories.all()),
                recipients=_by_name(activity.recipients.all()),
                security_measures=_by_name(activity.security_measures.all()),
                retention=[
                    RetentionItem(rule=rule, data_category=rule.data_category)
                    for rule in _by_position(activity.retention_rules.all())
                ],
                sources=_by_position(activity.sources.all()),
                replaced_by=activity.replaced_by,
            )


class _HistorySource:
    """The register as it stood at ``moment``, rebuilt from the version history."""

    def __init__(self, moment: dt.datetime):
        self.moment = moment
        self._vocabularies: dict[type, dict[int, object]] = {}

    def _as_of(self, model):
        """``model.history.as_of(moment)``: each row's latest version on or before the moment, as instances,
        rows deleted by then left out; but two versions with the same ``history_date`` (one transaction,
        a coarse clock, an import) are told apart by ``history_id``, where ``as_of`` would return both."""
        versions = model.history.filter(history_date__lte=self.moment)
        pk = model._meta.pk.attname
        later = versions.filter(
            Q(**{pk: OuterRef(pk)}),
            Q(history_date__gt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__gt=OuterRef("history_id")),
        )
        return versions.filter(~Exists(later)).as_instances()

    def _vocabulary(self, model) -> dict[int, object]:
        if model not in self._vocabularies:
            self._vocabularies[model] = {item.pk: item for item in self._as_of(model)}
        return self._vocabularies[model]

    def controllers(self, ids: list[int] | None) -> list[Controller]:
        queryset = self._as_of(Controller)
        if ids is not None:
            queryset = queryset.filter(id__in=ids)
        return _by_name(queryset)

    def vocabularies(self) -> Vocabularies:
        return Vocabularies(
            data_subject_categories=_by_name(self._vocabulary(DataSubjectCategory).values()),
            data_categories=_by_name(self._vocabulary(DataCategory).values()),
            security_measures=_by_name(self._vocabulary(SecurityMeasure).values()),
        )

    def activities(self, controller: Controller) -> Iterator[ActivityEntry]:
        recipients = {r.pk: r for r in self._as_of(Recipient).filter(controller_id=controller.pk)}
        # The latest historical row of each activity, then those of this controller: an activity moved
        # to another controller later must not show here with its old row.
        rows = self._as_of(ProcessingActivity).filter(controller_id=controller.pk).order_by("reference", "id")
        batch = []
        for row in rows.iterator(chunk_size=BATCH_SIZE):
            batch.append(row)
            if len(batch) == BATCH_SIZE:
                yield from self._entries(controller, batch, recipients)
                batch = []
        if batch:
            yield from self._entries(controller, batch, recipients)

    def _children(self, model, activity_ids: list[int]) -> dict[int, list]:
        children = defaultdict(list)
        for child in self._as_of(model).filter(activity_id__in=activity_ids):
            children[child.activity_id].append(child)
        return {key: _by_position(values) for key, values in children.items()}

    def _m2m(self, field_name: str, history_ids: list[int], targets: dict[int, object]) -> dict[int, list]:
        m2m_model = getattr(ProcessingActivity.history.model, field_name).model
        target_column = m2m_model._meta.get_field(
            ProcessingActivity._meta.get_field(field_name).m2m_reverse_field_name()
        ).attname
        members = defaultdict(list)
        for history_id, target_id in m2m_model.objects.filter(history_id__in=history_ids).values_list(
            "history_id", target_column
        ):
            if target_id in targets:
                members[history_id].append(targets[target_id])
        return {key: _by_name(values) for key, values in members.items()}

    def _entries(self, controller: Controller, rows: list, recipients: dict) -> Iterator[ActivityEntry]:
        activity_ids = [row.id for row in rows]
        history_ids = [row.history_id for row in rows]
        purposes = self._children(Purpose, activity_ids)
        sources = self._children(Source, activity_ids)
        rules = self._children(RetentionRule, activity_ids)
        subject_categories = self._m2m("data_subject_categories", history_ids, self._vocabulary(DataSubjectCategory))
        data_categories = self._m2m("data_categories", history_ids, self._vocabulary(DataCategory))
        measures = self._m2m("security_measures", history_ids, self._vocabulary(SecurityMeasure))
        activity_recipients = self._m2m("recipients", history_ids, recipients)
        successor_ids = {row.replaced_by_id for row in rows if row.replaced_by_id}
        successors = (
            {a.pk: a for a in self._as_of(ProcessingActivity).filter(id__in=successor_ids)} if successor_ids else {}
        )
        categories = self._vocabulary(DataCategory)
        for row in rows:
            activity = row.instance
            yield ActivityEntry(
                controller=controller,
                activity=activity,
                purposes=purposes.get(row.id, []),
                data_subject_categories=subject_categories.get(row.history_id, []),
                data_categories=data_categories.get(row.history_id, []),
                recipients=activity_recipients.get(row.history_id, []),
                security_measures=measures.get(row.history_id, []),
                retention=[
                    RetentionItem(rule=rule, data_category=categories.get(rule.data_category_id))
                    for rule in rules.get(row.id, [])
                ],
                sources=sources.get(row.id, []),
                replaced_by=successors.get(row.replaced_by_id),
            )


@dataclass
class RegisterSnapshot:
    """The register to export: its controllers, and their activities read lazily in batches."""

    as_of: dt.date | None
    generated_at: dt.datetime
    controllers: list[Controller]
    _source: object = field(repr=False)
    with_evidence: bool = False
    _chain: object = field(default=None, repr=False)

    def activities(self, controller: Controller) -> Iterator[ActivityEntry]:
        """The controller's activities in reference order; ended ones included, with their end date."""
        entries = self._source.activities(controller)
        if not self.with_evidence:
            return entries
        return attach_evidence(entries, moment=self.moment, chain=self.chain)

    def vocabularies(self) -> Vocabularies:
        return self._source.vocabularies()

    @property
    def chain(self):
        """The erasure-evidence chain, walked once per export (``evidence.ChainStatus``)."""
        if self._chain is None:
            self._chain = chain_status()
        return self._chain

    @property
    def moment(self) -> dt.datetime:
        return end_of_day(self.as_of) if self.as_of else self.generated_at


def parse_as_of(as_of) -> dt.date | None:
    """A date, a datetime (its local date), "YYYY-MM-DD", or nothing; ``ExportError`` otherwise."""
    if as_of in (None, ""):
        return None
    if isinstance(as_of, dt.datetime):
        return timezone.localtime(as_of).date() if timezone.is_aware(as_of) else as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return parse_day(str(as_of))
    except NotADayError as error:
        raise ExportError(f"“{as_of}”: {error}") from None


def _controller_ids(controller) -> list[int] | None:
    """``None`` (all), a Controller, an id, a key, or several of those, as ids of existing controllers."""
    if controller is None:
        return None
    wanted = list(controller) if isinstance(controller, list | tuple | set | frozenset) else [controller]
    ids, keys = set(), set()
    for item in wanted:
        if isinstance(item, Controller):
            ids.add(item.pk)
        elif isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
            ids.add(int(item))
        elif isinstance(item, str) and item:
            keys.add(item)
        else:
            raise ExportError(f"Not a controller: {item!r}.")
    found = dict(Controller.objects.filter(pk__in=ids).values_list("pk", "key"))
    found.update({pk: key for key, pk in Controller.objects.filter(key__in=keys).values_list("key", "pk")})
    unknown = sorted({str(i) for i in ids if i not in found} | (keys - set(found.values())))
    if unknown:
        raise ExportError(f"No such controller: {', '.join(unknown)}.")
    return sorted(found)


def _refuse_outside_history(as_of: dt.date, now: dt.datetime) -> None:
    """A day the history cannot show: after today, or before its first entry (an empty register, not the
    register as it stood)."""
    today = timezone.localdate(now)
    if as_of > today:
        raise ExportError(
            f"{as_of} is in the future: the register can be shown as it stands or as it stood on {today} or before."
        )
    first = Controller.history.aggregate(first=Min("history_date"))["first"]
    if first is None:
        raise ExportError("The register has no history yet: it can only be shown as it stands.")
    since = timezone.localdate(first)
    if as_of < since:
        raise ExportError(f"The register's history starts on {since}: choose {since} or a later day.")


def register_snapshot(
    *, controller=None, as_of=None, with_evidence: bool = False, now: dt.datetime | None = None
) -> RegisterSnapshot:
    """The register of one controller, several, or all (``controller=None``), now or as of a date.

    ``as_of`` rebuilds the register from its version history as it stood at the end of that day (in
    the register's time zone): an activity ended since still shows, with its end date; one created
    later does not. Raises ``ExportError`` for an unknown controller, or one that did not exist yet.
    """
    now = now or timezone.now()
    as_of = parse_as_of(as_of)
    if as_of is not None:
        _refuse_outside_history(as_of, now)
    ids = _controller_ids(controller)
    source = _HistorySource(end_of_day(as_of)) if as_of else _LiveSource()
    controllers = source.controllers(ids)
    if ids is not None and len(controllers) < len(ids):
        missing = sorted(set(ids) - {c.pk for c in controllers})
        raise ExportError(f"Controller {', '.join(map(str, missing))} was not yet in the register on {as_of}.")
    return RegisterSnapshot(
        as_of=as_of, generated_at=now, controllers=controllers, _source=source, with_evidence=with_evidence
    )
