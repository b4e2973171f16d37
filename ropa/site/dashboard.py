"""The DPO's dashboard on the admin index: per controller, the figures a privacy team acts on.

Selectors only. Each figure is one function that answers for every visible controller at once with one
grouped query (``{controller_id: Cell}``), so the page costs a bounded number of queries however large
the register is. Every number links to the filtered admin list behind it.

To add a row: write one function here decorated with ``@figure(label)``; the template loops over the
rows, so nothing else changes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from processing.choices import ActivityStatus, ReviewStatus
from processing.models import Controller, ProcessingActivity
from retention import engine
from retention.breaches import reminders as breach_reminders
from retention.breaches.models import Breach
from retention.breaches.reminders import BreachDeadline
from retention.models import LegalHold, RetentionRule, RetentionRun, RunStatus
from ropa.access.scope import scoped
from ropa.kernel.dates import short_moment
from ropa.register.completeness import activity_gaps, controller_gaps
from ropa.register.evidence import chain_status
from ropa.register.snapshot import register_snapshot
from subjects.choices import REQUEST_DUE_DAYS, RecordStatus
from subjects.models import DataSubjectRequest, PersonalDataRecord

DUE_DAYS = 30
CHART_MONTHS = 12


@dataclass(frozen=True)
class Cell:
    """One figure of one controller: what to show, where it links, and how urgent it looks."""

    value: object
    url: str = ""
    tone: str = ""  # "", "ok", "warn" or "alert"
    note: str = ""


@dataclass
class Context:
    """What every figure function gets: the visible controllers, the moment, a memo for shared queries."""

    controllers: list[Controller]
    now: dt.datetime
    memo: dict = field(default_factory=dict)

    @property
    def ids(self) -> list[int]:
        return [c.pk for c in self.controllers]

    def once(self, key: str, compute: Callable[[], object]):
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    compute: Callable[[Context], dict[int, Cell]]


FIGURES: list[Figure] = []


def figure(label) -> Callable:
    """Register a dashboard row: ``compute(context) -> {controller_id: Cell}``; missing ids show 0."""

    def register(compute):
        FIGURES.append(Figure(key=compute.__name__, label=label, compute=compute))
        return compute

    return register


def _admin(name: str, **params) -> str:
    url = reverse(f"admin:{name}")
    return f"{url}?{urlencode(params)}" if params else url


def _grouped(queryset, key: str) -> dict[int, int]:
    return {row[key]: row["n"] for row in queryset.values(key).annotate(n=Count("pk", distinct=True)).order_by()}


# --- the rows --------------------------------------------------------------------------------------


def _activity_counts(ctx: Context) -> dict[tuple[int, str], int]:
    rows = (
        ProcessingActivity.objects.filter(controller_id__in=ctx.ids)
        .values("controller_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(row["controller_id"], row["status"]): row["n"] for row in rows}


@figure(_("active processing activities"))
def activities_active(ctx: Context) -> dict[int, Cell]:
    counts = ctx.once("activities", lambda: _activity_counts(ctx))
    return {
        pk: Cell(
            counts.get((pk, ActivityStatus.ACTIVE), 0),
            _admin("processing_processingactivity_changelist", controller__id__exact=pk, status__exact="active"),
        )
        for pk in ctx.ids
    }


@figure(_("ended processing activities"))
def activities_ended(ctx: Context) -> dict[int, Cell]:
    counts = ctx.once("activities", lambda: _activity_counts(ctx))
    return {
        pk: Cell(
            counts.get((pk, ActivityStatus.ENDED), 0),
            _admin("processing_processingactivity_changelist", controller__id__exact=pk, status__exact="ended"),
        )
        for pk in ctx.ids
    }


@figure(_("incomplete register entries (Art. 30)"))
def incomplete_entries(ctx: Context) -> dict[int, Cell]:
    """The activities lacking an Art. 30 item, and the controller's own identification (Art. 30(1)(a))
    counted as one entry more when it lacks one."""
    snapshot = register_snapshot(controller=ctx.ids, now=ctx.now)
    language = (get_language() or "en")[:2]
    cells = {}
    for controller in snapshot.controllers:
        n = bool(controller_gaps(controller)) + sum(
            1 for entry in snapshot.activities(controller) if activity_gaps(entry, language)
        )
        url = reverse("register-completeness") + "?" + urlencode({"controller": controller.pk})
        cells[controller.pk] = Cell(n, url, "warn" if n else "ok")
    return cells


@figure(_("activities transferring outside the EEA"))
def transfers_outside_eea(ctx: Context) -> dict[int, Cell]:
    counts = _grouped(
        ProcessingActivity.objects.filter(controller_id__in=ctx.ids, recipients__inside_eea=False), "controller_id"
    )
    return {
        pk: Cell(
            counts.get(pk, 0),
            _admin("processing_processingactivity_changelist", controller__id__exact=pk, third_country="yes"),
        )
        for pk in ctx.ids
    }


@figure(_("activities to review"))
def activities_to_review(ctx: Context) -> dict[int, Cell]:
    """Active activities whose review is due, overdue or needed after a change that matters (one query)."""
    today = timezone.localdate(ctx.now)
    todo, urgent = defaultdict(int), defaultdict(int)
    for _pk, controller, status in ProcessingActivity.objects.filter(controller_id__in=ctx.ids).review_rows(today):
        if status != ReviewStatus.CURRENT:
            todo[controller] += 1
            urgent[controller] += status != ReviewStatus.DUE
    return {
        pk: Cell(
            todo.get(pk, 0),
            _admin("processing_processingactivity_changelist", controller__id__exact=pk, review="todo"),
            "alert" if urgent.get(pk) else "warn" if todo.get(pk) else "ok",
        )
        for pk in ctx.ids
    }


@figure(_("records whose retention runs out within 30 days"))
def records_due(ctx: Context) -> dict[int, Cell]:
    due = PersonalDataRecord.objects.filter(
        activity__controller_id__in=ctx.ids,
        status=RecordStatus.ACTIVE,
        expires_at__gt=ctx.now,
        expires_at__lte=ctx.now + dt.timedelta(days=DUE_DAYS),
    )
    counts = _grouped(due, "activity__controller_id")
    return {
        pk: Cell(
            counts.get(pk, 0),
            _admin("subjects_personaldatarecord_changelist", activity__controller__id__exact=pk, due=str(DUE_DAYS)),
        )
        for pk in ctx.ids
    }


@figure(_("records that will never expire as things stand (no expiry date)"))
def records_never_expiring(ctx: Context) -> dict[int, Cell]:
    """Records not erased that have no expiry: no sweep takes them until their dates or rules change. The
    note counts those whose rules no registered date can ever end (``engine.never_expires``)."""
    groups = list(
        PersonalDataRecord.objects.filter(activity__controller_id__in=ctx.ids, expires_at__isnull=True)
        .exclude(status=RecordStatus.ERASED)
        .values("activity__controller_id", "activity_id", "data_category_id", "retention_rule_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rules = defaultdict(list)
    for rule in RetentionRule.objects.filter(activity_id__in={g["activity_id"] for g in groups}):
        rules[rule.activity_id].append(engine.RuleTerms.of(rule))
    total, by_rules = defaultdict(int), defaultdict(int)
    for group in groups:
        pk = group["activity__controller_id"]
        total[pk] += group["n"]
        applicable = engine.applicable_rules(
            rules[group["activity_id"]],
            data_category_id=group["data_category_id"],
            named_rule_id=group["retention_rule_id"],
        )
        if engine.never_expires(applicable):
            by_rules[pk] += group["n"]
    return {
        pk: Cell(
            total.get(pk, 0),
            _admin("subjects_personaldatarecord_changelist", activity__controller__id__exact=pk, expiry="none"),
            "warn" if total.get(pk) else "",
            note=_("%(n)s under rules that no date ends") % {"n": by_rules[pk]} if by_rules.get(pk) else "",
        )
        for pk in ctx.ids
    }


@figure(_("records flagged, awaiting erasure"))
def records_flagged(ctx: Context) -> dict[int, Cell]:
    flagged = PersonalDataRecord.objects.filter(activity__controller_id__in=ctx.ids, status=RecordStatus.FLAGGED)
    counts = _grouped(flagged, "activity__controller_id")
    return {
        pk: Cell(
            counts.get(pk, 0),
            reverse("retention-review") + "?" + urlencode({"controller": pk}),
            "warn" if counts.get(pk) else "",
        )
        for pk in ctx.ids
    }


@figure(_("legal holds in force"))
def holds_in_force(ctx: Context) -> dict[int, Cell]:
    holds = LegalHold.objects.in_force().annotate(
        owner=Coalesce(
            "controller_id", "activity__controller_id", "subject__controller_id", "record__activity__controller_id"
        )
    )
    counts = _grouped(holds.filter(owner__in=ctx.ids), "owner")
    return {
        pk: Cell(counts.get(pk, 0), _admin("retention_legalhold_changelist", controller=pk, state="in_force"))
        for pk in ctx.ids
    }


def _requests(ctx: Context) -> tuple[dict[int, int], dict[int, int]]:
    """Open data-subject requests due within a week and overdue, per controller (one query)."""

    def compute():
        today = timezone.localdate(ctx.now)
        rows = (
            DataSubjectRequest.objects.running()
            .filter(controller_id__in=ctx.ids, due_on__lte=today + dt.timedelta(days=REQUEST_DUE_DAYS))
            .values("controller_id")
            .annotate(overdue=Count("pk", filter=Q(due_on__lt=today)), soon=Count("pk", filter=Q(due_on__gte=today)))
            .order_by()
        )
        return {r["controller_id"]: r["soon"] for r in rows}, {r["controller_id"]: r["overdue"] for r in rows}

    return ctx.once("requests", compute)


@figure(format_lazy(_("data-subject requests due within {days} days"), days=REQUEST_DUE_DAYS))
def requests_due(ctx: Context) -> dict[int, Cell]:
    soon, _overdue = _requests(ctx)
    return {
        pk: Cell(
            soon.get(pk, 0),
            _admin("subjects_datasubjectrequest_changelist", controller__id__exact=pk, deadline="due7"),
            "warn" if soon.get(pk) else "",
        )
        for pk in ctx.ids
    }


@figure(_("data-subject requests overdue"))
def requests_overdue(ctx: Context) -> dict[int, Cell]:
    _soon, overdue = _requests(ctx)
    return {
        pk: Cell(
            overdue.get(pk, 0),
            _admin("subjects_datasubjectrequest_changelist", controller__id__exact=pk, deadline="overdue"),
            "alert" if overdue.get(pk) else "ok",
        )
        for pk in ctx.ids
    }


def _breaches(ctx: Context) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Open breaches, those with a deadline within 24 hours and the overdue, per controller (three queries)."""

    def compute():
        breaches = Breach.objects.filter(controller_id__in=ctx.ids)
        opened = _grouped(breach_reminders.by_deadline(breaches, BreachDeadline.OPEN), "controller_id")
        soon, overdue = defaultdict(int), defaultdict(int)
        for deadline in breach_reminders.open_deadlines(breaches):
            if breach_reminders.is_overdue(deadline, ctx.now):
                overdue[deadline.controller_id] += 1
            elif breach_reminders.is_due_within_24h(deadline, ctx.now):
                soon[deadline.controller_id] += 1
        return opened, soon, overdue

    return ctx.once("breaches", compute)


