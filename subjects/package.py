"""The answer to an access request (Art. 15 GDPR) and the portability package (Art. 20), in the requester's
language (nl, fr or en).

The package (``ropa-subject-package/2``) is a zip of:
- ``answer.html``: the answer a person can read, item by item of Art. 15: the purposes and legal bases
  (15(1)(a)), the categories of data (b), the recipients (c), how long each category is kept (d), the
  rights to rectification, erasure, restriction and objection (e), the right to complain to the
  supervisory authority (f), where data not collected from the person came from (g), automated
  decisions and profiling (h), the safeguards of transfers outside the EEA (15(2)), and a copy of the
  data (15(3));
- ``package.json``: the same, machine-readable: the subject, the answer's items, the register context of
  every activity holding its data, its records with their payloads and dates, and its consents;
- ``records.csv``, ``activities.csv``, ``consents.csv``: the same, one row per item, for a spreadsheet;
  a cell holding several values holds one per line (as the register's CSV export writes them), a payload
  one ``name: value`` per line; never JSON.
It is built when downloaded and never stored: it is personal data.

Register text with no translation in the language asked falls back to English, then to the register's
own language, and is then marked with that language's code (``[nl] ...``): the requester is told which
text is not in their language.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from processing.models import ProcessingActivity
from processing.models.base import content_language, marked
from ropa.kernel.csv import csv_writer

from .choices import RecordStatus
from .models import ConsentRecord, DataSubject, DataSubjectRequest, PersonalDataRecord

PACKAGE_FORMAT = "ropa-subject-package/2"

RECORD_DATE_FIELDS = (
    "collected_on",
    "first_contact_on",
    "last_contact_on",
    "contract_ended_on",
    "service_ended_on",
    "subscription_ended_on",
    "account_closed_on",
    "last_activity_on",
    "event_ended_on",
    "competition_ended_on",
    "consent_withdrawn_on",
    "last_invoice_financial_year_end",
    "controller_requested_on",
    "relevance_ended_on",
)

# The supervisory authority a person may complain to (Art. 77), when the controller names none.
AUTHORITIES = {
    "BE": "Gegevensbeschermingsautoriteit / Autorité de protection des données (www.dataprotectionauthority.be)",
    "NL": "Autoriteit Persoonsgegevens (www.autoriteitpersoonsgegevens.nl)",
}


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _text(obj, field: str, language: str) -> str:
    """``obj``'s ``field`` in ``language``, or its fallback marked with the language it is in."""
    return marked(*obj.localized_with_language(field, language), language)


def _activity_context(activity: ProcessingActivity, language: str) -> dict:
    original = content_language()
    outside_eea = [r for r in activity.recipients.all() if r.inside_eea is False]
    return {
        "id": activity.pk,
        "reference": activity.reference,
        "name": _text(activity, "name", language),
        "controller": {
            "key": activity.controller.key,
            "name": activity.controller.name,
            "enterprise_number": activity.controller.enterprise_number,
            "dpo_email": activity.controller.dpo_email,
        },
        "purposes": [
            {
                "purpose": _text(purpose, "description", language),
                "legal_basis": purpose.legal_basis,
                "legal_basis_label": str(purpose.get_legal_basis_display()),
                "legitimate_interest": marked(purpose.legitimate_interest, original, language),
            }
            for purpose in activity.purposes.all()
        ],
        "data_categories": [category.code for category in activity.data_categories.all()],
        "recipients": [
            {
                "name": _text(recipient, "name", language),
                "kind": recipient.kind,
                "kind_label": str(recipient.get_kind_display()),
                "country": str(recipient.country),
                "inside_eea": recipient.inside_eea,
                "safeguard": recipient.safeguard,
            }
            for recipient in activity.recipients.all()
        ],
        "transfers": [
            {
                "recipient": _text(recipient, "name", language),
                "country": str(recipient.country),
                "country_name": str(recipient.country.name) if recipient.country else "",
                "safeguard": recipient.safeguard,
                "safeguard_label": str(recipient.get_safeguard_display()) if recipient.safeguard else _("none named"),
            }
            for recipient in outside_eea
        ],
        "retention": [rule.sentence(language) for rule in activity.retention_rules.all()],
        "source": marked(activity.data_source, original, language),
        "automated_decision_making": activity.automated_decision_making,
        "profiling": activity.profiling,
    }


