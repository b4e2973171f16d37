"""The register's shared vocabularies: categories of data subjects and of data, security measures."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..choices import (
    MeasureKind,
)
from .base import TranslatedNameMixin


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
