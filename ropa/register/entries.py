"""What every export reads: one register entry with every relation resolved (``ActivityEntry``), and
the batch size the readers (snapshot, evidence) fetch activities by."""

from dataclasses import dataclass

from processing.models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Purpose,
    Recipient,
    SecurityMeasure,
    Source,
)
from retention.models import RetentionRule

BATCH_SIZE = 200


@dataclass
class RetentionItem:
    """A retention rule with the data category it is narrowed to (as of the snapshot's date)."""

    rule: RetentionRule
    data_category: DataCategory | None


@dataclass
class ActivityEntry:
    """One register entry with every relation resolved: what every export format reads."""

    controller: Controller
    activity: ProcessingActivity
    purposes: list[Purpose]
    data_subject_categories: list[DataSubjectCategory]
    data_categories: list[DataCategory]
    recipients: list[Recipient]
    security_measures: list[SecurityMeasure]
    retention: list[RetentionItem]
    sources: list[Source]
    replaced_by: ProcessingActivity | None = None
    evidence: object = None  # ropa.register.evidence.ActivityEvidence, when asked for
