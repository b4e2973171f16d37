"""Retention enforcement: the code that erases personal data. Read this before changing it.

What it guarantees
- A record is erased only when, under the row lock of the batch that erases it, it is flagged, its
  grace period is over, its retention (``expires_at``) is still over, its deciding rule still says
  anonymise or delete, and no legal hold in force covers it (record, subject, activity, controller).
- ``legal_hold_place`` takes a database lock that every sweep batch takes in shared mode, so once it has
  returned no batch can still erase what it holds; releasing the hold lets the next sweep take it.
- Every erasure writes, in the same transaction, one tombstone (no personal data; chained by hash under
  a lock, so concurrent sweeps make one linear chain), one erasure-feed line for the source system,
  and the run's counts. A batch is all of that or none of it: a worker killed mid-sweep leaves whole
  batches, and the next sweep picks up the rest.
- Batches are keyset pages by primary key, each one short transaction, ``SELECT ... FOR UPDATE SKIP
  LOCKED``: two sweeps at once share the work, never erase or count a record twice.
- Due records left alone under a hold are counted per deciding rule (``counts[rule]["hold"]``) by one
  grouped query at the end of the run, so once per run; ``skipped_for_hold`` is their sum.
- A dry run asks the same questions without locks or writes and reports exactly what a real run at the
  same ``now`` would do (flagging, then erasing what a zero grace period makes erasable at once).
- An erasure request (Art. 17) erases a subject's records through the same eraser (``erase_rows``), under
  the same locks, with the same evidence (a run of origin ``request``, tombstones, feed lines), except the
  records a legal hold in force or a statutory minimum still running keeps (``subject_records_erase``).
- The DPO's decision to erase a record a flag-only rule flagged (``review.py``) goes through the same eraser
  too (a run of origin ``review``), and is refused for a record under a hold or inside a statutory minimum.
- Whoever erases, the batch that erases the last record of a subject that nothing else keeps (no record
  left unerased, no hold on the subject) forgets the subject in the same transaction: its identifiers and
  the free text of its consents and requests are cleared, set-based (``subjects_forget``).

What it never does
- Never erases a record that is held or not yet expired; never one only flagged by a flag-only rule unless
  the DPO decides so in the review queue.
- Never loops over records in Python to change them: updates and deletes are set-based per batch, and
  the record tables have no delete signals or history that would copy personal data.
- Never puts personal data in evidence: tombstones, runs, logs and mails carry ids and counts only.

The decision is pure (``engine.py``), the doing is here, the scheduling is ``tasks.py``; the task, this
service and the management command share one name, ``retention_enforce``.

The parts: ``records`` (registering and dating records, their expiry), ``rule_changes`` (what a rule
change does to the records it keeps), ``holds``, ``feed`` (the erasure feed), ``erasure`` (the one eraser
and its evidence), ``subject_records`` (a person's records at their request), ``sweep``, and the API's
batch paths: ``batches`` (records registered a thousand at a time) and ``rule_sync`` (an activity's rules
from its payload). Callers import from here.
"""

from .batches import BatchConflict, RecordInput, record_register_many
from .erasure import ERASE_COLUMNS, erase_rows, record_ref, record_ref_matches, records_erase
from .feed import erasure_confirm
from .holds import legal_hold_place, legal_hold_release
from .records import (
    DATE_FIELDS,
    OMITTED,
    Omitted,
    record_change_refusal,
    record_changes,
    record_expiry_recompute,
    record_expiry_warnings,
    record_register,
    record_update_dates,
    record_upsert,
    record_warnings,
    records_trigger_date_set,
    subject_register,
)
from .rule_changes import (
    RetentionChange,
    RuleWeakening,
    StatutoryRuleWeakened,
    rule_changed,
    rule_changes,
    rule_weakening,
    rule_write_guard,
)
from .rule_sync import retention_rules_sync
from .subject_records import statutory_keep, subject_records_erase, subject_records_erase_preview
from .sweep import retention_enforce, retention_run_mark_interrupted

__all__ = [
    "DATE_FIELDS",
    "ERASE_COLUMNS",
    "OMITTED",
    "BatchConflict",
    "Omitted",
    "RecordInput",
    "RetentionChange",
    "RuleWeakening",
    "StatutoryRuleWeakened",
    "erase_rows",
    "erasure_confirm",
    "legal_hold_place",
    "legal_hold_release",
    "record_change_refusal",
    "record_changes",
    "record_expiry_recompute",
    "record_expiry_warnings",
    "record_ref",
    "record_ref_matches",
    "record_register",
    "record_register_many",
    "record_update_dates",
    "record_upsert",
    "record_warnings",
    "records_erase",
    "records_trigger_date_set",
    "retention_enforce",
    "retention_rules_sync",
    "retention_run_mark_interrupted",
    "rule_changed",
    "rule_changes",
    "rule_weakening",
    "rule_write_guard",
    "statutory_keep",
    "subject_records_erase",
    "subject_records_erase_preview",
    "subject_register",
]
