"""What the register's models share: translated names and timestamps."""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

TRANSLATED_LANGUAGES = ("en", "fr")


def content_language() -> str:
    """The language the register's own text is written in (``ROPA_CONTENT_LANGUAGE``, Dutch by default):
    what a field without ``_en``/``_fr`` counterparts, and the field itself, are in."""
    return getattr(settings, "ROPA_CONTENT_LANGUAGE", "nl")


def marked(text: str, text_language: str, asked: str) -> str:
    """``text`` as shown to a reader who asked for ``asked``: prefixed with its language's code when it is
    in another one (``[nl] Klantenbeheer``), so no reader takes a fallback for a translation."""
    if not text or text_language == (asked or "")[:2]:
        return text
    return f"[{text_language}] {text}"


class TranslatedNameMixin:
    """Content is kept in the language of its source (``content_language``); ``name_en``/``name_fr``
    translate it where known. A reader gets the language asked, else English, else the original."""

    def localized_with_language(self, field: str = "name", language: str | None = None) -> tuple[str, str]:
        """The text of ``field`` for a reader of ``language`` and the language it is in: the translation
        asked for, else the English one, else the original."""
        language = (language or get_language() or "en")[:2]
        original = content_language()
        for candidate in (language, "en"):
            if candidate == original:
                break
            if candidate in TRANSLATED_LANGUAGES:
                translated = getattr(self, f"{field}_{candidate}", "")
                if translated:
                    return translated, candidate
        return getattr(self, field), original

    def localized(self, field: str = "name", language: str | None = None) -> str:
        return self.localized_with_language(field, language)[0]

    def localized_marked(self, field: str = "name", language: str | None = None) -> str:
        """``localized``, marked with its language when it is not the one asked (see ``marked``)."""
        language = (language or get_language() or "en")[:2]
        return marked(*self.localized_with_language(field, language), language)


class Timestamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, help_text=_("When the entry was created."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, help_text=_("When the entry last changed."))

    class Meta:
        abstract = True
