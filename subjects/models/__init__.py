"""Data subjects and the personal-data records internal systems register about them.

These tables hold personal data, so they deliberately keep no version history (a history table would
keep a copy of every payload after erasure) and have no delete signals (a ``post_delete`` receiver
would turn the retention sweep's set-based delete into a per-row loop). Records are written by the
services in ``retention/services/``, which keep ``expires_at`` in step with the rules.
"""

from .records import (
    ConsentRecord,
    ConsentRecordQuerySet,
    DataSubject,
    PersonalDataRecord,
    PersonalDataRecordQuerySet,
    new_subject_key,
)
from .requests import (
    BY_URGENCY,
    DataSubjectRequest,
    DataSubjectRequestEvent,
    DataSubjectRequestQuerySet,
    ReviewDecision,
)

__all__ = [
    "BY_URGENCY",
    "ConsentRecord",
    "ConsentRecordQuerySet",
    "DataSubject",
    "DataSubjectRequest",
    "DataSubjectRequestEvent",
    "DataSubjectRequestQuerySet",
    "PersonalDataRecord",
    "PersonalDataRecordQuerySet",
    "ReviewDecision",
    "new_subject_key",
]
