"""The register of processing activities (Art. 30(1) and 30(2) GDPR).

Every register model keeps its version history (django-simple-history), so the register as it stood
on any past date can be rebuilt, and every field carries help text for the admin and the API schema.
"""

from .activities import ProcessingActivity, ProcessingActivityQuerySet, Purpose, Source, review_cycle
from .base import Timestamped, TranslatedNameMixin
from .loaded import LoadedEntry
from .parties import Controller, Recipient
from .vocabulary import DataCategory, DataSubjectCategory, SecurityMeasure, Vocabulary

__all__ = [
    "Controller",
    "DataCategory",
    "DataSubjectCategory",
    "LoadedEntry",
    "ProcessingActivity",
    "ProcessingActivityQuerySet",
    "Purpose",
    "Recipient",
    "SecurityMeasure",
    "Source",
    "Timestamped",
    "TranslatedNameMixin",
    "Vocabulary",
    "review_cycle",
]