def _retention_per_category(records, activities) -> list[dict]:
    """How long each category of the person's data is kept (Art. 15(1)(d)): the rules of the activities
    holding it that name the category, or that cover every category of their activity."""
    by_activity = {activity.pk: activity for activity in activities}
    seen: dict[tuple[str, str], set[str]] = {}
    for record in records:
        activity = by_activity.get(record.activity_id)
        if activity is None:
            continue
        sentences = seen.setdefault((record.data_category.code, record.data_category.localized("name")), set())
        for rule in activity.retention_rules.all():
            if rule.data_category_id in (None, record.data_category_id):
                sentences.add(rule.sentence())
    return [
        {"data_category": code, "name": name, "retention": sorted(sentences)}
        for (code, name), sentences in sorted(seen.items())
    ]


def _answer(subject: DataSubject, records, activities, contexts: list[dict]) -> dict:
    """The items of Art. 15 that are not the data itself, in the active language."""
    controller = subject.controller
    authority = controller.supervisory_authority or AUTHORITIES.get(str(controller.country), "")
    categories = sorted(
        {
            (
                record.data_category.localized("name"),
                record.data_category.special_category,
                record.data_category.criminal,
            )
            for record in records
        }
    )
    contact = controller.dpo_email or controller.email
    return {
        "controller": {
            "name": controller.name,
            "address": controller.address,
            "email": controller.email,
            "dpo_name": controller.dpo_name,
            "dpo_email": controller.dpo_email,
        },
        "purposes": [  # 15(1)(a)
            {"activity": c["name"], "purpose": p["purpose"], "legal_basis": p["legal_basis_label"]}
            for c in contexts
            for p in c["purposes"]
        ],
        "data_categories": [  # 15(1)(b)
            {"name": name, "special_category": special, "criminal": criminal} for name, special, criminal in categories
        ],
        "recipients": sorted(  # 15(1)(c)
            {
                f"{r['name']} ({r['kind_label']}{', ' + r['country'] if r['country'] else ''})"
                for c in contexts
                for r in c["recipients"]
            }
        ),
        "retention": _retention_per_category(records, activities),  # 15(1)(d)
        "rights": _(  # 15(1)(e)
            "You may ask us to rectify inaccurate data (Art. 16), to erase your data (Art. 17), to restrict its "
            "processing (Art. 18), to receive it in a portable form (Art. 20) and to object to its processing "
            "(Art. 21), and withdraw a consent at any time (Art. 7(3)). Write to %(contact)s."
        )
        % {"contact": contact or controller.name},
        "complaint": _(  # 15(1)(f)
            "You have the right to lodge a complaint with a supervisory authority (Art. 77): %(authority)s."
        )
        % {"authority": authority or _("the authority of the EU country where you live or work")},
        "sources": [  # 15(1)(g)
            {"activity": c["name"], "source": c["source"]} for c in contexts if c["source"]
        ],
        "automated_decisions": [  # 15(1)(h)
            {
                "activity": c["name"],
                "automated_decision_making": c["automated_decision_making"],
                "profiling": c["profiling"],
            }
            for c in contexts
            if c["automated_decision_making"] or c["profiling"]
        ],
        "transfers": [{"activity": c["name"], **t} for c in contexts for t in c["transfers"]],  # 15(2)
    }


def subject_package(subject: DataSubject, *, language: str = "en", now: dt.datetime | None = None) -> dict:
    """Everything the register holds about ``subject``, with the register context that explains it and
    the items of Art. 15, in ``language``."""
    now = now or timezone.now()
    with translation.override(language):
        records = list(
            PersonalDataRecord.objects.filter(subject=subject)
            .exclude(status=RecordStatus.ERASED)
            .select_related("activity", "data_category")
            .order_by("pk")
        )
        activity_ids = {record.activity_id for record in records}
        consents = list(
            ConsentRecord.objects.filter(subject=subject).select_related("purpose", "purpose__activity").order_by("pk")
        )
        activity_ids |= {consent.purpose.activity_id for consent in consents}
        activities = list(
            ProcessingActivity.objects.filter(pk__in=activity_ids)
            .select_related("controller")
            .prefetch_related("purposes", "data_categories", "recipients", Prefetch("retention_rules"))
            .order_by("reference", "pk")
        )
        contexts = [_activity_context(activity, language) for activity in activities]
        return {
            "format": PACKAGE_FORMAT,
            "language": language,
            "generated_at": _iso(now),
            "controller": subject.controller.key,
            "subject": {
                "key": subject.key,
                "identifiers": subject.identifiers,
                "registered_at": _iso(subject.created_at),
            },
            "answer": _answer(subject, records, activities, contexts),
            "activities": contexts,
            "records": [
                {
                    "id": record.pk,
                    "activity": record.activity.reference,
                    "data_category": record.data_category.code,
                    "data_category_name": record.data_category.localized("name"),
                    "source_system": record.source_system,
                    "external_id": record.external_id,
                    "payload": record.payload,
                    "dates": {name: _iso(getattr(record, name)) for name in RECORD_DATE_FIELDS},
                    "expires_at": _iso(record.expires_at),
                    "status": record.status,
                    "restricted_at": _iso(record.restricted_at),
                    "registered_at": _iso(record.created_at),
                }
                for record in records
            ],
            "consents": [
                {
                    "id": consent.pk,
                    "activity": consent.purpose.activity.reference,
                    "purpose": _text(consent.purpose, "description", language),
                    "given_at": _iso(consent.given_at),
                    "withdrawn_at": _iso(consent.withdrawn_at),
                    "source": consent.source,
                    "evidence": consent.evidence,
                    "evidence_version": consent.evidence_version,
                }
                for consent in consents
            ],
        }


