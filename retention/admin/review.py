"""The review queue: flagged records grouped by activity and rule, and the DPO's decisions on them (erase
now, keep until a day, hold, let the erasure proceed), each through ``retention.review``."""


from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from processing.models import Controller, ProcessingActivity
from ropa.access.admin_mixins import RelatedInScopeListFilter
from ropa.access.scope import may_see_personal_data, scope_q, scoped
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord, ReviewDecision

from .. import engine
from ..models import RetentionRule
from ..review import (
    flagged_records_erase,
    flagged_records_hold,
    flagged_records_keep_until,
    flagged_records_release,
)
from ..selectors import held_q
from .readonly import ReadOnlyAdmin

# --- the review queue: flagged records, grouped by activity and rule ------------------------------

REVIEW_SHOWN_PER_GROUP = 25
REVIEW_ACTIONS = {
    "hold": ("retention.add_legalhold", _("Place a legal hold")),
    "release": ("subjects.change_personaldatarecord", _("Let erasure proceed at the next sweep")),
    "erase": ("subjects.delete_personaldatarecord", _("Erase now (flag-only rule: your decision)")),
    "keep": ("subjects.change_personaldatarecord", _("Keep until a date, then review again (flag-only rule)")),
}
REFUSAL_LABELS = {
    "not_flagged": _("no longer flagged"),
    "rule_erases": _("their rule erases by itself"),
    "not_expired": _("retention not run out"),
    "held": _("under a legal hold"),
    "statutory": _("inside a statutory minimum"),
}


