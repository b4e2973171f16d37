"""Data subjects and the personal-data records internal systems register about them.

These tables hold personal data, so they deliberately keep no version history (a history table would
keep a copy of every payload after erasure) and have no delete signals (a ``post_delete`` receiver
would turn the retention sweep's set-based delete into a per-row loop). Records are written by the
services in ``retention/services.py``, which keep ``expires_at`` in step with the rules.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processing.choices import LegalBasis
from processing.models import Controller, DataCategory, ProcessingActivity, Purpose

from .choices import (
    OPEN_REQUEST_STATUSES,
    REQUEST_DUE_DAYS,
    Deadline,
    RecordStatus,
    RequestEventKind,
    RequestStatus,
    RequestType,
    ReviewDecisionKind,
)


def new_subject_key() -> str:
    return secrets.token_hex(16)


class DataSubject(models.Model):
    """A person the controller holds data about: a pseudonymous key per controller, plus the identifiers
    the controller gave (personal data, shown only on the subject's own page)."""

    controller = models.ForeignKey(
        Controller,
        on_delete=models.PROTECT,
        related_name="data_subjects",
        verbose_name=_("controller"),
        help_text=_("The controller that holds data about this person."),
    )
    key = models.CharField(
        _("pseudonymous key"),
        max_length=64,
        default=new_subject_key,
        help_text=_("Stable pseudonym of the person, unique per controller; carries no personal data."),
    )
    identifiers = models.JSONField(
        _("identifiers"),
        default=dict,
        blank=True,
        help_text=_("Identifiers the controller gave (customer number, e-mail, ...). Personal data."),
    )
    created_at = models.DateTimeField(
        _("created at"), auto_now_add=True, help_text=_("When the subject was registered.")
    )

    class Meta:
        ordering = ["controller", "key"]
        verbose_name = _("data subject")
        verbose_name_plural = _("data subjects")
        constraints = [models.UniqueConstraint(fields=["controller", "key"], name="subject_key_unique_per_controller")]

    def __str__(self) -> str:
        return self.key


class PersonalDataRecordQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=RecordStatus.ACTIVE)

    def flagged(self):
        return self.filter(status=RecordStatus.FLAGGED)

    def expired(self, now):
        """Records whose retention has run out at ``now`` (erased ones excluded)."""
        return self.filter(expires_at__lte=now).exclude(status=RecordStatus.ERASED)

    def due_for_flag(self, now):
        """Active records whose retention has run out, except those the DPO decided to keep until later."""
        return self.filter(status=RecordStatus.ACTIVE, expires_at__lte=now).exclude(kept_until__gt=now)

    def due_for_erasure(self, now):
        """Flagged records whose grace period is over and whose retention is still over (re-checked)."""
        return self.filter(status=RecordStatus.FLAGGED, erase_after__lte=now, expires_at__lte=now)

    def for_controller(self, controller):
        return self.filter(activity__controller=controller)

    def restricted(self):
        return self.filter(restricted_at__isnull=False)


def _date(verbose: str, help_text: str) -> models.DateField:
    return models.DateField(verbose, null=True, blank=True, help_text=help_text)