def _flat(value, prefix: str = "") -> list[str]:
    """A value as lines for one CSV cell: a mapping one ``name: value`` per line (nested names dotted), a
    list one item per line, anything else as it is."""
    if isinstance(value, dict):
        lines = []
        for name, item in sorted(value.items(), key=lambda pair: str(pair[0])):  # jsonb keeps no order
            key = f"{prefix}.{name}" if prefix else str(name)
            if isinstance(item, dict | list):
                lines += _flat(item, key)
            else:
                lines.append(f"{key}: {'' if item is None else item}")
        return lines
    if isinstance(value, list):
        lines = []
        for item in value:
            lines += (
                _flat(item, prefix) if isinstance(item, dict | list) else [f"{prefix}: {item}" if prefix else str(item)]
            )
        return lines
    return [f"{prefix}: {value}"] if prefix else ["" if value is None else str(value)]


def _cell(value):
    if isinstance(value, dict | list):
        return "\n".join(_flat(value))
    return value


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")  # every cell defused against spreadsheet formulas
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    # A byte-order mark, so that spreadsheet programs read the UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _answer_html(package: dict, language: str) -> str:
    with translation.override(language):
        records = [{**record, "payload_text": "\n".join(_flat(record["payload"]))} for record in package["records"]]
        context = {"package": package, "answer": package["answer"], "records": records}
        return render_to_string("subjects/access_answer.html", context)


def subject_package_zip(subject: DataSubject, *, language: str = "en", now: dt.datetime | None = None) -> bytes:
    """The package as a zip (``answer.html``, ``package.json`` and three CSV files); see the module docstring."""
    package = subject_package(subject, language=language, now=now)
    record_header = [
        "id",
        "activity",
        "data_category",
        "source_system",
        "external_id",
        "payload",
        *RECORD_DATE_FIELDS,
        "expires_at",
        "status",
        "restricted_at",
        "registered_at",
    ]
    record_rows = [
        [r["id"], r["activity"], r["data_category"], r["source_system"], r["external_id"], r["payload"]]
        + [r["dates"][name] for name in RECORD_DATE_FIELDS]
        + [r["expires_at"], r["status"], r["restricted_at"], r["registered_at"]]
        for r in package["records"]
    ]
    activity_header = [
        "reference",
        "name",
        "controller",
        "purposes",
        "legal_bases",
        "data_categories",
        "recipients",
        "retention",
        "source",
    ]
    activity_rows = [
        [
            a["reference"],
            a["name"],
            a["controller"]["key"],
            [p["purpose"] for p in a["purposes"]],
            [p["legal_basis"] for p in a["purposes"]],
            a["data_categories"],
            [r["name"] for r in a["recipients"]],
            a["retention"],
            a["source"],
        ]
        for a in package["activities"]
    ]
    consent_header = ["id", "activity", "purpose", "given_at", "withdrawn_at", "source", "evidence", "evidence_version"]
    consent_rows = [[c[name] for name in consent_header] for c in package["consents"]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("answer.html", _answer_html(package, language))
        archive.writestr("package.json", json.dumps(package, ensure_ascii=False, indent=2, sort_keys=False))
        archive.writestr("records.csv", _csv(record_header, record_rows))
        archive.writestr("activities.csv", _csv(activity_header, activity_rows))
        archive.writestr("consents.csv", _csv(consent_header, consent_rows))
    return buffer.getvalue()


def package_filename(request: DataSubjectRequest) -> str:
    return f"subject-package-request-{request.pk}.zip"
