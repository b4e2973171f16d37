"""Synthetic personal-data records for a trial register, so that a newcomer sees retention at work."""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Case, Count, Q, When
from django.utils import timezone

from processing.choices import ActivityStatus
from processing.models import Controller, ProcessingActivity
from retention.choices import Action
from retention.engine import TRIGGER_DATE_FIELDS, add_period
from retention.models import LegalHold, RetentionRule, RetentionRun
from retention.services import legal_hold_place, record_upsert, retention_enforce, subject_register
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord

SOURCE_SYSTEM = "demo"
# Days from today to each record's end of retention: three already past, two within the dashboard's 30 days.
OFFSETS = (-90, -40, -5, 7, 20, 120, 400)
ACTIVITIES_PER_CONTROLLER = 2
HOLD_REASON = "Demo: a dispute with this (synthetic) customer is pending."


class Command(BaseCommand):
    help = (
        "Add synthetic personal-data records (source system 'demo') to up to two activities of every controller: "
        "some past their retention, some due within 30 days, others later, one under a legal hold; then sweep once, "
        "so the dashboard, the review queue and the retention evidence show the register at work. Running it again "
        "adds nothing. Refused when DJANGO_DEBUG=false: a real register holds no invented people."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("load_demo adds invented people: it is for a trial register (DJANGO_DEBUG=true) only.")
        done = RetentionRun.objects.filter(origin="demo").order_by("pk").first()
        if done is not None:
            self.stdout.write(f"The demo records are in already (swept by run {done.pk}): nothing added.")
            return
        now = timezone.now()
        today = timezone.localdate(now)
        created = activities = 0
        controllers = set()
        for activity, rule in _demo_activities():
            activities += 1
            controllers.add(activity.controller_id)
            created += _register(activity, rule, today=today, now=now)
        if not activities:
            raise CommandError("No active activity has a retention rule with a period: load the statements first.")
        held = _hold_one(now)
        mine = PersonalDataRecord.objects.filter(source_system=SOURCE_SYSTEM)
        self.stdout.write(
            f"{created} synthetic records registered (source system '{SOURCE_SYSTEM}') for {activities} activities of "
            f"{len(controllers)} controllers; in all, {mine.filter(expires_at__lte=now).count()} past their retention, "
            f"{mine.filter(expires_at__gt=now, expires_at__lte=now + dt.timedelta(days=30)).count()} due within 30 days"
            f"{', one under a legal hold' if held else ''}."
        )
        run = retention_enforce(now=now, origin="demo")
        self.stdout.write(
            f"Sweep (run {run.pk}): flagged {run.flagged}, anonymised {run.anonymised}, deleted {run.deleted}, "
            f"kept for a legal hold {run.skipped_for_hold}."
        )


def _demo_activities():
    """Per controller, its first active activities with a rule that has a period and a dated trigger, with
    that rule; activities whose rule only flags come first (their records wait in the review queue, where
    the others' are erased by the sweep)."""
    rules = RetentionRule.objects.filter(
        duration_value__gt=0, trigger__in=[t for t in TRIGGER_DATE_FIELDS if t != "relevance_end"]
    ).order_by(Case(When(action=Action.FLAG, then=0), default=1), "position", "id")
    for controller in Controller.objects.order_by("key"):
        taken = 0
        activities = ProcessingActivity.objects.filter(controller=controller, status=ActivityStatus.ACTIVE)
        flagging_first = activities.annotate(
            flags=Count("retention_rules", filter=Q(retention_rules__action=Action.FLAG))
        ).order_by("-flags", "reference")
        for activity in flagging_first:
            rule = rules.filter(activity=activity).first()
            if rule is None or not (rule.data_category_id or activity.data_categories.exists()):
                continue
            yield activity, rule
            taken += 1
            if taken == ACTIVITIES_PER_CONTROLLER:
                break


def _register(activity, rule, *, today: dt.date, now: dt.datetime) -> int:
    """One record per offset, its trigger date set so that the rule it names runs out that many days from
    today; returns how many were new."""
    category = rule.data_category or activity.data_categories.order_by("code").first()
    created = 0
    for n, offset in enumerate(OFFSETS):
        start = add_period(today + dt.timedelta(days=offset), -rule.duration_value, rule.duration_unit)
        registration = record_upsert(
            subject=subject_register(controller=activity.controller, key=f"demo-{activity.reference.lower()}-{n}"),
            activity=activity,
            data_category=category,
            source_system=SOURCE_SYSTEM,
            external_id=f"{activity.reference}-{n}",
            payload={"name": f"Demo person {n} ({activity.reference})", "synthetic": True},
            dates={TRIGGER_DATE_FIELDS[rule.trigger]: start},
            retention_rule=rule,
            now=now,
        )
        created += registration.outcome == "created"
    return created


def _hold_one(now: dt.datetime) -> bool:
    """A legal hold on one record past its retention under a rule that erases, so that the sweep shows what
    it keeps."""
    if LegalHold.objects.filter(reason=HOLD_REASON).exists():
        return True
    record = (
        PersonalDataRecord.objects.filter(
            source_system=SOURCE_SYSTEM,
            status=RecordStatus.ACTIVE,
            expires_at__lte=now,
            retention_rule__action__in=[Action.ANONYMISE, Action.DELETE],
        )
        .order_by("expires_at", "id")
        .first()
    )
    if record is None:
        return False
    dpo = get_user_model().objects.filter(is_superuser=True).order_by("id").first()
    legal_hold_place(record=record, reason=HOLD_REASON, actor=dpo, now=now)
    return True
