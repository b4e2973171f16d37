"""Processing activities, their purposes, and the statement sentences they come from."""

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .. import rules
from ..choices import (
    ActivityRole,
    ActivityStatus,
    Art9Condition,
    LegalBasis,
    ReviewStatus,
)
from .base import Timestamped, TranslatedNameMixin
from .parties import Controller, Recipient
from .vocabulary import DataCategory, DataSubjectCategory, SecurityMeasure


class ProcessingActivityQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=ActivityStatus.ACTIVE)

    def with_register_relations(self):
        return self.select_related("controller", "replaced_by").prefetch_related(
            "purposes", "data_subject_categories", "data_categories", "recipients", "security_measures", "sources"
        )

    def review_rows(self, today: dt.date | None = None) -> list[tuple[int, int, str]]:
        """``(id, controller id, ReviewStatus)`` of the active activities among these, in one query. Ended
        activities are not reviewed: they keep the review they had."""
        today = today or timezone.localdate()
        rows = self.active().values_list(
            "pk", "controller_id", "last_reviewed_on", "review_cycle_months", "review_needed_since"
        )
        return [
            (
                pk,
                controller,
                rules.review_freshness(
                    last_reviewed_on=reviewed, cycle_months=review_cycle(months), needed_since=needed, today=today
                ),
            )
            for pk, controller, reviewed, months, needed in rows
        ]

    def review_statuses(self, today: dt.date | None = None) -> dict[int, str]:
        """``{id: ReviewStatus}`` of the active activities among these (``review_rows``)."""
        return {pk: status for pk, _controller, status in self.review_rows(today)}

    def in_review(self, statuses, today: dt.date | None = None):
        """The active activities whose review is in one of ``statuses`` (``ReviewStatus`` values)."""
        wanted = set(statuses)
        return self.filter(pk__in=[pk for pk, status in self.review_statuses(today).items() if status in wanted])


def review_cycle(months: int | None) -> int:
    """An activity's review cycle in months: its own, else ``ROPA_REVIEW_CYCLE_MONTHS``."""
    return months or settings.ROPA_REVIEW_CYCLE_MONTHS


class ProcessingActivity(TranslatedNameMixin, Timestamped):
    """One entry of the register: a processing activity and everything Art. 30 asks about it."""

    controller = models.ForeignKey(
        Controller,
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("controller"),
        help_text=_("The controller (or, for processor activities, the processor) keeping this entry."),
    )
    reference = models.CharField(
        _("reference"), max_length=32, help_text=_("Internal number, unique per controller (e.g. VK-03).")
    )
    name = models.CharField(
        _("name"), max_length=300, help_text=_("Name of the processing, in the language of the register.")
    )
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True, help_text=_("English name."))
    name_fr = models.CharField(_("name (French)"), max_length=300, blank=True, help_text=_("French name."))
    description = models.TextField(
        _("description"), blank=True, help_text=_("What happens to the data, in a few sentences.")
    )
    description_en = models.TextField(_("description (English)"), blank=True, help_text=_("English description."))
    description_fr = models.TextField(_("description (French)"), blank=True, help_text=_("French description."))
    role = models.CharField(
        _("role"),
        max_length=16,
        choices=ActivityRole.choices,
        default=ActivityRole.CONTROLLER,
        help_text=_("Controller (Art. 30(1)) or processor on behalf of a client (Art. 30(2))."),
    )
    client = models.CharField(
        _("client controller"),
        max_length=300,
        blank=True,
        help_text=_(
            "For processor activities: the controller(s) on whose behalf the data is processed (Art. 30(2)(a))."
        ),
    )
    business_process = models.CharField(
        _("business process"), max_length=200, blank=True, help_text=_("Business process or department.")
    )
    owner = models.CharField(
        _("owner"), max_length=200, blank=True, help_text=_("Person or team responsible for the activity.")
    )
    art9_condition = models.CharField(
        _("Art. 9(2) condition"),
        max_length=32,
        choices=Art9Condition.choices,
        blank=True,
        help_text=_("Required when the activity processes special-category data."),
    )
    data_subject_categories = models.ManyToManyField(
        DataSubjectCategory,
        blank=True,
        related_name="activities",
        verbose_name=_("data-subject categories"),
        help_text=_("Whose data is processed (Art. 30(1)(c))."),
    )
    data_categories = models.ManyToManyField(
        DataCategory,
        blank=True,
        related_name="activities",
        verbose_name=_("data categories"),
        help_text=_("Which personal data is processed (Art. 30(1)(c))."),
    )
    recipients = models.ManyToManyField(
        Recipient,
        blank=True,
        related_name="activities",
        verbose_name=_("recipients"),
        help_text=_(
            "To whom the data is disclosed, including processors and third-country recipients (Art. 30(1)(d), (e))."
        ),
    )
    security_measures = models.ManyToManyField(
        SecurityMeasure,
        blank=True,
        related_name="activities",
        verbose_name=_("security measures"),
        help_text=_("Technical and organisational measures (Art. 30(1)(g))."),
    )
    data_source = models.TextField(
        _("data source"),
        blank=True,
        help_text=_("Where the data comes from when not from the subject (Art. 14(2)(f))."),
    )
    automated_decision_making = models.BooleanField(
        _("automated decision-making"),
        default=False,
        help_text=_("Decisions based solely on automated processing (Art. 22)."),
    )
    profiling = models.BooleanField(
        _("profiling"), default=False, help_text=_("Profiling of the subjects (Art. 4(4)).")
    )
    dpia_required = models.BooleanField(
        _("DPIA required"),
        null=True,
        blank=True,
        help_text=_("Is a data-protection impact assessment required (Art. 35)? Blank: not assessed."),
    )
    dpia_done_on = models.DateField(_("DPIA done on"), null=True, blank=True, help_text=_("Date of the last DPIA."))
    minimum_age = models.PositiveSmallIntegerField(
        _("minimum age"),
        null=True,
        blank=True,
        help_text=_("Youngest subject the activity accepts, when stated (Art. 8)."),
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=ActivityStatus.choices,
        default=ActivityStatus.ACTIVE,
        help_text=_("An ended activity stays in the register with its end date."),
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True, help_text=_("End date of the processing."))
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replaced by"),
        help_text=_("The activity that took over from this one."),
    )
    last_reviewed_on = models.DateField(
        _("last reviewed on"), null=True, blank=True, help_text=_("When the DPO last reviewed this entry.")
    )
    review_cycle_months = models.PositiveSmallIntegerField(
        _("review cycle (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Months between two reviews of this entry. Blank: the register's default cycle."),
    )
    review_needed_reason = models.TextField(
        _("why a review is needed"),
        blank=True,
        help_text=_(
            "Set by a change that matters (a new recipient outside the EEA, new special-category or "
            "criminal data, a new purpose, a changed legal basis); cleared when the entry is reviewed."
        ),
    )
    review_needed_since = models.DateField(
        _("review needed since"),
        null=True,
        blank=True,
        help_text=_("When a change that matters asked for a review; cleared when the entry is reviewed."),
    )

    objects = ProcessingActivityQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[data_subject_categories, data_categories, recipients, security_measures])

    class Meta:
        ordering = ["controller__name", "reference"]
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")
        constraints = [
            models.UniqueConstraint(
                fields=["controller", "reference"], name="activity_reference_unique_per_controller"
            ),
            models.CheckConstraint(
                condition=models.Q(status=ActivityStatus.ACTIVE, ended_on__isnull=True)
                | models.Q(status=ActivityStatus.ENDED, ended_on__isnull=False),
                name="activity_end_date_matches_status",
            ),
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.localized()}"

    def problems(self, *, special_categories=()) -> list[rules.Problem]:
        """What ``rules.activity_problems`` says of this activity as it stands (the model's ``clean`` and the
        services ask it with the activity's Art. 9 categories)."""
        return rules.activity_problems(
            status=self.status,
            ended_on=self.ended_on,
            role=self.role,
            client=self.client,
            art9_condition=self.art9_condition,
            special_categories=special_categories,
            activity_id=self.pk,
            replaced_by_id=self.replaced_by_id,
            controller_id=self.controller_id,
            successor_controller_id=self.replaced_by.controller_id if self.replaced_by_id else None,
        )

    def clean(self) -> None:
        rules.raise_problems(self.problems())

    @property
    def review_cycle(self) -> int:
        return review_cycle(self.review_cycle_months)

    def review_due_on(self) -> dt.date | None:
        return rules.review_due_on(last_reviewed_on=self.last_reviewed_on, cycle_months=self.review_cycle)

    def review_status(self, today: dt.date | None = None) -> str | None:
        """The ``ReviewStatus`` of an active activity; None for an ended one (no longer reviewed)."""
        if self.status != ActivityStatus.ACTIVE:
            return None
        return ReviewStatus(
            rules.review_freshness(
                last_reviewed_on=self.last_reviewed_on,
                cycle_months=self.review_cycle,
                needed_since=self.review_needed_since,
                today=today or timezone.localdate(),
            )
        )


