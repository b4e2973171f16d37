"""Reads of the subjects app: the people a DPO means when filing a request, requests as the admin and the
API list them. The package of everything held about a person (Art. 15, Art. 20) is ``subjects.package``."""

from __future__ import annotations

from .choices import RecordStatus, RequestStatus, RequestType
from .models import DataSubject, DataSubjectRequest, PersonalDataRecord
from .package import PACKAGE_FORMAT, RECORD_DATE_FIELDS, package_filename, subject_package, subject_package_zip

__all__ = [
    "PACKAGE_FORMAT",
    "RECORD_DATE_FIELDS",
    "earlier_erasures",
    "package_filename",
    "request_list",
    "restrictable_record_choices",
    "subject_candidates",
    "subject_label",
    "subject_matches",
    "subject_package",
    "subject_package_zip",
]


def _identifier_values(identifiers) -> list[str]:
    if not isinstance(identifiers, dict):
        return []
    return [str(value) for value in identifiers.values() if isinstance(value, str | int) and str(value).strip()]


def subject_matches(controller, text: str) -> list[DataSubject]:
    """The subjects of ``controller`` whose key is ``text``, or one of whose identifiers is ``text``
    (case and surrounding spaces ignored): whom a DPO means by "the person with this e-mail"."""
    text = (text or "").strip()
    if not text:
        return []
    by_key = list(DataSubject.objects.filter(controller=controller, key=text))
    if by_key:
        return by_key
    wanted = text.casefold()
    narrowed = DataSubject.objects.filter(controller=controller, identifiers__icontains=text).order_by("pk")[:50]
    return [s for s in narrowed if wanted in (v.strip().casefold() for v in _identifier_values(s.identifiers))]


def subject_candidates(controller, text: str, *, limit: int = 10) -> list[DataSubject]:
    """Subjects of ``controller`` whose key starts with ``text`` or one of whose identifiers contains it:
    the choices offered while a DPO types."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    subjects = DataSubject.objects.filter(controller=controller)
    found = list(subjects.filter(key__startswith=text).order_by("key")[:limit])
    if len(found) < limit:
        more = subjects.filter(identifiers__icontains=text).exclude(pk__in=[s.pk for s in found]).order_by("pk")
        found += list(more[: limit - len(found)])
    return found


def subject_label(subject: DataSubject, *, with_identifiers: bool) -> str:
    """A subject as the request form offers it: its key, and its identifiers for whom may see them."""
    if not with_identifiers or not subject.identifiers:
        return subject.key
    shown = ", ".join(f"{name}: {value}" for name, value in sorted(subject.identifiers.items()))
    return f"{subject.key} ({shown})"


def restrictable_record_choices(subject: DataSubject) -> list[tuple[int, str]]:
    """The person's records a restriction may still cover, as (id, "#id activity · category · system")."""
    records = (
        PersonalDataRecord.objects.filter(subject=subject, restricted_at__isnull=True)
        .exclude(status=RecordStatus.ERASED)
        .select_related("activity", "data_category")
        .order_by("pk")
    )
    return [
        (r.pk, f"#{r.pk} {r.activity.reference} · {r.data_category.localized('name')} · {r.source_system}")
        for r in records
    ]


def earlier_erasures(request: DataSubjectRequest):
    """The completed erasure requests of the same person before ``request``, latest first."""
    return (
        DataSubjectRequest.objects.filter(
            subject_id=request.subject_id, type=RequestType.ERASURE, status=RequestStatus.COMPLETED
        )
        .exclude(pk=request.pk)
        .order_by("-completed_at")
    )


def request_list():
    """Requests with what their lists show, open ones first, most urgent first."""
    return DataSubjectRequest.objects.select_related("controller", "subject").by_urgency()
