"""Retention rules (Art. 30(1)(f), Art. 5(1)(e)): how long data is kept, from when, and what then happens.

A rule is data that the enforcement engine executes, not free text; its sentence in the register is
rendered from these fields in English, Dutch and French.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from processing.models import DataCategory, ProcessingActivity

from .choices import Action, DurationUnit, Trigger
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
            legal_reference=self.legal_reference,
            language=language or get_language() or "en",
        )

    sentence.short_description = _("rule")

    def clean(self) -> None:
        errors = {}
        if (self.duration_value is None) != (not self.duration_unit):
            errors["duration_unit"] = _("Give both a duration and its unit, or neither (no fixed period).")
        if self.duration_value == 0:
            errors["duration_value"] = _("Leave the duration blank for “at the trigger”; zero is not a period.")
        if self.statutory and not self.duration_value and self.action != Action.FLAG:
            # The law sets the period but the register does not know it: a person decides.
            errors["action"] = _("A statutory period with no stated length can only flag for review.")
        if errors:
            raise ValidationError(errors)
