"""The one eraser (``erase_rows``) and what an erasure leaves: tombstone references without identifiers
(``record_ref``), the erasure feed line, the tombstone chain, and the forgetting of a subject that
nothing keeps any more (``subjects_forget``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from ropa.audit.context import current_actor
from ropa.audit.models import AuditAction, AuditEvent
from ropa.kernel.sql import insert_rows
from subjects.choices import RecordStatus
from subjects.models import (
    ConsentRecord,
    DataSubject,
    DataSubjectRequest,
    DataSubjectRequestEvent,
    PersonalDataRecord,
)

from .. import engine
from ..locks import CHAIN_LOCK_KEY, advisory_xact_lock
from ..models import ErasureNotice, LegalHold, RetentionRun, Tombstone

logger = logging.getLogger(__name__)


def record_ref(source_system: str, external_id: str | None) -> str:
    """What a tombstone keeps to recognise its record after a restore: a keyed hash of the source system and
    its id, so the tombstone holds no identifier (blank when the record had no id left)."""
    if external_id is None:
        return ""
    return _record_ref(source_system, external_id, settings.SECRET_KEY)


def _record_ref(source_system: str, external_id: str, secret: str) -> str:
    value = f"{source_system}\n{external_id}"
    return salted_hmac("ropa.retention.record_ref", value, secret=secret, algorithm="sha256").hexdigest()


def record_ref_matches(ref: str, source_system: str, external_id: str | None) -> bool:
    """Is ``ref`` the tombstone reference of this record, under the secret key or one of its fallbacks (a
    tombstone written before the key was rotated)?"""
    if external_id is None:
        return ref == ""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(constant_time_compare(ref, _record_ref(source_system, external_id, key)) for key in keys)


# What stays of a forgotten subject: its pseudonymous key, and of its consents and requests what proves they
# were handled (ids, purposes, types, dates, statuses, outcomes and events with ids and counts). What goes:
# every field in which the person or the DPO's words about the person can sit (docs/subjects.md).
FORGOTTEN_CONSENT_TEXTS = ("source", "evidence", "withdrawal_source")
FORGOTTEN_REQUEST_TEXTS = ("source", "note", "extension_reason", "rejection_reason")
FORGOTTEN_EVENT_TEXTS = ("reason",)


def subjects_forget(*, subject_ids, now: dt.datetime | None = None) -> list[int]:
    """Forget each of ``subject_ids`` of whom nothing is kept any more (no record left that is not erased, no
    legal hold in force on the subject): clear its identifiers and the free text of its consents, its
    requests and their events (``FORGOTTEN_*_TEXTS``); its key stays, for the request history. Set-based, a
    few statements whatever the number of subjects, in the caller's transaction (the sweep's: the batch that
    erased the last record). Audited once per controller and call: field names and the subjects' ids. Returns
    the ids forgotten."""
    ids = sorted(set(subject_ids))
    if not ids:
        return []
    kept = PersonalDataRecord.objects.filter(subject_id=OuterRef("pk")).exclude(status=RecordStatus.ERASED)
    held = LegalHold.objects.in_force().filter(subject_id=OuterRef("pk"))
    forgotten = list(
        DataSubject.objects.filter(pk__in=ids)
        .exclude(Exists(kept))
        .exclude(Exists(held))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not forgotten:
        return []
    # Only rows that still hold something are written.
    DataSubject.objects.filter(pk__in=forgotten).exclude(identifiers={}).update(identifiers={})
    blank = dict.fromkeys(FORGOTTEN_CONSENT_TEXTS, "")
    ConsentRecord.objects.filter(subject_id__in=forgotten).exclude(**blank).update(**blank)
    blank = dict.fromkeys(FORGOTTEN_REQUEST_TEXTS, "")
    DataSubjectRequest.objects.filter(subject_id__in=forgotten).exclude(**blank).update(**blank)
    blank = dict.fromkeys(FORGOTTEN_EVENT_TEXTS, "")
    DataSubjectRequestEvent.objects.filter(request__subject_id__in=forgotten).exclude(**blank).update(**blank)
    # One audit event per controller and call (per sweep batch), naming the subjects by id: a row per subject
    # would cost the sweep more than the forgetting itself; one per controller lets each controller's users
    # read theirs (``AuditEvent.controller_id``).
    actor = current_actor()
    by_controller: dict[int, list[int]] = {}
    for pk, controller_id in (
        DataSubject.objects.filter(pk__in=forgotten).order_by("pk").values_list("pk", "controller_id")
    ):
        by_controller.setdefault(controller_id, []).append(pk)
    for controller_id, pks in sorted(by_controller.items()):
        AuditEvent(
            at=now or timezone.now(),
            actor_user=actor.user if getattr(actor.user, "pk", None) else None,
            actor_token=actor.token_key,
            actor=actor.label[:200],
            controller_id=controller_id,
            action=AuditAction.ERASURE,
            object_type=DataSubject._meta.label_lower,
            object_id=str(pks[0]),
            object_repr=f"{len(pks)} {DataSubject._meta.verbose_name_plural} forgotten"[:200],
            changed_fields=[
                "identifiers",
                *(f"consents.{name}" for name in FORGOTTEN_CONSENT_TEXTS),
                *(f"requests.{name}" for name in FORGOTTEN_REQUEST_TEXTS),
                *(f"requests.events.{name}" for name in FORGOTTEN_EVENT_TEXTS),
            ],
            changes={"subjects": pks},
        ).save()
    logger.info("%d data subject(s) forgotten: nothing of them is kept any more", len(forgotten))
    return forgotten


def records_erase(
    *, by_action: Mapping[str, list[int]], erased_at: dt.datetime, now: dt.datetime | None = None
) -> list[int]:
    """Anonymise or delete the given records, set-based. The one place records are erased: the sweep, an
    erasure request and the DPO's decision in the review queue (through ``erase_rows``), and re-erasure after
    a restore (``reapply.erasures_reapply``). Callers lock, check holds and write evidence. The subjects of
    whom nothing is kept any more then are forgotten in the same transaction (``subjects_forget``); returns
    their ids."""
    erasing = [pk for action in ("anonymise", "delete") for pk in by_action.get(action, ())]
    subject_ids = list(
        PersonalDataRecord.objects.filter(pk__in=erasing, subject__isnull=False)
        .order_by()
        .values_list("subject_id", flat=True)
        .distinct()
    )
    if by_action.get("anonymise"):
        # Statistics stay (activity, category, dates, source system); whatever identifies goes.
        PersonalDataRecord.objects.filter(pk__in=by_action["anonymise"]).update(
            status=RecordStatus.ERASED,
            erased_at=erased_at,
            payload=None,
            subject=None,
            external_id=None,
            restricted_at=None,
            restricted_by=None,
            kept_until=None,
            updated_at=now or erased_at,
        )
    if by_action.get("delete"):
        PersonalDataRecord.objects.filter(pk__in=by_action["delete"]).delete()
    return subjects_forget(subject_ids=subject_ids, now=now or erased_at)


# What erasing a record needs to know of it, in this order (``erase_rows``).
ERASE_COLUMNS = (
    "pk",
    "expiry_rule_id",
    "expiry_rule__action",
    "activity_id",
    "data_category_id",
    "source_system",
    "external_id",
)


def erase_rows(rows: list[tuple], *, run: RetentionRun, now: dt.datetime) -> list[int]:
    """Erase the records of ``rows`` (``ERASE_COLUMNS``, the action being ``anonymise`` or ``delete``), which
    the caller has locked and re-checked: anonymise or delete them set-based, put the ones with an id in
    their source system's erasure feed, and extend the tombstone chain with one tombstone each, for ``run``.
    The one eraser: the sweep, the erasure of a subject's records on request and the DPO's decision in the
    review queue all come here. Returns the ids of the subjects forgotten (``records_erase``)."""
    by_action = defaultdict(list)
    for row in rows:
        by_action[row[2]].append(row[0])
    forgotten = records_erase(by_action=by_action, erased_at=now)
    insert_rows(
        ErasureNotice,
        ("source_system", "external_id", "record_id", "action", "erased_at"),
        [(src, ext, pk, action, now) for pk, _rule, action, _act, _cat, src, ext in rows if ext is not None],
    )
    # The chain: one writer at a time, held only for the few statements that extend it.
    advisory_xact_lock(CHAIN_LOCK_KEY)
    head = Tombstone.objects.order_by("-sequence").values_list("sequence", "hash").first()
    sequence, previous = head if head else (0, engine.GENESIS_HASH)
    tombstones = []
    for pk, rule_id, action, activity_id, category_id, source_system, external_id in rows:
        sequence += 1
        fields = {
            "sequence": sequence,
            "record_id": pk,
            "activity_id": activity_id,
            "data_category_id": category_id,
            "rule_id": rule_id,
            "action": action,
            "source_system": source_system,
            "run_id": run.pk,
            "erased_at": now,
        }
        digest = engine.tombstone_hash(fields, previous)
        tombstones.append((*fields.values(), previous, digest, record_ref(source_system, external_id)))
        previous = digest
    insert_rows(Tombstone, (*engine.TOMBSTONE_HASHED_FIELDS, "previous_hash", "hash", "record_ref"), tombstones)
    return forgotten
