"""The register as JSON, format ``ropa-register/1`` (see docs/register-json.md): a contract.

Fields may be added, never renamed or removed, without a new format version. Where the contract
leaves a choice open this module decides it, once:

- names and descriptions are given in the requested language (English by default), falling back to
  English, then to the language of the source, and then marked with the language they are in
  (``"[nl] Facturatie"``), as every export marks them;
- ``data_subject_categories`` lists vocabulary codes, ``data_categories`` and ``security_measures``
  names, as the contract's example does; ``data_categories[]`` also carries its ``code`` (an added
  field), which ``retention[].data_category`` refers to;
- ``replaced_by`` is the reference of the activity that took over, or null.
"""

import datetime as dt
import json
from typing import IO

from processing.models import Controller

from .columns import retention_lines
from .entries import ActivityEntry
from .snapshot import RegisterSnapshot

FORMAT = "ropa-register/1"


def _text(value: str) -> str | None:
    value = (value or "").strip()
    return value or None


def _country(country) -> str | None:
    return country.code if country else None


def activity_document(entry: ActivityEntry, *, language: str = "en") -> dict:
    """One activity of the register, as ``controllers[].activities[]``."""
    activity = entry.activity
    retention_texts = retention_lines(entry, language)
    return {
        "id": activity.pk,
        "reference": activity.reference,
        "name": activity.localized_marked(language=language),
        "role": activity.role,
        "status": activity.status,
        "ended_on": activity.ended_on.isoformat() if activity.ended_on else None,
        "replaced_by": entry.replaced_by.reference if entry.replaced_by else None,
        "purposes": [
            {
                "id": purpose.id,
                "description": purpose.localized_marked("description", language),
                "legal_basis": purpose.legal_basis,
                "legitimate_interest": _text(purpose.legitimate_interest),
            }
            for purpose in entry.purposes
        ],
        "data_subject_categories": [category.code for category in entry.data_subject_categories],
        "data_categories": [
            {
                "code": category.code,
                "name": category.localized_marked(language=language),
                "special_category": category.special_category,
                "criminal": category.criminal,
            }
            for category in entry.data_categories
        ],
        "recipients": [
            {
                "name": recipient.localized_marked(language=language),
                "kind": recipient.kind,
                "country": _country(recipient.country),
                "inside_eea": recipient.inside_eea,
                "safeguard": recipient.safeguard or None,
            }
            for recipient in entry.recipients
        ],
        "retention": [
            {
                "data_category": item.data_category.code if item.data_category else None,
                "duration": {"value": item.rule.duration_value, "unit": item.rule.duration_unit}
                if item.rule.duration_value
                else None,
                "trigger": item.rule.trigger,
                "action": item.rule.action,
                "statutory": item.rule.statutory,
                "maximum": item.rule.maximum,
                "text": text,
            }
            for item, text in zip(entry.retention, retention_texts, strict=True)
        ],
        "security_measures": [measure.localized_marked(language=language) for measure in entry.security_measures],
        "automated_decision_making": activity.automated_decision_making,
        "profiling": activity.profiling,
        "dpia_required": activity.dpia_required,
        "sources": [{"statement": source.statement, "quote": source.quote} for source in entry.sources],
    }


def controller_document(controller: Controller) -> dict:
    """A controller's identification, as ``controllers[]`` without its ``activities``."""
    dpo = None
    if controller.dpo_name or controller.dpo_email or controller.dpo_phone:
        dpo = {
            "name": _text(controller.dpo_name),
            "email": _text(controller.dpo_email),
            "phone": _text(controller.dpo_phone),
            "is_staff": controller.dpo_is_staff,
        }
    statement = None
    if controller.statement_title or controller.statement_file:
        statement = {
            "title": controller.statement_title or controller.statement_file,
            "date": controller.statement_date.isoformat() if controller.statement_date else None,
        }
    return {
        "id": controller.pk,
        "name": controller.name,
        "enterprise_number": _text(controller.enterprise_number),
        "address": _text(controller.address),
        "country": _country(controller.country),
        "email": _text(controller.email),
        "phone": _text(controller.phone),
        "website": _text(controller.website),
        "dpo": dpo,
        "dpo_not_required": _text(controller.dpo_not_required),
        "supervisory_authority": _text(controller.supervisory_authority),
        "statement": statement,
    }


def _envelope(snapshot: RegisterSnapshot) -> dict:
    generated_at = snapshot.generated_at.astimezone(dt.UTC).replace(microsecond=0)
    return {
        "format": FORMAT,
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
        "as_of": snapshot.as_of.isoformat() if snapshot.as_of else None,
    }


def snapshot_document(snapshot: RegisterSnapshot, *, language: str = "en") -> dict:
    """The whole register as one ``ropa-register/1`` document."""
    document = _envelope(snapshot)
    document["controllers"] = [
        {
            **controller_document(controller),
            "activities": [activity_document(e, language=language) for e in snapshot.activities(controller)],
        }
        for controller in snapshot.controllers
    ]
    return document


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def snapshot_json_chunks(snapshot: RegisterSnapshot, *, language: str = "en", counter: dict | None = None):
    """The same document as ``snapshot_document``, serialised piece by piece in bounded memory:
    one line per controller heading and per activity."""
    counter = counter if counter is not None else {}
    counter.setdefault("activities", 0)
    yield _dumps(_envelope(snapshot))[:-1] + ', "controllers": ['
    for c_index, controller in enumerate(snapshot.controllers):
        yield ("," if c_index else "") + "\n" + _dumps(controller_document(controller))[:-1] + ', "activities": ['
        for a_index, entry in enumerate(snapshot.activities(controller)):
            counter["activities"] += 1
            yield ("," if a_index else "") + "\n" + _dumps(activity_document(entry, language=language))
        yield "\n]}"
    yield "\n]}\n"


def write_json(snapshot: RegisterSnapshot, out: IO[bytes], *, language: str) -> int:
    """Write the ``ropa-register/1`` document to ``out`` (UTF-8); return the number of activities."""
    counter: dict = {}
    for chunk in snapshot_json_chunks(snapshot, language=language, counter=counter):
        out.write(chunk.encode())
    return counter["activities"]
