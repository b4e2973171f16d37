"""The breach register (Art. 33(5)): every personal-data breach, notified or not, with its clock, its scope
computed from the records, its versioned risk assessments, its filings to the authority and its
communication to the people concerned. Written only by ``services``; never holds an identifier of a
person (the scope keeps counts and the criteria that select the records, not the people)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from processing.models import Controller
from subjects.choices import RequestLanguage

from .choices import Art34Waiver, BreachStatus, CommunicationMethod, FilingPhase, RiskLevel

LANGUAGES = RequestLanguage.choices  # nl, fr, en: the languages a person is answered in


class Breach(models.Model):
    controller = models.ForeignKey(
        Controller,
        on_delete=models.PROTECT,
        related_name="breaches",
        verbose_name=_("controller"),
        help_text=_("The controller whose data was breached (the lead one, for a shared incident)."),
    )
    other_controllers = models.ManyToManyField(
        Controller,
        blank=True,
        related_name="shared_breaches",
        verbose_name=_("other controllers"),
        help_text=_("Other controllers of the register hit by the same incident."),
    )
    client_controller = models.CharField(
        _("client controller to inform"),
        max_length=200,
        blank=True,
        help_text=_("Where we process for a client: the controller to inform without undue delay (Art. 33(2))."),
    )
    title = models.CharField(_("title"), max_length=200, help_text=_("A short name; keep personal data out."))
    description = models.TextField(_("description"), blank=True, help_text=_("What happened."))
    discovery = models.TextField(_("how it was discovered"), blank=True, help_text=_("Who noticed what, and how."))
    occurred_from = models.DateTimeField(
        _("occurred from"), null=True, blank=True, help_text=_("When the breach began (or the only moment).")
    )
    occurred_until = models.DateTimeField(
        _("occurred until"), null=True, blank=True, help_text=_("When it ended, for a breach over a window.")
    )
    aware_at = models.DateTimeField(
        _("aware at"), help_text=_("When the controller became aware of it: the 72-hour clock starts here.")
    )
    confidentiality = models.BooleanField(
        _("confidentiality"), default=False, help_text=_("Data disclosed to, or accessed by, someone not authorised.")
    )
    integrity = models.BooleanField(_("integrity"), default=False, help_text=_("Data altered without authority."))
    availability = models.BooleanField(_("availability"), default=False, help_text=_("Data lost or made unavailable."))
    status = models.CharField(
        _("status"), max_length=20, choices=BreachStatus.choices, default=BreachStatus.RECEIVED, editable=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
        help_text=_("Who handles the breach."),
    )
    external_reference = models.CharField(
        _("external reference"),
        max_length=100,
        blank=True,
        help_text=_(
            "The reporting system's own reference (a SIEM alert, a ticket): a second report with it is the same breach."
        ),
    )
    reported_by = models.CharField(
        _("reported by"), max_length=100, blank=True, help_text=_("The system or person that reported it.")
    )
    notification_due_at = models.DateTimeField(
        _("notify the authority by"), editable=False, help_text=_("Aware at plus the notification deadline.")
    )
    waiver = models.CharField(
        _("Art. 34(3) ground"), max_length=20, choices=Art34Waiver.choices, blank=True, editable=False
    )
    waiver_justification = models.TextField(_("why the people are not told"), blank=True, editable=False)
    legal_holds = models.ManyToManyField(
        "retention.LegalHold",
        blank=True,
        related_name="breaches",
        verbose_name=_("legal holds"),
        help_text=_("Holds placed so the sweep keeps the affected records while the breach is investigated."),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    reopen_reasons = models.TextField(
        _("why it was reopened"),
        blank=True,
        editable=False,
        help_text=_("Each reopening, with its day and reason, one per line."),
    )
    reminders_sent = models.JSONField(
        _("deadline reminders sent"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("Per deadline, the reminders mailed to the DPO: 24 hours and 6 hours before, and once missed."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-aware_at", "-id"]
        verbose_name = _("personal-data breach")
        verbose_name_plural = _("personal-data breaches")
        constraints = [
            models.UniqueConstraint(
                fields=["controller", "external_reference"],
                condition=~models.Q(external_reference=""),
                name="breach_external_reference_unique_per_controller",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def natures(self) -> list[str]:
        return [name for name in ("confidentiality", "integrity", "availability") if getattr(self, name)]


class BreachScope(models.Model):
    """What the breach touched, computed from the records at ``computed_at``: the criteria the DPO chose
    (activities, source systems, data categories, a window of registration) and the counts they give.
    The criteria select the people again later (the Art. 34 communication); no identifier is kept."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="scopes", verbose_name=_("breach"))
    computed_at = models.DateTimeField(_("computed at"))
    criteria = models.JSONField(
        _("criteria"), default=dict, help_text=_("Activity ids, source systems, category codes, window.")
    )
    counts = models.JSONField(_("counts"), default=dict, help_text=_("Records and subjects, per category and in all."))
    subjects_min = models.PositiveIntegerField(_("people affected (at least)"), null=True, blank=True)
    subjects_max = models.PositiveIntegerField(_("people affected (at most)"), null=True, blank=True)
    records_min = models.PositiveIntegerField(_("records affected (at least)"), null=True, blank=True)
    records_max = models.PositiveIntegerField(_("records affected (at most)"), null=True, blank=True)
    correction_note = models.TextField(_("why the counts were corrected"), blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = _("breach scope")
        verbose_name_plural = _("breach scopes")

    def __str__(self) -> str:
        return f"{self.breach_id}: {self.counts.get('records', 0)} records, {self.counts.get('subjects', 0)} people"


class RiskAssessment(models.Model):
    """One version of the breach's risk assessment; the latest decides whether it is notified."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="assessments", verbose_name=_("breach"))
    version = models.PositiveIntegerField(_("version"))
    likelihood = models.PositiveSmallIntegerField(_("likelihood"), help_text=_("1 low to 4 very high."))
    severity = models.PositiveSmallIntegerField(_("severity"), help_text=_("1 low to 4 very high."))
    level = models.CharField(_("risk"), max_length=8, choices=RiskLevel.choices)
    consequences = models.TextField(_("likely consequences"), blank=True)
    mitigations = models.TextField(_("mitigating factors"), blank=True)
    encrypted = models.BooleanField(_("data encrypted"), default=False)
    pseudonymised = models.BooleanField(_("data pseudonymised"), default=False)
    assessed_at = models.DateTimeField(_("assessed at"))
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assessed by"),
    )

    class Meta:
        ordering = ["breach", "-version"]
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")
        constraints = [models.UniqueConstraint(fields=["breach", "version"], name="assessment_version_unique")]

    def __str__(self) -> str:
        return f"v{self.version}: {self.get_level_display()}"


class BreachFiling(models.Model):
    """A notification to the supervisory authority (Art. 33), initial or complementary."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="filings", verbose_name=_("breach"))
    phase = models.CharField(_("phase"), max_length=16, choices=FilingPhase.choices)
    filed_at = models.DateTimeField(_("filed at"))
    channel = models.CharField(_("channel"), max_length=100, help_text=_("The authority's portal, e-mail, ..."))
    reference = models.CharField(
        _("authority's reference"), max_length=100, blank=True, help_text=_("For the Belgian portal, DBN...")
    )
    late_reason = models.TextField(_("reasons for the delay"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["breach", "filed_at"]
        verbose_name = _("notification to the authority")
        verbose_name_plural = _("notifications to the authority")

    def __str__(self) -> str:
        return f"{self.get_phase_display()} {self.reference}".strip()


class BreachCommunication(models.Model):
    """One version of the communication to the people concerned (Art. 34), in one language."""

    breach = models.ForeignKey(
        Breach, on_delete=models.CASCADE, related_name="communications", verbose_name=_("breach")
    )
    version = models.PositiveIntegerField(_("version"))
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGES)
    text = models.TextField(_("text"))
    method = models.CharField(_("method"), max_length=10, choices=CommunicationMethod.choices, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["breach", "language", "-version"]
        verbose_name = _("communication to the people concerned")
        verbose_name_plural = _("communications to the people concerned")

    def __str__(self) -> str:
        return f"{self.language} v{self.version}"
