"""Data-subject requests (Art. 15-22): the request, its events, and the DPO's decisions in the review queue."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processing.models import Controller, ProcessingActivity
from ropa.kernel.dates import local_minute

from ..choices import (
    OPEN_REQUEST_STATUSES,
    REQUEST_DUE_DAYS,
    Deadline,
    RequestEventKind,
    RequestLanguage,
    RequestStatus,
    RequestType,
    ReviewDecisionKind,
)
from .records import DataSubject, PersonalDataRecord


def _today() -> dt.date:
    return timezone.localdate()


# Open requests first (0), closed last (1); then the nearest deadline. The admin's default order too.
BY_URGENCY = (
    models.Case(
        models.When(status__in=OPEN_REQUEST_STATUSES, then=models.Value(0)),
        default=models.Value(1),
        output_field=models.IntegerField(),
    ).asc(),
    "due_on",
    "id",
)


class DataSubjectRequestQuerySet(models.QuerySet):
    def open(self):
        """Received, awaiting proof of identity, or in progress."""
        return self.filter(status__in=OPEN_REQUEST_STATUSES)

    def running(self):
        """Open requests whose clock runs (not paused for an identity check)."""
        return self.filter(status__in=[RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS])

    def due_within(self, days: int, today: dt.date | None = None):
        """Running requests whose deadline is today or within ``days`` days (overdue ones excluded)."""
        today = today or _today()
        return self.running().filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=days))

    def overdue(self, today: dt.date | None = None):
        """Running requests whose last day has passed."""
        return self.running().filter(due_on__lt=today or _today())

    def by_deadline(self, value: str, today: dt.date | None = None):
        """The requests a ``Deadline`` value names (any other value: all of them)."""
        if value == Deadline.OVERDUE:
            return self.overdue(today)
        if value == Deadline.DUE_SOON:
            return self.due_within(REQUEST_DUE_DAYS, today)
        if value == Deadline.OPEN:
            return self.open()
        if value == Deadline.PAUSED:
            return self.filter(status=RequestStatus.AWAITING_IDENTITY)
        return self

    def by_urgency(self):
        """Open first, then by deadline: overdue ones lead."""
        return self.order_by(*BY_URGENCY)


class DataSubjectRequest(models.Model):
    """A data subject exercising a right (Art. 15-21): received on a day, answered within one month
    (Art. 12(3)), extended by at most two months with a reason, the clock paused while identity is
    verified. Its ``outcome`` says what was done (erased, kept and why, restricted, fields rectified),
    never with personal data values. Written only by the services in ``subjects/services.py``."""

    controller = models.ForeignKey(
        Controller,
        on_delete=models.PROTECT,
        related_name="subject_requests",
        verbose_name=_("controller"),
        help_text=_("The controller the request is addressed to."),
    )
    subject = models.ForeignKey(
        DataSubject,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("data subject"),
        help_text=_("Who makes the request (a subject of this controller)."),
    )
    type = models.CharField(_("type"), max_length=24, choices=RequestType.choices, help_text=_("The right exercised."))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RequestStatus.choices,
        default=RequestStatus.RECEIVED,
        editable=False,
        help_text=_("Where the request stands."),
    )
    received_on = models.DateField(_("received on"), help_text=_("The day the request reached the controller."))
    due_on = models.DateField(
        _("due on"),
        db_index=True,
        editable=False,
        help_text=_("Last day to answer: one month from receipt, plus extension, plus the days paused."),
    )
    extension_months = models.PositiveSmallIntegerField(
        _("extension (months)"), default=0, editable=False, help_text=_("Months added to the deadline (at most 2).")
    )
    extension_reason = models.TextField(
        _("extension reason"), blank=True, editable=False, help_text=_("Why the deadline was extended.")
    )
    paused_on = models.DateField(
        _("paused on"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Proof of identity asked for on this day; the clock stands still until it is verified."),
    )
    paused_days = models.PositiveIntegerField(
        _("days paused"), default=0, editable=False, help_text=_("Days the clock stood still, added to the deadline.")
    )
    identity_verified_at = models.DateTimeField(
        _("identity verified at"), null=True, blank=True, editable=False, help_text=_("When identity was verified.")
    )
    identity_overridden_at = models.DateTimeField(
        _("identity check overridden at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the DPO completed the request without verified identity (the reason is in its events)."),
    )
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=RequestLanguage.choices,
        default=RequestLanguage.EN,
        help_text=_("The language the requester is answered in: the access package is written in it."),
    )
    source = models.CharField(
        _("source"),
        max_length=100,
        blank=True,
        help_text=_("How the request came in: e-mail, letter, web form, or the source system that filed it."),
    )
    note = models.TextField(
        _("note"), blank=True, help_text=_("What the person asks, in the DPO's words; keep personal data out.")
    )
    completed_at = models.DateTimeField(
        _("closed at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the request was completed or rejected."),
    )
    rejection_reason = models.TextField(
        _("rejection reason"), blank=True, editable=False, help_text=_("Why the request was rejected (Art. 12(4)).")
    )
    outcome = models.JSONField(
        _("outcome"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("What was done: records erased, kept and why, restricted, fields rectified. No personal data."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, help_text=_("When it was filed."))

    objects = DataSubjectRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [models.Index(fields=["status", "due_on"], name="request_status_due_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(extension_months__lte=2), name="request_extension_at_most_two")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_type_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REQUEST_STATUSES

    def days_left(self, today: dt.date | None = None) -> int | None:
        """Days to the deadline (negative: overdue); None while closed or paused."""
        if self.status not in (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS):
            return None
        return (self.due_on - (today or _today())).days


class DataSubjectRequestEvent(models.Model):
    """One step in a request's life: status change, who, when, why. Holds no personal data values."""

    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("request"),
        help_text=_("The request."),
    )
    at = models.DateTimeField(_("at"), help_text=_("When it happened."))
    kind = models.CharField(_("event"), max_length=24, choices=RequestEventKind.choices, help_text=_("What happened."))
    from_status = models.CharField(
        _("from status"), max_length=20, choices=RequestStatus.choices, blank=True, help_text=_("Status before.")
    )
    to_status = models.CharField(
        _("to status"), max_length=20, choices=RequestStatus.choices, help_text=_("Status after.")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("The user (or the API token's user) who did it."),
    )
    actor_label = models.CharField(
        _("by (label)"), max_length=150, blank=True, help_text=_("User name or API token, kept if the user goes.")
    )
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why; no personal data values."))
    detail = models.JSONField(
        _("detail"), default=dict, blank=True, help_text=_("Counts, dates and field names; never values.")
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("request event")
        verbose_name_plural = _("request events")

    def __str__(self) -> str:
        return f"{local_minute(self.at)} {self.get_kind_display()}"


class ReviewDecision(models.Model):
    """The DPO's decision on a record that a flag-only rule flagged (the review queue): erase it now, keep it
    until a date (then it is flagged again), or place a legal hold. One row per record and decision, kept as
    evidence after the record is erased: it names the record by id (no database link), the erasure's run and
    the hold by id. Written only by ``retention.review``; audited with field names and ids only."""

    # The record may be deleted by the decision itself: its id stays, as on a legal hold.
    record = models.ForeignKey(
        PersonalDataRecord,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="review_decisions",
        verbose_name=_("record"),
        help_text=_("The record decided on (its id stays after it is erased)."),
    )
    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("activity"),
        help_text=_("The activity the record was held under."),
    )
    decision = models.CharField(
        _("decision"), max_length=8, choices=ReviewDecisionKind.choices, help_text=_("What the DPO decided.")
    )
    reason = models.TextField(
        _("reason"),
        help_text=_(
            "Why, in the DPO's words: the controller's evidence of the decision, shown to the DPO only. "
            "Keep personal data out: it stays after the record is erased."
        ),
    )
    kept_until = models.DateField(
        _("kept until"),
        null=True,
        blank=True,
        help_text=_("Keep: the day the record comes back to the review queue."),
    )
    run_id = models.BigIntegerField(
        _("retention run"),
        null=True,
        blank=True,
        help_text=_("Erase: the retention run (origin review) that erased it."),
    )
    hold_id = models.BigIntegerField(
        _("legal hold"), null=True, blank=True, help_text=_("Hold: the legal hold placed on the record.")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
        help_text=_("Who decided."),
    )
    decided_at = models.DateTimeField(_("decided at"), help_text=_("When."))

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        indexes = [models.Index(fields=["record", "decided_at"], name="review_decision_record_idx")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} · record {self.record_id}"
