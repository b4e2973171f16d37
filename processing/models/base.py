"""What the register's models share: translated names and timestamps."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


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
