"""A whole register file brought into the register, in one transaction; the shipped statements' files."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from processing import rules
from processing.models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Recipient,
    SecurityMeasure,
)
from processing.services import special_category_codes

from .report import LoadReport
from .schema import DEFAULT_GRACE_DAYS, STATEMENTS_DIR, RegisterFileError, null_text
from .units import LOADER_REASON, Load, Unit, load_unit
from .validation import fold, parse


def _quotes(quotes: list[str]) -> str:
    return "\n\n".join(fold(q) for q in quotes)


def load(path: Path, *, dry_run: bool = False, force: bool = False, override_reason: str | None = None) -> LoadReport:
    """Validate ``path`` and bring the register in line with it, in one transaction.

    Entries changed in the register since they were loaded are kept and listed in the report, unless
    ``force`` takes the file's values for them too. A file that weakens a statutory rule still keeping
    records is refused, unless ``override_reason`` says why (audited); the report lists the records whose
    expiry the load moved earlier."""
    data = parse(path)
    report = LoadReport(path.name)
    load = Load(
        report=report,
        reason=f"{LOADER_REASON}{path.name}",
        force=force,
        now=timezone.now(),
        override_reason=override_reason,
    )
    try:
        with transaction.atomic():
            _write(data, load)
            if dry_run:
                transaction.set_rollback(True)
    except ValidationError as exc:
        raise RegisterFileError(path.name, [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]) from None
    return report


def _write(data: dict, load: Load) -> None:
    vocab = data["vocabulary"]
    for section, model, kind in (
        ("data_subject_categories", DataSubjectCategory, "data-subject categories"),
        ("data_categories", DataCategory, "data categories"),
        ("security_measures", SecurityMeasure, "security measures"),
    ):
        for entry in vocab.get(section, []):
            values = {
                k: null_text(v) if isinstance(v, str) or v is None else v for k, v in entry.items() if k != "code"
            }
            load_unit(Unit(model, {"code": entry["code"]}, values, kind, entry["code"]), load)

    statement = data["statement"] or {}
    for entry in data["controllers"]:
        dpo = entry["dpo"] or {}
        unit = Unit(
            Controller,
            {"key": entry["key"]},
            {
                "name": entry["name"],
                "enterprise_number": null_text(entry["enterprise_number"]),
                "address": null_text(entry["address"]),
                "country": null_text(entry["country"]).upper(),
                "email": null_text(entry["email"]),
                "phone": null_text(entry["phone"]),
                "website": null_text(entry["website"]),
                "dpo_name": null_text(dpo.get("name")),
                "dpo_email": null_text(dpo.get("email")),
                "dpo_phone": null_text(dpo.get("phone")),
                "dpo_is_staff": dpo.get("is_staff"),
                "dpo_not_required": null_text(entry["dpo_not_required"]),
                "representative": null_text(entry["representative"]),
                "supervisory_authority": null_text(entry["supervisory_authority"]),
                "group": null_text(entry["group"]),
                "statement_title": statement.get("title", ""),
                "statement_file": statement.get("file", ""),
                "statement_date": statement.get("date"),
                "source_quote": _quotes(entry["sources"]),
            },
            "controllers",
            entry["key"],
        )
        controller = load_unit(unit, load)
        if controller is None:
            continue  # removed from the register: so are its recipients and activities
        # Compare countries as codes: the field hands back a Country object.
        recipients = {}
        for item in entry["recipients"]:
            country = null_text(item["country"]).upper()
            unit = Unit(
                Recipient,
                {"controller": controller, "key": item["key"]},
                {
                    "name": item["name"],
                    "name_en": null_text(item["name_en"]),
                    "name_fr": null_text(item["name_fr"]),
                    "description": null_text(item["description"]),
                    "description_en": null_text(item["description_en"]),
                    "description_fr": null_text(item["description_fr"]),
                    "kind": item["kind"],
                    "country": country,
                    "inside_eea": rules.inside_eea(country or None, item["inside_eea"]),
                    "dpa_signed": item["dpa_signed"],
                    "safeguard": item["safeguard"] or "",
                    "safeguard_note": null_text(item["safeguard_note"]),
                    "source_quote": _quotes(item["sources"]),
                },
                "recipients",
                f"{entry['key']}/{item['key']}",
            )
            recipient = load_unit(unit, load)
            if recipient is not None:
                recipients[item["key"]] = recipient
        for item in entry["activities"]:
            _write_activity(controller, item, recipients, statement, load)


def _write_activity(controller, item, recipients, statement, load: Load) -> None:
    """One activity and all its parts, as one unit: kept whole or written whole."""
    data_categories = list(DataCategory.objects.filter(code__in=item["data_categories"]))
    unit = Unit(
        ProcessingActivity,
        {"controller": controller, "reference": item["reference"]},
        {
            "name": item["name"],
            "name_en": null_text(item["name_en"]),
            "name_fr": null_text(item["name_fr"]),
            "description": null_text(item["description"]),
            "description_en": null_text(item["description_en"]),
            "description_fr": null_text(item["description_fr"]),
            "role": item["role"],
            "client": null_text(item["client"]),
            "business_process": null_text(item["business_process"]),
            "owner": null_text(item["owner"]),
            "art9_condition": item["art9_condition"] or "",
            "data_source": null_text(item["data_source"]),
            "automated_decision_making": item["automated_decision_making"],
            "profiling": item["profiling"],
            "dpia_required": item["dpia_required"],
            "minimum_age": item["minimum_age"],
            "status": item["status"],
            "ended_on": item["ended_on"],
        },
        "activities",
        f"{controller.key}/{item['reference']}",
        check=lambda activity: rules.raise_problems(
            rules.activity_problems(
                status=activity.status,
                ended_on=activity.ended_on,
                role=activity.role,
                client=activity.client,
                art9_condition=activity.art9_condition,
                special_categories=special_category_codes(data_categories),
            )
        ),
    )
    unit.link("data_categories", item["data_categories"], data_categories, "activity data categories")
    unit.link(
        "data_subject_categories",
        item["data_subject_categories"],
        list(DataSubjectCategory.objects.filter(code__in=item["data_subject_categories"])),
        "activity subject categories",
    )
    unit.link(
        "security_measures",
        item["security_measures"],
        list(SecurityMeasure.objects.filter(code__in=item["security_measures"])),
        "activity measures",
    )
    unit.link(
        "recipients",
        item["recipients"],
        [recipients[key] for key in item["recipients"] if key in recipients],
        "activity recipients",
    )
    unit.child(
        "purposes",
        [
            {
                "description": p["description"],
                "description_en": null_text(p["description_en"]),
                "description_fr": null_text(p["description_fr"]),
                "legal_basis": p["legal_basis"],
                "legitimate_interest": null_text(p["legitimate_interest"]),
            }
            for p in item["purposes"]
        ],
        "purposes",
    )
    unit.child(
        "sources",
        [{"statement": statement.get("file", ""), "quote": fold(q)} for q in item["sources"]],
        "source quotes",
    )
    categories = {c.code: c for c in data_categories}
    unit.child(
        "retention_rules",
        [
            {
                "data_category": categories.get(r["data_category"]) if r["data_category"] else None,
                "duration_value": r["duration"]["value"] if r["duration"] and r["duration"]["value"] else None,
                "duration_unit": r["duration"]["unit"] if r["duration"] and r["duration"]["value"] else "",
                "trigger": r["trigger"],
                "action": r["action"],
                "grace_days": DEFAULT_GRACE_DAYS if r["grace_days"] is None else r["grace_days"],
                "statutory": r["statutory"],
                "maximum": r["maximum"],
                "legal_reference": null_text(r["legal_reference"]),
                "note": null_text(r["note"]),
                "source_quote": _quotes(r["sources"]),
            }
            for r in item["retention"]
        ],
        "retention rules",
    )
    load_unit(unit, load)


def statement_files(names: list[str] | None = None) -> list[Path]:
    """The shipped register files, vocabulary first; ``names`` picks some by stem (``voiceking``)."""
    files = sorted(p for p in STATEMENTS_DIR.glob("*.yaml") if p.stem != "vocabulary")
    if names:
        wanted = {n.removesuffix(".yaml") for n in names}
        unknown = wanted - {p.stem for p in files}
        if unknown:
            raise RegisterFileError(
                ", ".join(sorted(unknown)), ["no such statement; choose from " + ", ".join(p.stem for p in files)]
            )
        files = [p for p in files if p.stem in wanted]
    return [STATEMENTS_DIR / "vocabulary.yaml", *files]