class PersonalDataRecord(models.Model):
    """One piece of personal data held under one activity and data category, registered by an internal
    system (idempotent on ``source_system`` + ``external_id``). Its trigger dates and the activity's
    retention rules give ``expires_at``; the retention sweep flags it, then erases it (Art. 5(1)(e))."""

    subject = models.ForeignKey(
        DataSubject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        verbose_name=_("data subject"),
        help_text=_("Whose data this is; cleared when the record is anonymised."),
    )
    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.PROTECT,
        related_name="personal_data_records",
        verbose_name=_("activity"),
        help_text=_("The processing activity the data is held under."),
    )
    data_category = models.ForeignKey(
        DataCategory,
        on_delete=models.PROTECT,
        related_name="personal_data_records",
        verbose_name=_("data category"),
        help_text=_("The category of personal data."),
    )
    retention_rule = models.ForeignKey(
        "retention.RetentionRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="named_by_records",
        verbose_name=_("named retention rule"),
        help_text=_(
            "The activity's rule the source system says applies; blank: every rule of the activity for this "
            "category. Statutory rules of the activity apply in any case."
        ),
    )
    source_system = models.CharField(
        _("source system"), max_length=100, help_text=_("The internal system that registered the record.")
    )
    external_id = models.CharField(
        _("external id"),
        max_length=200,
        null=True,
        blank=True,
        help_text=_("The record's id in its source system, unique per system; cleared when anonymised."),
    )
    payload = models.JSONField(
        _("payload"),
        null=True,
        blank=True,
        help_text=_("The personal data itself, when the register holds it; cleared on erasure."),
    )

    collected_on = _date(_("collected on"), _("When the data was collected."))
    first_contact_on = _date(_("first contact on"), _("Date of the first contact."))
    last_contact_on = _date(_("last contact on"), _("Date of the last contact."))
    contract_ended_on = _date(_("contract ended on"), _("End of the contract; blank while it runs."))
    service_ended_on = _date(_("service ended on"), _("End of the service; blank while it runs."))
    subscription_ended_on = _date(_("subscription ended on"), _("End or cancellation of the subscription."))
    account_closed_on = _date(_("account closed on"), _("When the account was closed."))
    last_activity_on = _date(_("last activity on"), _("Last activity of the subject (inactivity)."))
    event_ended_on = _date(_("event ended on"), _("End of the event."))
    competition_ended_on = _date(_("competition ended on"), _("End of the competition."))
    consent_withdrawn_on = _date(_("consent withdrawn on"), _("When consent was withdrawn."))
    last_invoice_financial_year_end = _date(
        _("financial year end of the last invoice"),
        _("Last day of the financial year of the last invoice; set by the system."),
    )
    controller_requested_on = _date(
        _("erasure requested by the client on"),
        _("When the client controller asked for the data to be erased (processor activities, Art. 28(3)(g))."),
    )
    relevance_ended_on = _date(_("no longer relevant since"), _("When someone judged the data no longer relevant."))

    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When retention runs out, computed from the rules and the dates; blank: does not expire yet."),
    )
    expiry_rule = models.ForeignKey(
        "retention.RetentionRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("deciding rule"),
        help_text=_("The rule that gave the latest expiry, whose action and grace period apply."),
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=RecordStatus.choices,
        default=RecordStatus.ACTIVE,
        editable=False,
        help_text=_("Active, flagged for erasure, or erased (anonymised)."),
    )
    flagged_at = models.DateTimeField(
        _("flagged at"), null=True, blank=True, editable=False, help_text=_("When the sweep flagged the record.")
    )
    erase_after = models.DateTimeField(
        _("erase after"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("End of the grace period set when flagged; the record is erased by the first sweep after it."),
    )
    erased_at = models.DateTimeField(
        _("erased at"), null=True, blank=True, editable=False, help_text=_("When the record was anonymised.")
    )
    restricted_at = models.DateTimeField(
        _("restricted at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Processing restricted (Art. 18) since then: the data is only stored, and the API withholds its "
            "payload from the source system. Blank: not restricted."
        ),
    )
    kept_until = models.DateTimeField(
        _("kept until"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The DPO decided in the review queue to keep the record until then (its rule only flags): the sweep "
            "flags it again, back in the queue, from this moment. Blank: no such decision in force."
        ),
    )
    restricted_by = models.ForeignKey(
        "DataSubjectRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="restricted_records",
        verbose_name=_("restricted by request"),
        help_text=_("The restriction request that restricted the record; the DPO lifts it."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, help_text=_("When it was registered."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, help_text=_("When it last changed."))

    objects = PersonalDataRecordQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("personal-data record")
        verbose_name_plural = _("personal-data records")
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"], name="record_external_id_unique_per_source_system"
            ),
        ]
        indexes = [
            # What expires when (reports, counts, the dry run).
            models.Index(fields=["status", "expires_at"], name="record_status_expires_idx"),
            # The sweep's keyset pages walk these in primary-key order, checking the date inside the index:
            # each batch reads on from where the last one stopped instead of sorting every candidate again.
            models.Index(fields=["id", "expires_at"], condition=models.Q(status="active"), name="record_flag_scan_idx"),
            models.Index(
                fields=["id", "erase_after"], condition=models.Q(status="flagged"), name="record_erase_scan_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_system}:{self.pk}"


class ConsentRecordQuerySet(models.QuerySet):
    def in_force(self):
        return self.filter(withdrawn_at__isnull=True)


class ConsentRecord(models.Model):
    """A person's consent to one purpose (Art. 6(1)(a), Art. 7): when and how it was given, with the evidence
    the controller must be able to show (Art. 7(1)), and when it was withdrawn. Withdrawing sets the
    ``consent_withdrawn_on`` date of the person's records under the purpose's activity, so their retention
    follows. Written only by ``consent_record`` and ``consent_withdraw``."""

    subject = models.ForeignKey(
        DataSubject,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("data subject"),
        help_text=_("Who gave the consent."),
    )
    purpose = models.ForeignKey(
        Purpose,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("purpose"),
        help_text=_("The purpose consented to; it rests on consent and belongs to the subject's controller."),
    )
    given_at = models.DateTimeField(_("given at"), help_text=_("When the consent was given."))
    withdrawn_at = models.DateTimeField(
        _("withdrawn at"), null=True, blank=True, help_text=_("When the consent was withdrawn; blank while in force.")
    )
    source = models.CharField(
        _("source"),
        max_length=100,
        blank=True,
        help_text=_(
            "Where the consent was given: the web form, the app, a paper form, the source system. Required when "
            "recording; cleared when nothing of the person is kept any more."
        ),
    )
    evidence = models.TextField(
        _("evidence"),
        blank=True,
        help_text=_(
            "What the person agreed to: the checkbox text and its version, the form's reference. Cleared when "
            "nothing of the person is kept any more."
        ),
    )
    evidence_version = models.CharField(
        _("wording version"),
        max_length=64,
        blank=True,
        help_text=_("Version of the consent wording shown to the person."),
    )
    withdrawal_source = models.CharField(
        _("withdrawal source"), max_length=100, blank=True, help_text=_("Where the consent was withdrawn.")
    )
    recorded_by = models.CharField(
        _("recorded by"), max_length=150, blank=True, help_text=_("The user or API token that recorded it.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, help_text=_("When it was recorded."))

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-given_at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["subject", "purpose"], name="consent_subject_purpose_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | models.Q(withdrawn_at__gte=models.F("given_at")),
                name="consent_withdrawn_after_given",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} / purpose #{self.purpose_id}"

    def clean(self) -> None:
        if self.subject_id is None or self.purpose_id is None:
            return
        if self.purpose.activity.controller_id != self.subject.controller_id:
            raise ValidationError({"purpose": _("The purpose belongs to another controller than the subject.")})
        if self.purpose.legal_basis != LegalBasis.CONSENT:
            raise ValidationError(
                {"purpose": _("The purpose rests on “%s”, not on consent.") % self.purpose.get_legal_basis_display()}
            )


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
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


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