class Purpose(TranslatedNameMixin, models.Model):
    """A purpose of an activity and the legal basis it rests on (Art. 30(1)(b), Art. 6(1))."""

    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.CASCADE,
        related_name="purposes",
        verbose_name=_("activity"),
        help_text=_("The activity this purpose belongs to."),
    )
    description = models.TextField(_("purpose"), help_text=_("The purpose, in the language of the register."))
    description_en = models.TextField(_("purpose (English)"), blank=True, help_text=_("English wording."))
    description_fr = models.TextField(_("purpose (French)"), blank=True, help_text=_("French wording."))
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=32,
        choices=LegalBasis.choices,
        help_text=_("Art. 6(1) GDPR ground for this purpose."),
    )
    legitimate_interest = models.TextField(
        _("legitimate interest"), blank=True, help_text=_("The interest pursued, required for Art. 6(1)(f).")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0, help_text=_("Order within the activity."))

    history = HistoricalRecords()

    class Meta:
        ordering = ["activity", "position", "id"]
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")

    def __str__(self) -> str:
        return self.localized("description")

    def clean(self) -> None:
        rules.raise_problems(
            rules.purpose_problems(legal_basis=self.legal_basis, legitimate_interest=self.legitimate_interest)
        )


class Source(models.Model):
    """Provenance: a sentence of a source document that an activity's facts were taken from."""

    activity = models.ForeignKey(
        ProcessingActivity,
        on_delete=models.CASCADE,
        related_name="sources",
        verbose_name=_("activity"),
        help_text=_("The activity the quote supports."),
    )
    statement = models.CharField(
        _("statement"), max_length=200, help_text=_("File name or title of the source document.")
    )
    quote = models.TextField(_("quote"), help_text=_("The sentence, copied verbatim."))
    position = models.PositiveSmallIntegerField(_("position"), default=0, help_text=_("Order within the activity."))

    history = HistoricalRecords()

    class Meta:
        ordering = ["activity", "position", "id"]
        verbose_name = _("source quote")
        verbose_name_plural = _("source quotes")

    def __str__(self) -> str:
        return f"{self.statement}: {self.quote[:60]}"
