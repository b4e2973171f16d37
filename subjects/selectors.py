"""Reads of the subjects app: the package of everything held about a person (Art. 15, Art. 20), and
requests as the admin and the API list them.

The package (``ropa-subject-package/1``) is a zip of:
- ``package.json``: the subject, the register context of every activity holding its data (controller,
  purposes and legal bases, data categories, recipients, retention sentences), its records with their
  payloads and dates, and its consents;
- ``records.csv``, ``activities.csv``, ``consents.csv``: the same, one row per item, for a spreadsheet;
  nested values (payloads, lists) are JSON in their cell.
It is built when downloaded and never stored: it is personal data.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from django.db.models import Prefetch
from django.utils import timezone

from processing.models import ProcessingActivity
from ropa.kernel.csv import csv_writer

from .choices import RecordStatus
from .models import ConsentRecord, DataSubject, DataSubjectRequest, PersonalDataRecord

PACKAGE_FORMAT = "ropa-subject-package/1"

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


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def request_list():
    """Requests with what their lists show, open ones first, most urgent first."""
    return DataSubjectRequest.objects.select_related("controller", "subject").by_urgency()


def _activity_context(activity: ProcessingActivity) -> dict:
    return {
        "id": activity.pk,
        "reference": activity.reference,
        "name": activity.localized("name"),
        "controller": {
            "key": activity.controller.key,
            "name": activity.controller.name,
            "enterprise_number": activity.controller.enterprise_number,
            "dpo_email": activity.controller.dpo_email,
        },
        "purposes": [
            {
                "purpose": purpose.localized("description"),
                "legal_basis": purpose.legal_basis,
                "legal_basis_label": str(purpose.get_legal_basis_display()),
                "legitimate_interest": purpose.legitimate_interest,
            }
            for purpose in activity.purposes.all()
        ],
        "data_categories": [category.code for category in activity.data_categories.all()],
        "recipients": [
            {
                "name": recipient.localized("name"),
                "kind": recipient.kind,
                "country": str(recipient.country),
                "inside_eea": recipient.inside_eea,
                "safeguard": recipient.safeguard,
            }
            for recipient in activity.recipients.all()
        ],
        "retention": [rule.sentence() for rule in activity.retention_rules.all()],
        "automated_decision_making": activity.automated_decision_making,
        "profiling": activity.profiling,
    }


def subject_package(subject: DataSubject, *, now: dt.datetime | None = None) -> dict:
    """Everything the register holds about ``subject``, with the register context that explains it."""
    now = now or timezone.now()
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
    activities = (
        ProcessingActivity.objects.filter(pk__in=activity_ids)
        .select_related("controller")
        .prefetch_related(
            "purposes",
            "data_categories",
            "recipients",
            Prefetch("retention_rules"),
        )
        .order_by("reference", "pk")
    )
    return {
        "format": PACKAGE_FORMAT,
        "generated_at": _iso(now),
        "controller": subject.controller.key,
        "subject": {"key": subject.key, "identifiers": subject.identifiers, "registered_at": _iso(subject.created_at)},
        "activities": [_activity_context(activity) for activity in activities],
        "records": [
            {
                "id": record.pk,
                "activity": record.activity.reference,
                "data_category": record.data_category.code,
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
                "purpose": consent.purpose.localized("description"),
                "given_at": _iso(consent.given_at),
                "withdrawn_at": _iso(consent.withdrawn_at),
                "source": consent.source,
                "evidence": consent.evidence,
                "evidence_version": consent.evidence_version,
            }
            for consent in consents
        ],
    }


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")  # every cell defused against spreadsheet formulas
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, dict | list) else v for v in row]
        )
    # A byte-order mark, so that spreadsheet programs read the UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def subject_package_zip(subject: DataSubject, *, now: dt.datetime | None = None) -> bytes:
    """The package as a zip (``package.json`` and three CSV files); see the module docstring."""
    package = subject_package(subject, now=now)
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
        ]
        for a in package["activities"]
    ]
    consent_header = ["id", "activity", "purpose", "given_at", "withdrawn_at", "source", "evidence", "evidence_version"]
    consent_rows = [[c[name] for name in consent_header] for c in package["consents"]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("package.json", json.dumps(package, ensure_ascii=False, indent=2, sort_keys=False))
        archive.writestr("records.csv", _csv(record_header, record_rows))
        archive.writestr("activities.csv", _csv(activity_header, activity_rows))
        archive.writestr("consents.csv", _csv(consent_header, consent_rows))
    return buffer.getvalue()


def package_filename(request: DataSubjectRequest) -> str:
    return f"subject-package-request-{request.pk}.zip"
