"""The people a controller's systems know (by a pseudonymous key), the personal-data records registered about them,
and the consents they gave."""

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from processing.choices import LegalBasis
from processing.models import Controller, DataCategory, ProcessingActivity, Purpose

from ..choices import (
    RecordStatus,
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
