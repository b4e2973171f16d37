"""Vocabularies of the subjects app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordStatus(models.TextChoices):
    """Where a personal-data record stands in its retention: kept, flagged for erasure, or erased."""

    ACTIVE = "active", _("active")
    FLAGGED = "flagged", _("flagged for erasure")
    ERASED = "erased", _("erased")
