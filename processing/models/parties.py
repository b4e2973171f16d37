"""The parties of the register: controllers (Art. 30(1)(a)) and recipients (Art. 30(1)(d), (e))."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from .. import rules
from ..choices import (
    RecipientKind,
    TransferSafeguard,
)
from .base import Timestamped, TranslatedNameMixin


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
    dpo_not_required = models.TextField(
        _("why no DPO"),
        blank=True,
        help_text=_(
            "When no DPO is designated: why Art. 37(1) does not require one (for instance: not a public body, and "
            "no large-scale monitoring or special-category data as a core activity)."
        ),
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
        rules.raise_problems(
            rules.controller_problems(
                enterprise_number=self.enterprise_number,
                dpo=(self.dpo_name, self.dpo_email, self.dpo_phone),
                dpo_not_required=self.dpo_not_required,
            )
        )


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
    description_fr = models.TextField(_("description (French)"), blank=True, help_text=_("French description."))
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
