"""Retention rules (Art. 30(1)(f), Art. 5(1)(e)): how long data is kept, from when, and what then happens.

A rule is data that the enforcement engine executes, not free text; its sentence in the register is
rendered from these fields in English, Dutch and French.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from processing.models import DataCategory, ProcessingActivity
from processing.rules import raise_problems
from ropa.kernel.dates import local_minute

from .choices import Action, DurationUnit, Trigger
from .rules import retention_rule_problems
from .wording import retention_sentence


class RetentionRule(models.Model):
    """How long an activity keeps its data (optionally one data category of it), and what happens then."""

    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.CASCADE,
        related_name="retention_rules",
        verbose_name=_("activity"),
        help_text=_("The processing activity the rule belongs to."),
    )
    data_category = models.ForeignKey(
        DataCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="retention_rules",
        verbose_name=_("data category"),
        help_text=_("Narrow the rule to one data category; blank for all the activity's data."),
    )
    duration_value = models.PositiveIntegerField(
        _("duration"),
        null=True,
        blank=True,
        help_text=_("Length of the period; blank when the period has no fixed length."),
    )
    duration_unit = models.CharField(
        _("unit"), max_length=8, choices=DurationUnit.choices, blank=True, help_text=_("Unit of the period.")
    )
    trigger = models.CharField(
        _("trigger"), max_length=40, choices=Trigger.choices, help_text=_("The moment the period starts to run.")
    )
    action = models.CharField(
        _("action"),
        max_length=16,
        choices=Action.choices,
        default=Action.DELETE,
        help_text=_("What happens when the period has run: flag for review, anonymise or delete."),
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace period (days)"),
        default=30,
        help_text=_("Days between flagging a record and erasing it, for review and legal holds."),
    )
    statutory = models.BooleanField(
        _("statutory minimum"),
        default=False,
        help_text=_("The period is a minimum imposed by law; a shorter rule never wins over it."),
    )
    maximum = models.BooleanField(
        _("maximum"),
        default=False,
        help_text=_(
            "At most N: the data is erased by then, whatever open-ended rules (“as long as needed”) say, "
            "unless a statutory minimum or a legal hold keeps it."
        ),
    )
    legal_reference = models.CharField(
        _("legal reference"), max_length=300, blank=True, help_text=_("The law that imposes a statutory period.")
    )
    note = models.TextField(_("note"), blank=True, help_text=_("Anything the sentence does not say."))
    source_quote = models.TextField(
        _("source quote"),
        blank=True,
        help_text=_("Sentences of the source document this rule comes from, one per paragraph."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0, help_text=_("Order within the activity."))

    history = HistoricalRecords()

    class Meta:
        ordering = ["activity", "position", "id"]
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_value__isnull=True, duration_unit="")
                | models.Q(duration_value__isnull=False) & ~models.Q(duration_unit=""),
                name="retention_duration_has_unit",
            ),
            models.CheckConstraint(
                condition=~models.Q(statutory=True, maximum=True), name="retention_rule_not_statutory_and_maximum"
            ),
        ]

    def __str__(self) -> str:
        return self.sentence()

    def sentence(self, language: str | None = None) -> str:
        return retention_sentence(
            duration_value=self.duration_value,
            duration_unit=self.duration_unit,
            trigger=self.trigger,
            action=self.action,
            statutory=self.statutory,
            maximum=self.maximum,
            legal_reference=self.legal_reference,
            language=language or get_language() or "en",
        )

    sentence.short_description = _("rule")

    def clean(self) -> None:
        raise_problems(
            retention_rule_problems(
                duration_value=self.duration_value,
                duration_unit=self.duration_unit,
                statutory=self.statutory,
                maximum=self.maximum,
                action=self.action,
            )
        )


class HoldScope(models.TextChoices):
    SUBJECT = "subject", _("data subject")
    RECORD = "record", _("record")
    ACTIVITY = "activity", _("activity")
    CONTROLLER = "controller", _("controller")


class LegalHoldQuerySet(models.QuerySet):
    def in_force(self):
        return self.filter(released_at__isnull=True)


# A hold names one of these (the rest blank): the ways from a hold to its controller.
HOLD_CONTROLLER_PATHS = ("controller", "activity__controller", "subject__controller", "record__activity__controller")


class LegalHold(models.Model):
    """Freezes erasure of everything in its scope (one subject, record, activity or controller) until it is
    released: a held record is never flagged nor erased, by any path. Written only by ``legal_hold_place``
    and ``legal_hold_release``; a released hold stays as evidence."""

    # Subjects and records may later be erased; the hold keeps their id as evidence, hence no constraint.
    subject = models.ForeignKey(
        "subjects.DataSubject",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="legal_holds",
        verbose_name=_("data subject"),
        help_text=_("Hold every record of this person."),
    )
    record = models.ForeignKey(
        "subjects.PersonalDataRecord",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="legal_holds",
        verbose_name=_("record"),
        help_text=_("Hold this one record."),
    )
    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
        verbose_name=_("activity"),
        help_text=_("Hold every record of this activity."),
    )
    controller = models.ForeignKey(
        "processing.Controller",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
        verbose_name=_("controller"),
        help_text=_("Hold every record of this controller."),
    )
    reason = models.TextField(_("reason"), help_text=_("Why erasure is frozen: litigation, investigation, request."))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("placed by"),
        help_text=_("Who placed the hold."),
    )
    placed_at = models.DateTimeField(_("placed at"), help_text=_("When the hold took effect."))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
        help_text=_("Who released the hold."),
    )
    released_at = models.DateTimeField(
        _("released at"), null=True, blank=True, help_text=_("When the hold was lifted; blank while in force.")
    )
    release_reason = models.TextField(_("release reason"), blank=True, help_text=_("Why the hold was lifted."))

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    subject__isnull=False, record__isnull=True, activity__isnull=True, controller__isnull=True
                )
                | models.Q(subject__isnull=True, record__isnull=False, activity__isnull=True, controller__isnull=True)
                | models.Q(subject__isnull=True, record__isnull=True, activity__isnull=False, controller__isnull=True)
                | models.Q(subject__isnull=True, record__isnull=True, activity__isnull=True, controller__isnull=False),
                name="legal_hold_has_one_scope",
            ),
        ]
        indexes = [models.Index(fields=["released_at"], name="legal_hold_released_idx")]

    def __str__(self) -> str:
        # Not the reason: the DPO's free text may name a person, and this text shows in titles and logs.
        return f"#{self.pk} {self.scope_label()}"

    @property
    def scope(self) -> str:
        for scope in HoldScope.values:
            if getattr(self, f"{scope}_id") is not None:
                return scope
        return ""

    def scope_label(self) -> str:
        scope = self.scope
        return f"{HoldScope(scope).label} #{getattr(self, f'{scope}_id')}" if scope else "?"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    FINISHED = "finished", _("finished")
    PARTIAL = "partial", _("stopped with work left (continued by the next run)")
    FAILED = "failed", _("failed")
    INTERRUPTED = "interrupted", _("interrupted (the process died)")


class RetentionRun(models.Model):
    """One retention sweep: the evidence that data is kept and erased as the rules say (Art. 5(2)).
    Its counts move in the same transaction as the batch they count, so a run cut short still tells
    exactly what it did. Read-only in the admin."""

    started_at = models.DateTimeField(_("started at"), help_text=_("When the sweep started."))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, help_text=_("When it ended."))
    heartbeat_at = models.DateTimeField(
        _("last sign of life"), help_text=_("Last committed batch; a running sweep silent for long has died.")
    )
    as_of = models.DateTimeField(_("as of"), help_text=_("The moment the sweep judged expiry against."))
    dry_run = models.BooleanField(
        _("dry run"), default=False, help_text=_("Reported what it would do, changed nothing.")
    )
    controller = models.ForeignKey(
        "processing.Controller",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="retention_runs",
        verbose_name=_("controller"),
        help_text=_("The sweep was limited to this controller; blank for all."),
    )
    origin = models.CharField(_("origin"), max_length=32, blank=True, help_text=_("task, command, ..."))
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING, help_text=_("Outcome.")
    )
    flagged = models.PositiveIntegerField(_("flagged"), default=0, help_text=_("Records flagged for erasure."))
    anonymised = models.PositiveIntegerField(_("anonymised"), default=0, help_text=_("Records anonymised."))
    deleted = models.PositiveIntegerField(_("deleted"), default=0, help_text=_("Records deleted."))
    skipped_for_hold = models.PositiveIntegerField(
        _("skipped for hold"), default=0, help_text=_("Due records left alone because a legal hold is in force.")
    )
    longest_batch_ms = models.PositiveIntegerField(
        _("longest batch (ms)"),
        default=0,
        help_text=_("Duration of the longest batch transaction; batches are meant to stay well under a second."),
    )
    errors = models.PositiveIntegerField(
        _("errors"), default=0, help_text=_("Batches that failed and were rolled back.")
    )
    counts = models.JSONField(
        _("counts per rule"),
        default=dict,
        blank=True,
        help_text=_('Per retention rule id: {"flag": n, "anonymise": n, "delete": n}.'),
    )
    error_log = models.TextField(
        _("error log"), blank=True, help_text=_("Error types of failed batches; never personal data.")
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="retention_run_status_idx")]

    def __str__(self) -> str:
        kind = _("dry run") if self.dry_run else _("run")
        return f"{kind} {local_minute(self.started_at)} ({self.get_status_display()})"


class Tombstone(models.Model):
    """Evidence that one record was erased, holding no personal data: ids, activity, category, rule,
    action, run and time. Each carries the hash of the one before, so removing or changing one shows
    (``manage.py retention_verify_chain``). Written only by the sweep; read-only everywhere."""

    # Plain references: the hash covers these ids, so nothing may ever rewrite them (no SET_NULL).
    sequence = models.BigIntegerField(_("sequence"), unique=True, help_text=_("Position in the chain, from 1."))
    run = models.ForeignKey(
        RetentionRun,
        on_delete=models.PROTECT,
        related_name="tombstones",
        verbose_name=_("run"),
        help_text=_("The sweep that erased the record."),
    )
    record_id = models.BigIntegerField(_("record id"), db_index=True, help_text=_("Id of the erased record."))
    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("activity"),
        help_text=_("Activity the record was held under."),
    )
    data_category = models.ForeignKey(
        DataCategory,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("data category"),
        help_text=_("Category of the erased data."),
    )
    rule = models.ForeignKey(
        RetentionRule,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("rule"),
        help_text=_("The rule that decided the erasure (its id stays if the rule is later removed)."),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, help_text=_("Anonymised or deleted."))
    source_system = models.CharField(
        _("source system"), max_length=100, help_text=_("The system that had registered the record.")
    )
    erased_at = models.DateTimeField(_("erased at"), help_text=_("When the record was erased."))
    previous_hash = models.CharField(
        _("previous hash"), max_length=64, help_text=_("Hash of the tombstone before (64 zeros for the first).")
    )
    hash = models.CharField(
        _("hash"), max_length=64, unique=True, help_text=_("SHA-256 of this tombstone's fields and the previous hash.")
    )
    record_ref = models.CharField(
        _("record reference"),
        max_length=64,
        blank=True,
        default="",
        db_default="",  # rows inserted by plain SQL (COPY) without it stay valid
        help_text=_(
            "Keyed hash (HMAC-SHA256 under the secret key) of the source system and its id for the record: "
            "recognises the record again after a restore from a backup, without holding its id. Not in the chain hash."
        ),
    )

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("erasure tombstone")
        verbose_name_plural = _("erasure tombstones")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} record {self.record_id}"


class ErasureNotice(models.Model):
    """One line of a source system's erasure feed: which of its ids was erased, until it confirms.

    The source system's id is kept here, outside the tombstone chain, because it is pseudonymous personal
    data while the source system still holds the record: on confirmation it is cleared, which a hashed
    tombstone could never allow."""

    source_system = models.CharField(_("source system"), max_length=100, help_text=_("Whose feed this is."))
    external_id = models.CharField(
        _("external id"),
        max_length=200,
        null=True,
        blank=True,
        help_text=_("The erased record's id in the source system; cleared once the system confirms."),
    )
    record_id = models.BigIntegerField(_("record id"), help_text=_("Id of the erased record in the register."))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, help_text=_("Anonymised or deleted."))
    erased_at = models.DateTimeField(_("erased at"), help_text=_("When the register erased its copy."))
    confirmed_at = models.DateTimeField(
        _("confirmed at"), null=True, blank=True, help_text=_("When the source system confirmed its erasure.")
    )

    class Meta:
        ordering = ["erased_at", "id"]
        verbose_name = _("erasure notice")
        verbose_name_plural = _("erasure feed")
        indexes = [models.Index(fields=["source_system", "confirmed_at", "id"], name="erasure_feed_idx")]

    def __str__(self) -> str:
        return f"{self.source_system} record {self.record_id} ({self.action})"
