"""Reads of the breach register: the records and people a scope's criteria select, and the counts."""

from __future__ import annotations

import re
from collections import defaultdict

from django.db.models import Case, IntegerField, Value, When
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from processing.models import DataCategory, ProcessingActivity
from ropa.kernel.dates import short_day
from subjects.choices import RecordStatus
from subjects.models import DataSubject, PersonalDataRecord
from subjects.package import AUTHORITIES

from .models import Breach, BreachScope, RiskAssessment


def scope_records(breach: Breach, criteria: dict):
    """The live records of the breach's controllers that ``criteria`` select: ``activities`` (ids),
    ``source_systems``, ``data_categories`` (codes), ``registered_from`` / ``registered_until`` (ISO
    moments); an empty criterion selects everything of its kind."""
    controllers = [breach.controller_id, *breach.other_controllers.values_list("pk", flat=True)]
    records = PersonalDataRecord.objects.filter(activity__controller_id__in=controllers).exclude(
        status=RecordStatus.ERASED
    )
    if criteria.get("activities"):
        records = records.filter(activity_id__in=criteria["activities"])
    if criteria.get("source_systems"):
        records = records.filter(source_system__in=criteria["source_systems"])
    if criteria.get("data_categories"):
        records = records.filter(data_category__code__in=criteria["data_categories"])
    if criteria.get("registered_from"):
        records = records.filter(created_at__gte=criteria["registered_from"])
    if criteria.get("registered_until"):
        records = records.filter(created_at__lte=criteria["registered_until"])
    return records


def scope_subjects(scope: BreachScope):
    """The people a scope's criteria select now (for the Art. 34 communication): never stored."""
    return DataSubject.objects.filter(pk__in=scope_records(scope.breach, scope.criteria).values("subject_id"))


def scope_counts(breach: Breach, criteria: dict) -> dict:
    """Records and distinct people per data category and in all, special categories, controllers and
    the countries of the recipients of the activities involved."""
    records = scope_records(breach, criteria)
    per_category: dict[str, dict] = defaultdict(lambda: {"records": 0, "subjects": set()})
    activity_ids, subjects = set(), set()
    for category_id, subject_id, activity_id in records.values_list("data_category_id", "subject_id", "activity_id"):
        per_category[category_id]["records"] += 1
        per_category[category_id]["subjects"].add(subject_id)
        activity_ids.add(activity_id)
        subjects.add(subject_id)
    categories = {c.pk: c for c in DataCategory.objects.filter(pk__in=per_category)}
    activities = ProcessingActivity.objects.filter(pk__in=activity_ids).select_related("controller")
    countries = sorted(
        {str(r.country) for a in activities.prefetch_related("recipients") for r in a.recipients.all() if r.country}
    )
    return {
        "records": sum(c["records"] for c in per_category.values()),
        "subjects": len(subjects),
        "per_category": {
            categories[pk].code: {"records": c["records"], "subjects": len(c["subjects"])}
            for pk, c in sorted(per_category.items(), key=lambda item: categories[item[0]].code)
        },
        "special_categories": sorted(c.code for c in categories.values() if c.special_category or c.criminal),
        "activities": sorted(a.reference for a in activities),
        "controllers": sorted({a.controller.key for a in activities}),
        "recipient_countries": countries,
    }


NATURE_SENTENCES = {
    "confidentiality": _("Someone who should not have been able to may have seen your data."),
    "integrity": _("Your data may have been changed without authority."),
    "availability": _("Your data was lost, or could not be reached for a while."),
}


def communication_draft(breach: Breach, language: str) -> str:
    """The communication to the people concerned (Art. 34(2)), in plain ``language``: what happened, the
    data concerned, the likely consequences, the measures taken, what they can do, whom to ask. Built from
    the breach's facts; it names no one but the controller and its contact (never a data subject)."""
    with translation.override(language):
        scope = breach.scopes.order_by("-computed_at", "-id").first()
        codes = list((scope.counts.get("per_category") or {}) if scope else [])
        categories = [c.localized("name") for c in DataCategory.objects.filter(code__in=codes).order_by("code")]
        latest = latest_assessment(breach)
        controller = breach.controller
        contact = ", ".join(
            filter(None, [controller.dpo_name, controller.dpo_email or controller.email, controller.dpo_phone])
        )
        context = {
            "controller": controller,
            "natures": [str(NATURE_SENTENCES[n]) for n in breach.natures()],
            "occurred": short_day(breach.occurred_from) if breach.occurred_from else "",
            "aware": short_day(breach.aware_at),
            "categories": categories,
            "consequences": latest.consequences if latest else "",
            "measures": latest.mitigations if latest else "",
            "contact": contact or controller.name,
            "authority": controller.supervisory_authority or AUTHORITIES.get(str(controller.country), ""),
        }
        text = render_to_string("breaches/communication.txt", context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def latest_assessment(breach: Breach) -> RiskAssessment | None:
    return breach.assessments.order_by("-version").first()


def open_breaches():
    return Breach.objects.exclude(status="closed")


def urgent_first(queryset):
    """Open breaches first, the nearest deadline leading."""
    closed_last = Case(When(status="closed", then=Value(1)), default=Value(0), output_field=IntegerField())
    return queryset.order_by(closed_last, "notification_due_at", "-id")