def _breach_cells(counts: dict[int, int], ctx: Context, deadline: str, tone: str, none: str = "") -> dict[int, Cell]:
    return {
        pk: Cell(
            counts.get(pk, 0),
            _admin("breaches_breach_changelist", controller__id__exact=pk, deadline=deadline),
            tone if counts.get(pk) else none,
        )
        for pk in ctx.ids
    }


@figure(_("breaches open"))
def breaches_open(ctx: Context) -> dict[int, Cell]:
    return _breach_cells(_breaches(ctx)[0], ctx, BreachDeadline.OPEN, "")


@figure(_("breaches with a deadline within 24 hours"))
def breaches_due(ctx: Context) -> dict[int, Cell]:
    return _breach_cells(_breaches(ctx)[1], ctx, BreachDeadline.DUE_24H, "warn")


@figure(_("breaches overdue"))
def breaches_overdue(ctx: Context) -> dict[int, Cell]:
    return _breach_cells(_breaches(ctx)[2], ctx, BreachDeadline.OVERDUE, "alert", none="ok")


@figure(_("last retention run and its evidence"))
def last_run(ctx: Context) -> dict[int, Cell]:
    runs = RetentionRun.objects.filter(dry_run=False)
    latest_all = runs.filter(controller__isnull=True).order_by("-started_at", "-id").first()
    starts = dict(
        runs.filter(controller_id__in=ctx.ids)
        .values_list("controller_id")
        .annotate(last=Max("started_at"))
        .order_by()
        .values_list("controller_id", "last")
    )
    own = {}
    if starts:
        latest = Q(*[Q(controller_id=pk, started_at=at) for pk, at in starts.items()], _connector=Q.OR)
        own = {run.controller_id: run for run in runs.filter(latest).order_by("started_at", "id")}
    chain = chain_status() if (own or latest_all) else None
    cells = {}
    for pk in ctx.ids:
        candidates = [run for run in (own.get(pk), latest_all) if run is not None]
        if not candidates:
            cells[pk] = Cell(_("never"), _admin("retention_retentionrun_changelist"), "warn")
            continue
        run = max(candidates, key=lambda r: (r.started_at, r.pk))
        # One chain holds every erasure: broken anywhere, no run's evidence can be trusted.
        verifies = chain.verifies
        failed = run.status in (RunStatus.FAILED, RunStatus.INTERRUPTED)
        cells[pk] = Cell(
            short_moment(run.started_at),
            reverse("admin:retention_retentionrun_change", args=[run.pk]),
            "alert" if (failed or not verifies) else "ok",
            note=(
                (_("evidence chain verifies") if verifies else _("evidence chain is broken"))
                + (f" · {run.get_status_display()}" if run.status != RunStatus.FINISHED else "")
            ),
        )
    return cells


