"""Data subjects and their records in the admin. Lists never show personal data: a record's payload and a
subject's identifiers appear only on their own page. Records are registered by internal systems and
erased only by the retention sweep, so the admin cannot add or delete them."""

from .records import ConsentRecordAdmin, DataSubjectAdmin, PersonalDataRecordAdmin
from .requests import DataSubjectRequestAdmin

__all__ = ["ConsentRecordAdmin", "DataSubjectAdmin", "DataSubjectRequestAdmin", "PersonalDataRecordAdmin"]
