"""Reminders of a breach's deadlines, and the deadlines the admin's filter and the dashboard count.

A breach has at most one open deadline at a time:
- ``notify``: notifying the supervisory authority (Art. 33(1)), ``Breach.notification_due_at``, while the
  breach is received or assessed and no initial notification is on record;
- ``complement``: the complementary notification (Part 2), ``services.complement_due_at``, while the
  initial one is on record, the complementary one is not and the breach is not closed.

The beat job (``tasks.breach_remind_task``, every 15 minutes by default) mails the DPO 24 hours and 6 hours
before each open deadline and once when it is missed. Each reminder goes out once per breach and deadline:
``Breach.reminders_sent`` keeps what was sent (``{"notify": ["24h", "6h"], "complement": ["missed"]}``),
read and written under a row lock, so two beats running at once never mail the same reminder twice. A
reminder that comes too late to matter is not sent after a more urgent one (a breach reported with five
hours left gets the 6-hour reminder, never the 24-hour one after it).

The mail names a breach by its id, title, controller and the time left, with a link to its admin page:
never its description, nor anyone it concerns. Like the request reminder it is written in English."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processing.models import Controller
from ropa.kernel.mail import dpo_link, dpo_mail

from . import rules, services
from .choices import BreachStatus, FilingPhase
from .models import Breach, BreachFiling

logger = logging.getLogger(__name__)

NOTIFY, COMPLEMENT = "notify", "complement"
KINDS = (NOTIFY, COMPLEMENT)
# The breach statuses in which the authority is still to be notified.
NOTIFY_STATUSES = (BreachStatus.RECEIVED, BreachStatus.ASSESSED)

MISSED, HOURS_6, HOURS_24 = "missed", "6h", "24h"
# The reminders of one deadline, each with how long before the deadline it is due, the most urgent last.
STAGES = ((HOURS_24, dt.timedelta(hours=24)), (HOURS_6, dt.timedelta(hours=6)), (MISSED, dt.timedelta(0)))
RANK = {name: rank for rank, (name, _before) in enumerate(STAGES, start=1)}
HORIZON = dt.timedelta(hours=24)

WHAT = {
    NOTIFY: "notify the supervisory authority (Art. 33(1))",
    COMPLEMENT: "complementary notification to the supervisory authority (Part 2, Art. 33(4))",
}
HEADINGS = {MISSED: "Missed", HOURS_6: "Within 6 hours", HOURS_24: "Within 24 hours"}


class BreachDeadline(models.TextChoices):
    """The deadline filter of the breach list (``?deadline=``), and the dashboard's links to it."""

    OPEN = "open", _("open")
    DUE_24H = "due24", _("deadline within 24 hours")
    OVERDUE = "overdue", _("overdue")


@dataclass(frozen=True)
class OpenDeadline:
    breach_id: int
    controller_id: int
    kind: str  # NOTIFY or COMPLEMENT
    due_at: dt.datetime


def open_deadlines(queryset=None) -> list[OpenDeadline]:
    """The open deadline of every breach of ``queryset`` (all breaches: None) that has one: two queries."""
    breaches = (Breach.objects.all() if queryset is None else queryset).order_by()
    initial = BreachFiling.objects.filter(breach=OuterRef("pk"), phase=FilingPhase.INITIAL)
    complementary = BreachFiling.objects.filter(breach=OuterRef("pk"), phase=FilingPhase.COMPLEMENTARY)
    notify = (
        breaches.filter(status__in=NOTIFY_STATUSES)
        .exclude(Exists(initial))
        .values_list("pk", "controller_id", "notification_due_at")
    )
    pending = (
        breaches.exclude(status=BreachStatus.CLOSED)
        .filter(Exists(initial))
        .exclude(Exists(complementary))
        .annotate(initial_at=Subquery(initial.order_by("filed_at").values("filed_at")[:1]))
        .values_list("pk", "controller_id", "initial_at")
    )
    found = [OpenDeadline(pk, controller_id, NOTIFY, due_at) for pk, controller_id, due_at in notify]
    days = services.complement_days()
    found += [
        OpenDeadline(pk, controller_id, COMPLEMENT, rules.complement_due_at(at, days=days, tz=settings.TIME_ZONE))
        for pk, controller_id, at in pending
    ]
    return sorted(found, key=lambda d: (d.due_at, d.breach_id))


def is_overdue(deadline: OpenDeadline, now: dt.datetime) -> bool:
    return deadline.due_at < now


def is_due_within_24h(deadline: OpenDeadline, now: dt.datetime) -> bool:
    return now <= deadline.due_at <= now + HORIZON