# --- the page --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One month of the chart; its words are in the active language (Django's month names and formats)."""

    label: str  # the month and year, e.g. "juin 2026"
    short: str  # under the bar: the month abbreviated, e.g. "juin", "mrt", "Sept."
    year: str
    count: int
    title: str  # the tooltip: month and count, e.g. "June 2026: 3 records"
    url: str
    x: float
    y: float
    height: float


@dataclass
class Dashboard:
    controllers: list[Controller]
    rows: list[tuple[str, list[Cell]]]
    chart: list[Bar]
    chart_max: int
    chart_total: int


def due_per_month(ctx: Context, *, months: int = CHART_MONTHS) -> list[tuple[dt.date, int]]:
    """Active records whose retention runs out in each of the next ``months`` calendar months (this one
    counted from now), for the visible controllers: one grouped query."""
    tz = timezone.get_current_timezone()
    local = timezone.localtime(ctx.now, tz)
    starts = []
    year, month = local.year, local.month
    for _i in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    end = dt.datetime(year, month, 1, tzinfo=tz)
    rows = (
        PersonalDataRecord.objects.filter(
            activity__controller_id__in=ctx.ids,
            status=RecordStatus.ACTIVE,
            expires_at__gt=ctx.now,
            expires_at__lt=end,
        )
        .annotate(month=TruncMonth("expires_at", tzinfo=tz))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = defaultdict(int)
    for row in rows:
        month_start = row["month"]
        month_start = month_start.date() if isinstance(month_start, dt.datetime) else month_start
        counts[month_start.replace(day=1)] += row["n"]
    return [(start, counts.get(start, 0)) for start in starts]


CHART_HEIGHT = 120
BAR_WIDTH = 34
BAR_GAP = 10


def _bars(series: list[tuple[dt.date, int]]) -> tuple[list[Bar], int]:
    """Bar geometry for the inline SVG chart; the tallest bar is CHART_HEIGHT high. Months are named by
    Django's date formatting in the active language ("N": the abbreviations of each language's own usage,
    "mrt", "juil.", "Sept."), never by ``strftime``, which follows the process's C locale."""
    top = max((n for _m, n in series), default=0)
    bars = []
    for i, (start, n) in enumerate(series):
        height = max(2.0, CHART_HEIGHT * n / top) if n else 0.0
        label = formats.date_format(start, "YEAR_MONTH_FORMAT")
        bars.append(
            Bar(
                label=label,
                short=formats.date_format(start, "N"),
                year=formats.date_format(start, "Y") if i == 0 or start.month == 1 else "",
                count=n,
                title=ngettext("%(month)s: %(count)s record", "%(month)s: %(count)s records", n)
                % {"month": label, "count": n},
                url=_admin("subjects_personaldatarecord_changelist", due=start.isoformat()[:7]),
                x=i * (BAR_WIDTH + BAR_GAP),
                y=CHART_HEIGHT - height,
                height=height,
            )
        )
    return bars, top


def dashboard(*, user, now: dt.datetime | None = None) -> Dashboard:
    """Every figure for the controllers ``user`` may see."""
    controllers = list(scoped(Controller.objects.order_by("name"), user, "pk"))
    ctx = Context(controllers=controllers, now=now or timezone.now())
    rows = []
    for item in FIGURES:
        cells = item.compute(ctx) if controllers else {}
        rows.append((item.label, [cells.get(c.pk, Cell(0)) for c in controllers]))
    series = due_per_month(ctx) if controllers else []
    bars, top = _bars(series)
    return Dashboard(
        controllers=controllers,
        rows=rows,
        chart=bars,
        chart_max=top,
        chart_total=sum(n for _m, n in series),
    )
