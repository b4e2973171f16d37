"""The register of processing activities (Art. 30(1) and 30(2) GDPR).

Every register model keeps its version history (django-simple-history), so the register as it stood
on any past date can be rebuilt, and every field carries help text for the admin and the API schema.
"""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from . import rules
from .choices import (
    ActivityRole,
    ActivityStatus,
    Art9Condition,
    LegalBasis,
    MeasureKind,
    RecipientKind,
    TransferSafeguard,
)


class TranslatedNameMixin:
    """Content is kept in the language of its source; ``name_en``/``name_fr`` translate it where known."""

    def localized(self, field: str = "name", language: str | None = None) -> str:
        language = (language or get_language() or "en")[:2]
        translated = getattr(self, f"{field}_{language}", "") if language in ("en", "fr") else ""
        return translated or getattr(self, field)


class Timestamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, help_text=_("When the entry was created."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, help_text=_("When the entry last changed."))

    class Meta:
        abstract = True


class Controller(TranslatedNameMixin, Timestamped):
    """A controller whose processing the register describes (Art. 30(1)(a))."""

    key = models.SlugField(
        _("key"), max_length=64, unique=True, help_text=_("Stable identifier used by imports and the API.")
    )
    name = models.CharField(_("legal name"), max_length=200, help_text=_("Legal name, with its legal form."))
    enterprise_number = models.CharField(
        _("enterprise number"),
        max_length=32,
        blank=True,
        help_text=_("KBO/BCE number (BE0123.456.789) or another register number."),
    )
    address = models.TextField(_("address"), blank=True, help_text=_("Registered office address."))
    country = CountryField(_("country"), blank=True, help_text=_("Country of establishment."))
    email = models.EmailField(_("e-mail"), blank=True, help_text=_("Contact e-mail for privacy questions."))
    phone = models.CharField(_("phone"), max_length=64, blank=True, help_text=_("Contact phone number."))
    website = models.CharField(_("website"), max_length=200, blank=True, help_text=_("Public website."))
    dpo_name = models.CharField(
        _("DPO name"), max_length=200, blank=True, help_text=_("Data protection officer (Art. 37), if appointed.")
    )
    dpo_email = models.EmailField(_("DPO e-mail"), blank=True, help_text=_("How to reach the DPO."))
    dpo_phone = models.CharField(_("DPO phone"), max_length=64, blank=True, help_text=_("DPO phone number."))
    dpo_is_staff = models.BooleanField(
        _("DPO is staff"),
        null=True,
        blank=True,
        help_text=_("Is the DPO a member of staff (yes) or an external service (no)?"),
    )
    representative = models.TextField(
        _("representative"),
        blank=True,
        help_text=_("Representative in the EU for a controller established outside it (Art. 27)."),
    )
    supervisory_authority = models.CharField(
        _("supervisory authority"), max_length=200, blank=True, help_text=_("Lead supervisory authority.")
    )
    group = models.CharField(
        _("group"), max_length=200, blank=True, help_text=_("Group of undertakings the controller belongs to.")
    )
    statement_title = models.CharField(
        _("statement title"),
        max_length=200,
        blank=True,
        help_text=_("Title of the privacy statement the entry was taken from."),
    )
    statement_file = models.CharField(
        _("statement file"), max_length=200, blank=True, help_text=_("File name of the source document.")
    )
    statement_date = models.DateField(
        _("statement date"),
        null=True,
        blank=True,
        help_text=_("Date or version of the source document, if it gives one."),
    )
    source_quote = models.TextField(
        _("source quote"),
        blank=True,
        help_text=_("Sentences of the source document this entry comes from, one per paragraph."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("controller")
        verbose_name_plural = _("controllers")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        rules.raise_problems(rules.enterprise_number_problems(self.enterprise_number))


class Recipient(TranslatedNameMixin, Timestamped):
    """Someone personal data is disclosed to: processor, other controller, authority (Art. 30(1)(d), (e))."""

    controller = models.ForeignKey(
        Controller,
        on_delete=models.PROTECT,
        related_name="recipients",
        verbose_name=_("controller"),
        help_text=_("The controller whose register lists this recipient."),
    )
    key = models.SlugField(_("key"), max_length=64, help_text=_("Stable identifier, unique per controller."))
    name = models.CharField(_("name"), max_length=200, help_text=_("Name of the recipient or category of recipients."))
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True, help_text=_("English name."))
    name_fr = models.CharField(_("name (French)"), max_length=200, blank=True, help_text=_("French name."))
    description = models.TextField(_("description"), blank=True, help_text=_("What the recipient does with the data."))
    description_en = models.TextField(_("description (English)"), blank=True, help_text=_("English description."))
    kind = models.CharField(
        _("kind"), max_length=32, choices=RecipientKind.choices, help_text=_("Role of the recipient.")
    )
    country = CountryField(
        _("country"), blank=True, help_text=_("Country where the recipient processes the data; blank if unknown.")
    )
    inside_eea = models.BooleanField(
        _("inside the EEA"),
        null=True,
        blank=True,
        help_text=_("Derived from the country when it is known; set by hand only when the country is not."),
    )
    dpa_signed = models.BooleanField(
        _("processor agreement signed"),
        null=True,
        blank=True,
        help_text=_("Data processing agreement (Art. 28(3)) in place?"),
    )
    safeguard = models.CharField(
        _("transfer safeguard"),
        max_length=16,
        choices=TransferSafeguard.choices,
        blank=True,
        help_text=_("Required for a transfer outside the EEA (Art. 44-49)."),
    )
    safeguard_note = models.TextField(
        _("safeguard note"), blank=True, help_text=_("Details of the safeguard or its absence.")
    )
    source_quote = models.TextField(
        _("source quote"),
        blank=True,
        help_text=_("Sentences of the source document this entry comes from, one per paragraph."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["controller__name", "name"]
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients and processors")
        constraints = [
            models.UniqueConstraint(fields=["controller", "key"], name="recipient_key_unique_per_controller")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.inside_eea = rules.inside_eea(self.country.code or None, self.inside_eea)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        country = self.country.code or None
        inside_eea = rules.inside_eea(country, self.inside_eea)
        rules.raise_problems(rules.recipient_problems(country=country, inside_eea=inside_eea, safeguard=self.safeguard))


class Vocabulary(TranslatedNameMixin, models.Model):
    code = models.SlugField(
        _("code"), max_length=64, unique=True, help_text=_("Stable identifier used by imports and the API.")
    )
    name = models.CharField(_("name"), max_length=200, help_text=_("Name in the language of the register."))
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True, help_text=_("English name."))
    name_fr = models.CharField(_("name (French)"), max_length=200, blank=True, help_text=_("French name."))
    description = models.TextField(_("description"), blank=True, help_text=_("What the entry covers."))

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.localized()


class DataSubjectCategory(Vocabulary):
    """A category of data subjects: customers, prospects, job applicants (Art. 30(1)(c))."""

    history = HistoricalRecords()

    class Meta(Vocabulary.Meta):
        verbose_name = _("data-subject category")
        verbose_name_plural = _("data-subject categories")


class DataCategory(Vocabulary):
    """A category of personal data (Art. 30(1)(c)); flags special (Art. 9) and criminal (Art. 10) data."""

    special_category = models.BooleanField(
        _("special category"),
        default=False,
        help_text=_("Special-category data (Art. 9): health, biometrics, beliefs, ..."),
    )
    criminal = models.BooleanField(
        _("criminal data"), default=False, help_text=_("Criminal convictions and offences (Art. 10).")
    )

    history = HistoricalRecords()

    class Meta(Vocabulary.Meta):
        verbose_name = _("data category")
        verbose_name_plural = _("data categories")


class SecurityMeasure(Vocabulary):
    """A technical or organisational security measure (Art. 30(1)(g), Art. 32)."""

    kind = models.CharField(
        _("kind"), max_length=16, choices=MeasureKind.choices, help_text=_("Technical or organisational.")
    )

    history = HistoricalRecords()

    class Meta(Vocabulary.Meta):
        verbose_name = _("security measure")
        verbose_name_plural = _("security measures")


class ProcessingActivityQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=ActivityStatus.ACTIVE)

    def with_register_relations(self):
        return self.select_related("controller", "replaced_by").prefetch_related(
            "purposes", "data_subject_categories", "data_categories", "recipients", "security_measures", "sources"
        )


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


class LoadedEntry(models.Model):
    """What a register file last loaded into one entry of the register, as a digest of each field.

    A later load compares the entry with it to tell a change made in the register (by the DPO, the API)
    from a change in the file, so that it never overwrites the former silently. Digests only: no value
    is copied here.
    """

    entry = models.CharField(
        _("entry"),
        max_length=300,
        unique=True,
        help_text=_("The entry's model and key, e.g. “processing.processingactivity:voiceking/VK-03”."),
    )
    object_id = models.PositiveBigIntegerField(_("object id"), help_text=_("The entry's id when it was loaded."))
    file = models.CharField(_("file"), max_length=200, help_text=_("The register file that loaded it last."))
    digests = models.JSONField(
        _("digests"),
        default=dict,
        help_text=_("A digest of every value the file loaded into the entry and its parts, by field name."),
    )
    loaded_at = models.DateTimeField(_("loaded at"), help_text=_("When the file last loaded the entry."))

    class Meta:
        verbose_name = _("loaded entry")
        verbose_name_plural = _("loaded entries")

    def __str__(self) -> str:
        return f"{self.entry} ({self.file})"