def by_deadline(queryset, value: str, now: dt.datetime | None = None):
    """The breaches of ``queryset`` a ``BreachDeadline`` value names (any other value: all of them)."""
    now = now or timezone.now()
    if value == BreachDeadline.OPEN:
        return queryset.exclude(status=BreachStatus.CLOSED)
    test = {BreachDeadline.DUE_24H: is_due_within_24h, BreachDeadline.OVERDUE: is_overdue}.get(value)
    if test is None:
        return queryset
    return queryset.filter(pk__in=[d.breach_id for d in open_deadlines(queryset) if test(d, now)])


def stage(left: dt.timedelta) -> str | None:
    """The reminder a deadline ``left`` away calls for: "missed", "6h", "24h", or None (more than a day)."""
    for name, before in reversed(STAGES):
        if (left < before) if name == MISSED else (left <= before):
            return name
    return None


def duration(delta: dt.timedelta) -> str:
    """ "1 d 3 h", "5 h 20 min", "40 min": the size of ``delta``, whatever its sign."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@dataclass(frozen=True)
class Reminder:
    breach: Breach
    kind: str
    stage: str
    due_at: dt.datetime


def _moment(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _line(reminder: Reminder, controllers: dict[int, str], now: dt.datetime) -> str:
    breach, left = reminder.breach, reminder.due_at - now
    when = f"overdue by {duration(left)}" if left < dt.timedelta(0) else f"{duration(left)} left"
    title = " ".join(breach.title.split())
    link = dpo_link(reverse("admin:breaches_breach_change", args=[breach.pk]))
    return (
        f"  #{breach.pk} {title} ({controllers.get(breach.controller_id, '?')}): {WHAT[reminder.kind]}, "
        f"due {_moment(reminder.due_at)}, {when}: {link}"
    )


def _mail(reminders: list[Reminder], now: dt.datetime) -> None:
    controllers = dict(
        Controller.objects.filter(pk__in={r.breach.controller_id for r in reminders}).values_list("pk", "key")
    )
    counts = {name: sum(1 for r in reminders if r.stage == name) for name in HEADINGS}
    summary = ", ".join(f"{counts[name]} {HEADINGS[name].lower()}" for name in HEADINGS if counts[name])
    changelist = dpo_link(reverse("admin:breaches_breach_changelist"))
    lines = [f"Personal-data breach deadlines on {_moment(now)} ({settings.TIME_ZONE}): {summary}.", ""]
    for name, heading in HEADINGS.items():
        chosen = [r for r in reminders if r.stage == name]
        if chosen:
            lines += [f"{heading}:", *(_line(r, controllers, now) for r in chosen), ""]
    lines += [
        f"Overdue breaches: {changelist}?deadline={BreachDeadline.OVERDUE}",
        f"Breaches with a deadline within 24 hours: {changelist}?deadline={BreachDeadline.DUE_24H}",
    ]
    dpo_mail(subject=f"breach deadlines: {summary}", lines=lines)


def breach_remind(*, now: dt.datetime | None = None) -> dict[str, dict[str, list[int]]]:
    """Mail the DPO the reminders due at ``now`` that were not sent yet, in one mail, and record them.
    Returns what was sent, ``{"notify": {"6h": [breach ids]}, "complement": {"missed": [...]}}`` (empty: no
    mail). Without a DPO address nothing is sent, and nothing recorded. A failing mail server raises and
    records nothing: the next beat tries again."""
    now = now or timezone.now()
    if not settings.ROPA_DPO_EMAILS:
        return {}
    with transaction.atomic():
        near = [d.breach_id for d in open_deadlines() if d.due_at <= now + HORIZON]
        if not near:
            return {}
        # Lock the rows, then read their deadlines and what was sent again: a second beat waits here and
        # then finds the first one's reminders recorded.
        locked = {b.pk: b for b in Breach.objects.select_for_update().filter(pk__in=near).order_by("pk")}
        reminders = []
        for deadline in open_deadlines(Breach.objects.filter(pk__in=list(locked))):
            name = stage(deadline.due_at - now)
            breach = locked[deadline.breach_id]
            sent = (breach.reminders_sent or {}).get(deadline.kind, [])
            if name is None or max((RANK.get(s, 0) for s in sent), default=0) >= RANK[name]:
                continue
            reminders.append(Reminder(breach=breach, kind=deadline.kind, stage=name, due_at=deadline.due_at))
        if not reminders:
            return {}
        _mail(reminders, now)
        result: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for reminder in reminders:
            breach = reminder.breach
            record = {kind: list(stages) for kind, stages in (breach.reminders_sent or {}).items()}
            record.setdefault(reminder.kind, []).append(reminder.stage)
            # Bookkeeping of the job, not a change to the register: no save(), no audit event.
            Breach.objects.filter(pk=breach.pk).update(reminders_sent=record)
            breach.reminders_sent = record
            result[reminder.kind][reminder.stage].append(breach.pk)
    logger.info("breach deadline reminders sent: %s", {k: dict(v) for k, v in result.items()})
    return {kind: dict(stages) for kind, stages in result.items()}
