"""What a register file last loaded into each entry: the importer's bookkeeping, not register content."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