class ReviewConfirmForm(forms.Form):
    """The reason every decision in the queue takes; keeping also takes the day the record comes back."""

    LABELS = {
        "hold": (_("Reason for the hold"), _("Litigation, an investigation, a request of the data subject, ...")),
        "erase": (
            _("Reason for erasing now"),
            _("Why the data is no longer needed. Kept as evidence of the decision: keep personal data out."),
        ),
        "keep": (
            _("Reason for keeping"),
            _("Why the data is still needed until then. Kept as evidence of the decision: keep personal data out."),
        ),
    }

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))
    until = forms.DateField(
        label=_("Keep until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=_("The record leaves the queue and the sweep flags it again on this day."),
    )

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        label, help_text = self.LABELS.get(action, self.LABELS["hold"])
        self.fields["reason"].label, self.fields["reason"].help_text = label, help_text
        if action == "keep":
            self.fields["until"].required = True
        else:
            del self.fields["until"]


def _flagged(request):
    records = PersonalDataRecord.objects.filter(status=RecordStatus.FLAGGED)
    condition = scope_q(request.user, "activity__controller")
    return records if condition is None else records.filter(condition)


def _review_selection(data, flagged):
    """The records a request names: single records (``record``) and whole groups (``group`` = activity:rule)."""
    ids = [int(pk) for pk in data.getlist("record") if pk.isdigit()]
    condition = Q(pk__in=ids)
    for group in data.getlist("group"):
        activity, _sep, rule = group.partition(":")
        if activity.isdigit():
            condition |= Q(activity_id=int(activity), expiry_rule_id=int(rule) if rule.isdigit() else None)
    return flagged.filter(condition)


def _review_groups(flagged, controller_id=None):
    """Groups (activity, deciding rule) with counts and erasure dates, and their first records: three
    queries, however many records are flagged."""
    if controller_id:
        flagged = flagged.filter(activity__controller_id=controller_id)
    held = flagged.filter(held_q())
    rows = list(
        flagged.values("activity_id", "expiry_rule_id")
        .annotate(n=Count("pk"), first=Min("erase_after"), last=Max("erase_after"))
        .order_by("activity_id", "expiry_rule_id")
    )
    activities = ProcessingActivity.objects.select_related("controller").in_bulk([r["activity_id"] for r in rows])
    rules = RetentionRule.objects.in_bulk([r["expiry_rule_id"] for r in rows if r["expiry_rule_id"]])
    shown = (
        flagged.annotate(
            is_held=Exists(held.filter(pk=OuterRef("pk"))),
            review_rank=Window(
                RowNumber(), partition_by=[F("activity_id"), F("expiry_rule_id")], order_by=[F("erase_after"), F("pk")]
            ),
        )
        .select_related("data_category")
        .order_by("activity_id", "expiry_rule_id", "erase_after", "pk")
    )
    members = defaultdict(list)
    for record in shown.filter(review_rank__lte=REVIEW_SHOWN_PER_GROUP):
        members[(record.activity_id, record.expiry_rule_id)].append(record)
    groups = []
    for row in rows:
        key = (row["activity_id"], row["expiry_rule_id"])
        rule = rules.get(row["expiry_rule_id"])
        groups.append(
            {
                "key": f"{key[0]}:{key[1] or ''}",
                "activity": activities.get(row["activity_id"]),
                "rule": rule,
                "sentence": rule.sentence() if rule else _("no deciding rule"),
                # A flag-only rule never erases: its records have no erasure date, they await a decision.
                "erases": bool(rule and rule.action in engine.ERASING_ACTIONS),
                "count": row["n"],
                "first": row["first"],
                "last": row["last"],
                "records": members.get(key, []),
                "more": row["n"] - len(members.get(key, [])),
            }
        )
    return groups


def _refusals(outcome) -> str:
    return ", ".join(
        f"{len(ids)} {REFUSAL_LABELS.get(why, why)}" for why, ids in outcome.refused.items()
    ) or "-"


def _decide(request, action: str, selection, form) -> None:
    """Carry out a confirmed decision through the services and say what was done."""
    if action == "hold":
        holds = flagged_records_hold(records=selection, reason=form.cleaned_data["reason"], actor=request.user)
        messages.success(request, _("%(n)d legal hold(s) placed.") % {"n": len(holds)})
    elif action == "release":
        outcome = flagged_records_release(records=selection, actor=request.user)
        messages.success(
            request,
            _("Erasure approved for %(n)d record(s); the next sweep erases them. %(skipped)d skipped "
              "(held, no longer flagged, or their rule only flags: decide with “Erase now” or “Keep until”).")
            % {"n": outcome.done, "skipped": outcome.skipped},
        )
    elif action == "erase":
        outcome = flagged_records_erase(records=selection, reason=form.cleaned_data["reason"], actor=request.user)
        level = messages.success if outcome.done else messages.warning
        level(
            request,
            _("%(n)d record(s) erased now, with a tombstone and an erasure-feed line each (run %(runs)s). "
              "Refused: %(refused)s.")
            % {"n": outcome.done, "runs": ", ".join(f"#{pk}" for pk in outcome.runs) or "-",
               "refused": _refusals(outcome)},
        )
    elif action == "keep":
        until = form.cleaned_data["until"]
        outcome = flagged_records_keep_until(
            records=selection, until=until, reason=form.cleaned_data["reason"], actor=request.user
        )
        level = messages.success if outcome.done else messages.warning
        level(
            request,
            _("%(n)d record(s) kept until %(until)s: they leave the queue and come back flagged on that day. "
              "Refused: %(refused)s.")
            % {"n": outcome.done, "until": until.isoformat(), "refused": _refusals(outcome)},
        )


def retention_review_view(request):
    """The review queue: flagged records by activity and rule, the rule's sentence and the erasure date (or,
    for a flag-only rule, that the record awaits a decision); hold them, let their erasure proceed, or for a
    flag-only rule erase now or keep until a date, after a confirmation page with the reason. A GET naming
    ``action`` and ``record`` opens that confirmation page (the record's own page links there). Never shows
    a payload."""
    if not request.user.has_perm("subjects.view_personaldatarecord"):
        raise PermissionDenied
    flagged = _flagged(request)
    controllers = scoped(Controller.objects.order_by("name"), request.user, "pk")
    controller = request.GET.get("controller", "")
    controller_id = int(controller) if controller.isdigit() and controllers.filter(pk=controller).exists() else None
    queue = reverse("retention-review") + (f"?controller={controller_id}" if controller_id else "")
    context = {**admin.site.each_context(request), "opts": PersonalDataRecord._meta}
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST" or "action" in request.GET:
        return _review_action(request, data, flagged, queue, context)
    context.update(
        {
            "title": _("Review flagged records"),
            "groups": _review_groups(flagged, controller_id),
            "controllers": controllers,
            "selected": controller_id,
            "actions": [(key, label) for key, (perm, label) in REVIEW_ACTIONS.items() if request.user.has_perm(perm)],
        }
    )
    return TemplateResponse(request, "admin/retention/review.html", context)


def _review_action(request, data, flagged, queue: str, context: dict):
    """An action on a selection: its confirmation page, or once confirmed the decision, then back to the queue."""
    action = data.get("action", "")
    if action not in REVIEW_ACTIONS:
        messages.error(request, _("Choose what to do with the selected records."))
        return HttpResponseRedirect(queue)
    if not request.user.has_perm(REVIEW_ACTIONS[action][0]):
        raise PermissionDenied
    selection = _review_selection(data, flagged)
    confirmed = request.method == "POST" and "confirm" in request.POST
    form = ReviewConfirmForm(request.POST if confirmed else None, action=action)
    if confirmed and (action == "release" or form.is_valid()):
        try:
            _decide(request, action, selection, form)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(queue)
    if not selection.exists():
        messages.warning(request, _("Select at least one record or group."))
        return HttpResponseRedirect(queue)
    summary = _confirm_summary(selection)
    context.update(
        {
            "title": _("Confirm: %(action)s") % {"action": REVIEW_ACTIONS[action][1]},
            "action": action,
            "action_label": REVIEW_ACTIONS[action][1],
            "form": form,
            "summary": summary,
            "total": sum(row["n"] for row in summary),
            "records": data.getlist("record"),
            "groups": data.getlist("group"),
            "queue": queue,
        }
    )
    return TemplateResponse(request, "admin/retention/review_confirm.html", context)


def _confirm_summary(selection) -> list[dict]:
    """The selection by controller, activity and rule: how many records, the rule's sentence, whether it only flags."""
    summary = list(
        selection.values("activity__reference", "activity__controller__name", "expiry_rule_id")
        .annotate(n=Count("pk"))
        .order_by("activity__controller__name", "activity__reference")
    )
    rules = RetentionRule.objects.in_bulk([row["expiry_rule_id"] for row in summary if row["expiry_rule_id"]])
    for row in summary:
        rule = rules.get(row["expiry_rule_id"])
        row["sentence"] = rule.sentence() if rule else ""
        row["flag_only"] = not (rule and rule.action in engine.ERASING_ACTIONS)
    return summary


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    """The DPO's decisions in the review queue, as evidence: erased now (with the run), kept until a day,
    held (with the hold). The reason is the DPO's to read."""

    controller_paths = ("activity__controller",)
    list_display = ("decided_at", "decision", "record_id", "activity", "kept_until", "run_id", "hold_id", "decided_by")
    list_filter = ("decision", ("activity__controller", RelatedInScopeListFilter))
    search_fields = ("=record__id",)  # the record's id (a join Django trims: erased records are found too)
    list_select_related = ("activity", "decided_by")
    date_hierarchy = "decided_at"

    def get_fields(self, request, obj=None):
        fields = ["record_id", "activity", "decision", "kept_until", "run_id", "hold_id", "decided_by", "decided_at"]
        return [*fields, "reason"] if may_see_personal_data(request.user) else fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)
