"""Register files (``ropa-file/1``, see docs/register-format.md): validate, then load, all or nothing.

Loading is idempotent: entries are matched on their keys and only what differs is written, so a second
load of the same file writes nothing (and no history rows). An entry changed in the register since a
file loaded it is never overwritten silently: it is kept and listed, unless the load is forced (see
"Loading" below). Every problem names the file, the entry and the field; a file with any problem loads
nothing.
"""

import contextlib
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django_countries.fields import Country
from rest_framework import serializers

from processing import rules
from processing.choices import (
    ActivityRole,
    ActivityStatus,
    Art9Condition,
    LegalBasis,
    MeasureKind,
    RecipientKind,
    TransferSafeguard,
)
from processing.models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    LoadedEntry,
    ProcessingActivity,
    Recipient,
    SecurityMeasure,
)
from processing.services import special_category_codes
from retention.choices import Action, DurationUnit, Trigger
from retention.rules import retention_rule_problems
from retention.services import RetentionChange, rule_changes
from ropa.api.validators import DateField
from ropa.kernel.safe_yaml import YamlLimitError, yaml_load
from ropa.kernel.writes import as_actor, assign, holds

FORMAT = "ropa-file/1"
DEFAULT_GRACE_DAYS = 30
STATEMENTS_DIR = Path(__file__).resolve().parents[2] / "processing" / "statements"
SOURCE_TEXTS_DIR = STATEMENTS_DIR / "sources"


class RegisterFileError(Exception):
    """A register file that cannot be loaded; ``problems`` lists every ``path: message``."""

    def __init__(self, filename: str, problems: list[str]):
        self.filename = filename
        self.problems = problems
        super().__init__(f"{filename}: " + "; ".join(problems))


# --- The file's schema, as serializers: field-level messages for free. -------------------------------


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know: a misspelt field must not be dropped without a word."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["unknown field"] for key in unknown})
        return super().to_internal_value(data)


def _text(**kwargs):
    return serializers.CharField(
        allow_blank=True, allow_null=True, required=False, default="", trim_whitespace=True, **kwargs
    )


def _null_text(value) -> str:
    return value or ""


class StatementEntry(StrictSerializer):
    file = serializers.CharField(max_length=200)
    title = serializers.CharField(max_length=200)
    date = DateField(allow_null=True, required=False, default=None)
    language = serializers.CharField(max_length=8, required=False, default="nl")


class VocabularyEntry(StrictSerializer):
    code = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    name_en = _text(max_length=200)
    name_fr = _text(max_length=200)
    description = _text()


class DataCategoryEntry(VocabularyEntry):
    special_category = serializers.BooleanField(default=False)
    criminal = serializers.BooleanField(default=False)


class SecurityMeasureEntry(VocabularyEntry):
    kind = serializers.ChoiceField(choices=MeasureKind.choices)


class VocabularySection(StrictSerializer):
    data_subject_categories = VocabularyEntry(many=True, required=False, default=list)
    data_categories = DataCategoryEntry(many=True, required=False, default=list)
    security_measures = SecurityMeasureEntry(many=True, required=False, default=list)


Quotes = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class DpoEntry(StrictSerializer):
    name = _text(max_length=200)
    email = serializers.EmailField(allow_blank=True, allow_null=True, required=False, default="")
    phone = _text(max_length=64)
    is_staff = serializers.BooleanField(allow_null=True, required=False, default=None)


class RecipientEntry(StrictSerializer):
    key = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    name_en = _text(max_length=200)
    name_fr = _text(max_length=200)
    description = _text()
    description_en = _text()
    kind = serializers.ChoiceField(choices=RecipientKind.choices)
    country = _text(max_length=2)
    inside_eea = serializers.BooleanField(allow_null=True, required=False, default=None)
    dpa_signed = serializers.BooleanField(allow_null=True, required=False, default=None)
    safeguard = serializers.ChoiceField(
        choices=TransferSafeguard.choices, allow_null=True, required=False, default=None
    )
    safeguard_note = _text()
    sources = Quotes


class PurposeEntry(StrictSerializer):
    description = serializers.CharField()
    description_en = _text()
    description_fr = _text()
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
    legitimate_interest = _text()


class DurationEntry(StrictSerializer):
    # Zero means "at the trigger itself" and is stored as no period.
    value = serializers.IntegerField(min_value=0, max_value=200 * 366)
    unit = serializers.ChoiceField(choices=DurationUnit.choices)


class RetentionEntry(StrictSerializer):
    data_category = serializers.SlugField(allow_null=True, required=False, default=None)
    duration = DurationEntry(allow_null=True, required=False, default=None)
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    action = serializers.ChoiceField(choices=Action.choices)
    grace_days = serializers.IntegerField(min_value=0, max_value=3650, allow_null=True, required=False, default=None)
    statutory = serializers.BooleanField(required=False, default=False)
    maximum = serializers.BooleanField(required=False, default=False)
    legal_reference = _text(max_length=300)
    note = _text()
    sources = Quotes


class ActivityEntry(StrictSerializer):
    reference = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=300)
    name_en = _text(max_length=300)
    name_fr = _text(max_length=300)
    description = _text()
    description_en = _text()
    role = serializers.ChoiceField(choices=ActivityRole.choices, default=ActivityRole.CONTROLLER)
    client = _text(max_length=300)
    business_process = _text(max_length=200)
    owner = _text(max_length=200)
    purposes = PurposeEntry(many=True, allow_empty=False)
    art9_condition = serializers.ChoiceField(
        choices=Art9Condition.choices, allow_null=True, required=False, default=None
    )
    data_subject_categories = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    data_categories = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    recipients = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    security_measures = serializers.ListField(child=serializers.SlugField(), required=False, default=list)
    data_source = _text()
    automated_decision_making = serializers.BooleanField(default=False)
    profiling = serializers.BooleanField(default=False)
    dpia_required = serializers.BooleanField(allow_null=True, required=False, default=None)
    minimum_age = serializers.IntegerField(min_value=0, max_value=120, allow_null=True, required=False, default=None)
    status = serializers.ChoiceField(choices=ActivityStatus.choices, default=ActivityStatus.ACTIVE)
    ended_on = DateField(allow_null=True, required=False, default=None)
    retention = RetentionEntry(many=True, required=False, default=list)
    sources = Quotes


class ControllerEntry(StrictSerializer):
    key = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    enterprise_number = _text(max_length=32)
    address = _text()
    country = _text(max_length=2)
    email = serializers.EmailField(allow_blank=True, allow_null=True, required=False, default="")
    phone = _text(max_length=64)
    website = _text(max_length=200)
    dpo = DpoEntry(allow_null=True, required=False, default=None)
    representative = _text()
    supervisory_authority = _text(max_length=200)
    group = _text(max_length=200)
    sources = Quotes
    recipients = RecipientEntry(many=True, required=False, default=list)
    activities = ActivityEntry(many=True, required=False, default=list)


class RegisterFile(StrictSerializer):
    format = serializers.ChoiceField(choices=[FORMAT])
    statement = StatementEntry(required=False, allow_null=True, default=None)
    vocabulary = VocabularySection(required=False, default=dict)
    controllers = ControllerEntry(many=True, required=False, default=list)


# --- Validation --------------------------------------------------------------------------------------


def _flatten(errors, data, path: str = "") -> list[str]:
    """Serializer errors as ``controllers[0] voiceking > activities[2] VK-03 > purposes[0].legal_basis: ...``."""
    if isinstance(errors, dict) and errors and all(isinstance(k, int) for k in errors):
        # Nested many=True errors come keyed by index.
        out = []
        for index, value in sorted(errors.items()):
            item = data[index] if isinstance(data, list) and index < len(data) else None
            label = _entry_label(item)
            out += _flatten(value, item, f"{path}[{index}]{' ' + label if label else ''}")
        return out
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            sub = data.get(key) if isinstance(data, dict) else None
            nested_entries = (isinstance(value, list) and not all(isinstance(e, str) for e in value)) or (
                isinstance(value, dict) and value and all(isinstance(k, int) for k in value)
            )
            separator = " > " if nested_entries else "."
            out += _flatten(value, sub, f"{path}{separator}{key}" if path else str(key))
        return out
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        return [f"{path}: {message}" for message in errors]
    out = []
    for index, value in enumerate(errors):
        item = data[index] if isinstance(data, list) and index < len(data) else None
        label = _entry_label(item)
        out += _flatten(value, item, f"{path}[{index}]{' ' + label if label else ''}")
    return out


def _entry_label(item) -> str:
    if isinstance(item, dict):
        for key in ("reference", "key", "code"):
            if isinstance(item.get(key), str):
                return f"({item[key]})"
    return ""


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class KeptEntry:
    """An entry a load left as the register has it: which one, why, and which fields differ from the file."""

    CHANGED = "changed in the register since it was loaded"
    CONFLICT = "changed in the register since it was loaded, and in the file (conflict)"
    REMOVED = "removed or renamed in the register since it was loaded"
    MISSING = "refers to an entry removed from the register"

    kind: str
    key: str
    why: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        differs = f"; differs in {', '.join(self.fields)}" if self.fields else ""
        return f"{self.kind} {self.key}: {self.why}{differs}"


@dataclass
class LoadReport:
    filename: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    kept: list[KeptEntry] = field(default_factory=list)
    retention: RetentionChange = field(default_factory=RetentionChange)  # whose expiry the load moved earlier

    def count(self, kind: str, created: bool, changed: bool) -> None:
        if created:
            self.created[kind] = self.created.get(kind, 0) + 1
        elif changed:
            self.updated[kind] = self.updated.get(kind, 0) + 1
        else:
            self.unchanged += 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def __str__(self) -> str:
        if not self.changed:
            text = f"{self.filename}: unchanged ({self.unchanged} entries already up to date)"
        else:
            parts = []
            for label, counts in (("new", self.created), ("updated", self.updated)):
                if counts:
                    parts.append(f"{label}: " + ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())))
            text = f"{self.filename}: " + "; ".join(parts)
        if self.kept:
            text += f"; kept as the register has them: {len(self.kept)} (--force takes the file's values)"
            text += "".join(f"\n  {self.filename}: kept {entry}" for entry in self.kept)
        if self.retention.earlier:
            ids, listed = ", ".join(map(str, self.retention.records)), len(self.retention.records)
            more = f" (the first {listed})" if self.retention.earlier > listed else ""
            text += (
                f"\n  {self.filename}: retention of {self.retention.earlier} record(s) now ends earlier, "
                f"{self.retention.now_due} of them due now (the next sweep flags them unless held): "
                f"records {ids}{more}"
            )
        return text


def parse(path: Path) -> dict:
    """Read and validate a register file; raise ``RegisterFileError`` listing every problem."""
    name = path.name
    try:
        raw = yaml_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegisterFileError(name, ["file not found"]) from None
    except YamlLimitError as exc:
        raise RegisterFileError(name, [f"refused as YAML: {exc}"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RegisterFileError(name, [f"not valid YAML: {exc}".replace("\n", " ")]) from None
    if not isinstance(raw, dict):
        raise RegisterFileError(name, ["the file must be a mapping with `format`, `statement`, `controllers`"])
    serializer = RegisterFile(data=raw)
    if not serializer.is_valid():
        raise RegisterFileError(name, _flatten(serializer.errors, raw))
    data = serializer.validated_data
    problems = _semantic_problems(data, source_text=_source_text(path, data))
    if problems:
        raise RegisterFileError(name, problems)
    return data


def _source_text(path: Path, data: dict) -> str | None:
    statement = data.get("statement")
    if not statement:
        return None
    for folder in (path.parent, path.parent / "sources", SOURCE_TEXTS_DIR):
        candidate = folder / statement["file"]
        if candidate.is_file():
            return _fold(candidate.read_text(encoding="utf-8"))
    return None


def _semantic_problems(data: dict, *, source_text: str | None, known: dict | None = None) -> list[str]:
    """The register rules, and references between entries, over the whole file."""
    problems: list[str] = []
    vocab = data["vocabulary"]
    file_codes = {
        section: {entry["code"]: entry for entry in vocab.get(section, [])}
        for section in ("data_subject_categories", "data_categories", "security_measures")
    }
    db_models = {
        "data_subject_categories": DataSubjectCategory,
        "data_categories": DataCategory,
        "security_measures": SecurityMeasure,
    }

    def known_codes(section: str, wanted: set[str]) -> dict[str, dict]:
        found = dict(file_codes[section])
        missing = wanted - set(found)
        if missing:
            model = db_models[section]
            fields = ["code", "special_category"] if section == "data_categories" else ["code"]
            found.update({row["code"]: row for row in model.objects.filter(code__in=missing).values(*fields)})
        return found

    def check_quotes(path: str, quotes: list[str]) -> None:
        if source_text is None:
            return
        for index, quote in enumerate(quotes):
            if _fold(quote) not in source_text:
                problems.append(
                    f"{path}.sources[{index}]: not found verbatim in {data['statement']['file']}: “{quote[:80]}”"
                )

    def add(path: str, found: list[rules.Problem]) -> None:
        problems.extend(f"{path}.{problem.field}: {problem.message}" for problem in found)

    seen_controllers = set()
    for ci, controller in enumerate(data["controllers"]):
        cpath = f"controllers[{ci}] ({controller['key']})"
        if controller["key"] in seen_controllers:
            problems.append(f"{cpath}.key: appears twice in the file")
        seen_controllers.add(controller["key"])
        add(cpath, rules.enterprise_number_problems(controller["enterprise_number"]))
        check_quotes(cpath, controller["sources"])
        recipients = {}
        for ri, recipient in enumerate(controller["recipients"]):
            rpath = f"{cpath} > recipients[{ri}] ({recipient['key']})"
            if recipient["key"] in recipients:
                problems.append(f"{rpath}.key: appears twice for this controller")
            recipients[recipient["key"]] = recipient
            country = (recipient["country"] or "").upper() or None
            inside_eea = rules.inside_eea(country, recipient["inside_eea"])
            add(
                rpath,
                rules.recipient_problems(country=country, inside_eea=inside_eea, safeguard=recipient["safeguard"]),
            )
            check_quotes(rpath, recipient["sources"])
        references = set()
        for ai, activity in enumerate(controller["activities"]):
            apath = f"{cpath} > activities[{ai}] ({activity['reference']})"
            if activity["reference"] in references:
                problems.append(f"{apath}.reference: appears twice for this controller")
            references.add(activity["reference"])
            for pi, purpose in enumerate(activity["purposes"]):
                add(
                    f"{apath} > purposes[{pi}]",
                    rules.purpose_problems(
                        legal_basis=purpose["legal_basis"], legitimate_interest=purpose["legitimate_interest"]
                    ),
                )
            for section in ("data_subject_categories", "data_categories", "security_measures"):
                codes = known_codes(section, set(activity[section]))
                for code in activity[section]:
                    if code not in codes:
                        problems.append(f"{apath}.{section}: unknown code “{code}”")
            categories = known_codes("data_categories", set(activity["data_categories"]))
            special = sorted(c for c in activity["data_categories"] if categories.get(c, {}).get("special_category"))
            add(
                apath,
                rules.activity_problems(
                    status=activity["status"],
                    ended_on=activity["ended_on"],
                    role=activity["role"],
                    client=activity["client"],
                    art9_condition=activity["art9_condition"],
                    special_categories=special,
                ),
            )
            for key in activity["recipients"]:
                if key not in recipients:
                    problems.append(f"{apath}.recipients: no recipient “{key}” under this controller")
            if not activity["sources"] and source_text is not None:
                problems.append(f"{apath}.sources: an activity from a statement needs at least one quote")
            check_quotes(apath, activity["sources"])
            for ri, rule in enumerate(activity["retention"]):
                rpath = f"{apath} > retention[{ri}]"
                if rule["data_category"] and rule["data_category"] not in activity["data_categories"]:
                    problems.append(
                        f"{rpath}.data_category: “{rule['data_category']}” is not among the activity's data categories"
                    )
                duration = rule["duration"] or {}
                add(
                    rpath,
                    retention_rule_problems(
                        # Zero is "at the trigger" in a file: stored as no period, as the loader writes it.
                        duration_value=duration.get("value") or None,
                        duration_unit=duration.get("unit", "") if duration.get("value") else "",
                        statutory=rule["statutory"],
                        maximum=rule["maximum"],
                        action=rule["action"],
                    ),
                )
                check_quotes(rpath, rule["sources"])
    return problems


# --- Loading -----------------------------------------------------------------------------------------


def _write_if_changed(instance, values: dict, reason: str, label: str, *, created: bool) -> bool:
    """Give ``instance`` the ``values``, validate and save it, unless it is stored and already holds them."""
    if not created and holds(instance, values):
        return False
    as_actor(assign(instance, values), reason=reason)
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise ValidationError({f"{label}.{field}": messages for field, messages in exc.message_dict.items()}) from None
    instance.save()
    return True


# Loading never overwrites a change made in the register silently. Each entry a file loads is one unit:
# a vocabulary entry, a controller, a recipient, or an activity with all its parts (purposes, quotes,
# linked codes and recipients, retention rules). What the loader last wrote into a unit is kept as a
# digest per field (``LoadedEntry``). At the next load a unit is
#   - created when the register does not have it, and left alone when it already matches the file;
#   - updated to the file when it still holds what was loaded (a new version of the file comes in);
#   - kept as the register has it, and listed, when it was changed there since it was loaded (a conflict
#     when the file changed too) or removed from it; ``force`` takes the file's values instead.
# A unit without a digest (loaded before digests were kept, or entered by hand under the same key)
# counts as changed in the register unless its history shows only the loader's writes. A unit is written
# whole or not at all: an activity kept as the DPO left it keeps every one of its parts.

LOADER_REASON = "import "
_PART = "present"


@dataclass
class _Unit:
    """One entry a file loads, with everything stored under it, as the file wants it."""

    model: type
    lookup: dict
    values: dict
    kind: str
    key: str
    links: dict = field(default_factory=dict)  # m2m field -> (report kind, wanted keys, target objects)
    parts: dict = field(default_factory=dict)  # child relation -> (report kind, rows)
    check: Callable | None = None  # run on the entry once written

    def link(self, name: str, keys: list[str], targets: list, kind: str) -> None:
        self.links[name] = (kind, keys, targets)

    def child(self, name: str, rows: list[dict], kind: str) -> None:
        self.parts[name] = (kind, rows)

    @property
    def entry(self) -> str:
        return f"{self.model._meta.label_lower}:{self.key}"


@dataclass
class _Load:
    report: LoadReport
    reason: str
    force: bool
    now: dt.datetime
    override_reason: str | None = None  # lets the load weaken statutory rules that still keep records


def _digest(value) -> str:
    """A short digest of a stored or loaded value; the same value gives the same digest on both sides."""
    if isinstance(value, Country):
        value = value.code
    elif isinstance(value, Model):
        value = getattr(value, "code", None) or value.pk
    elif isinstance(value, str):
        value = value.replace("\r\n", "\n")
    return hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()[:16]


def _link_key(obj) -> str:
    return getattr(obj, "code", None) or obj.key


def _wanted(unit: _Unit) -> dict[str, str]:
    flat = {name: _digest(value) for name, value in unit.values.items()}
    for name, (_, keys, _) in unit.links.items():
        flat[name] = _digest(sorted(keys))
    for name, (_, rows) in unit.parts.items():
        for index, row in enumerate(rows):
            flat[f"{name}[{index}]"] = _PART
            flat.update({f"{name}[{index}].{k}": _digest(v) for k, v in row.items()})
    return flat


def _stored(instance, unit: _Unit) -> dict[str, str]:
    flat = {name: _digest(getattr(instance, name)) for name in unit.values}
    for name in unit.links:
        flat[name] = _digest(sorted(_link_key(obj) for obj in getattr(instance, name).all()))
    for name, (_, rows) in unit.parts.items():
        fields = list(rows[0]) if rows else []
        manager = getattr(instance, name)
        related = [k for k in fields if manager.model._meta.get_field(k).is_relation]
        for index, part in enumerate(manager.select_related(*related).order_by("position", "id")):
            flat[f"{name}[{index}]"] = _PART
            flat.update({f"{name}[{index}].{k}": _digest(getattr(part, k)) for k in fields})
    return flat


def _differing(before: dict[str, str], after: dict[str, str]) -> tuple[str, ...]:
    """Field names whose digests differ. A part added or removed is named once (``purposes[2]``); a field
    only one side knows (one this version of the loader added) is no change."""
    names = {k for k in before.keys() | after.keys() if k.endswith("]") or (k in before and k in after)}
    changed = {k for k in names if before.get(k) != after.get(k)}
    parts = {k for k in changed if k.endswith("]")}
    return tuple(sorted(k for k in changed if k in parts or k.split(".", 1)[0] not in parts))


def _only_loaded(instance, unit: _Unit) -> bool:
    """Whether the loader made the last change to the unit and to each of its parts, by their history."""
    latest = [instance.history.order_by("-history_date", "-history_id").first()]
    for name in unit.parts:
        manager = getattr(instance, name)
        rows = manager.model.history.filter(**{manager.field.name: instance.pk})
        last_per_part = {}
        for row in rows.order_by("id", "-history_date", "-history_id"):
            last_per_part.setdefault(row.id, row)
        latest += last_per_part.values()
    return all(row is None or (row.history_change_reason or "").startswith(LOADER_REASON) for row in latest)


def _remember(unit: _Unit, instance, load: _Load) -> None:
    """Keep what the unit now holds as what the file loaded. Set-based: bookkeeping, not register content."""
    values = {
        "object_id": instance.pk,
        "file": load.report.filename,
        "digests": _stored(instance, unit),
        "loaded_at": load.now,
    }
    if not LoadedEntry.objects.filter(entry=unit.entry).update(**values):
        LoadedEntry.objects.bulk_create([LoadedEntry(entry=unit.entry, **values)])


def _load_unit(unit: _Unit, load: _Load):
    """Bring one unit in line with the file, unless the register changed it since it was loaded (see above).

    Returns the stored entry, or None when it was removed from the register and stays removed."""
    report = load.report
    instance = unit.model.objects.filter(**unit.lookup).first()
    record = LoadedEntry.objects.filter(entry=unit.entry).first()
    if record is not None and instance is not None and record.object_id != instance.pk:
        record = None  # the key now names another entry, made in the register
    if instance is None and record is not None and not load.force:
        report.kept.append(KeptEntry(unit.kind, unit.key, KeptEntry.REMOVED))
        return None
    if instance is not None:
        wanted, stored = _wanted(unit), _stored(instance, unit)
        if stored == wanted:
            if record is None or record.digests != stored or record.file != report.filename:
                _remember(unit, instance, load)
            report.unchanged += 1
            return instance
        if record is not None:
            by_register, by_file = _differing(record.digests, stored), _differing(record.digests, wanted)
        else:
            by_register, by_file = not _only_loaded(instance, unit), True
        if by_register and not load.force:
            why = KeptEntry.CONFLICT if by_file else KeptEntry.CHANGED
            report.kept.append(KeptEntry(unit.kind, unit.key, why, _differing(stored, wanted)))
            return instance
    missing = tuple(name for name, (_, keys, targets) in unit.links.items() if len(targets) != len(set(keys)))
    if missing:
        report.kept.append(KeptEntry(unit.kind, unit.key, KeptEntry.MISSING, missing))
        return instance

    created = instance is None
    if created:
        instance = unit.model(**unit.lookup)
    label = f"{unit.kind} {' '.join(str(v) for v in unit.lookup.values())}"
    changed = _write_if_changed(instance, unit.values, load.reason, label, created=created)
    report.count(unit.kind, created, changed and not created)
    as_actor(instance, reason=load.reason)  # also on the history rows its links write
    for name, (kind, _, targets) in unit.links.items():
        _sync_m2m(getattr(instance, name), targets, report, kind, owner_created=created)
    # An activity's rules change together: its records' expiry follows once, and the report lists whose
    # moved earlier; a statutory rule still keeping records is refused unless the load gives a reason.
    changes = None
    if isinstance(instance, ProcessingActivity):
        changes = rule_changes(activity_id=instance.pk, override_reason=load.override_reason)
    with changes or contextlib.nullcontext() as outcome:
        for name, (kind, rows) in unit.parts.items():
            _sync_children(getattr(instance, name), rows, report, kind, load.reason)
    if outcome is not None:
        report.retention += outcome.change
    if unit.check:
        unit.check(instance)
    _remember(unit, instance, load)
    return instance


def _sync_children(manager, rows: list[dict], report: LoadReport, kind: str, reason: str) -> None:
    """Make an ordered child list (purposes, quotes, rules) match ``rows``, keeping the ids of rows that stay."""
    existing = list(manager.order_by("position", "id"))
    for position, values in enumerate(rows):
        values = {**values, "position": position}
        created = position >= len(existing)
        instance = manager.model(**{manager.field.name: manager.instance}) if created else existing[position]
        changed = _write_if_changed(instance, values, reason, f"{kind}[{position}]", created=created)
        report.count(kind, created, changed and not created)
    for surplus in existing[len(rows) :]:
        as_actor(surplus, reason=reason)
        surplus.delete()
        report.count(kind, False, True)


def _sync_m2m(manager, targets: list, report: LoadReport, kind: str, *, owner_created: bool) -> None:
    if {obj.pk for obj in manager.all()} != {obj.pk for obj in targets}:
        manager.set(targets)
        if not owner_created:
            report.count(kind, False, True)


def _quotes(quotes: list[str]) -> str:
    return "\n\n".join(_fold(q) for q in quotes)


def load(path: Path, *, dry_run: bool = False, force: bool = False, override_reason: str | None = None) -> LoadReport:
    """Validate ``path`` and bring the register in line with it, in one transaction.

    Entries changed in the register since they were loaded are kept and listed in the report, unless
    ``force`` takes the file's values for them too. A file that weakens a statutory rule still keeping
    records is refused, unless ``override_reason`` says why (audited); the report lists the records whose
    expiry the load moved earlier."""
    data = parse(path)
    report = LoadReport(path.name)
    load = _Load(
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


def _write(data: dict, load: _Load) -> None:
    vocab = data["vocabulary"]
    for section, model, kind in (
        ("data_subject_categories", DataSubjectCategory, "data-subject categories"),
        ("data_categories", DataCategory, "data categories"),
        ("security_measures", SecurityMeasure, "security measures"),
    ):
        for entry in vocab.get(section, []):
            values = {
                k: _null_text(v) if isinstance(v, str) or v is None else v for k, v in entry.items() if k != "code"
            }
            _load_unit(_Unit(model, {"code": entry["code"]}, values, kind, entry["code"]), load)

    statement = data["statement"] or {}
    for entry in data["controllers"]:
        dpo = entry["dpo"] or {}
        unit = _Unit(
            Controller,
            {"key": entry["key"]},
            {
                "name": entry["name"],
                "enterprise_number": _null_text(entry["enterprise_number"]),
                "address": _null_text(entry["address"]),
                "country": _null_text(entry["country"]).upper(),
                "email": _null_text(entry["email"]),
                "phone": _null_text(entry["phone"]),
                "website": _null_text(entry["website"]),
                "dpo_name": _null_text(dpo.get("name")),
                "dpo_email": _null_text(dpo.get("email")),
                "dpo_phone": _null_text(dpo.get("phone")),
                "dpo_is_staff": dpo.get("is_staff"),
                "representative": _null_text(entry["representative"]),
                "supervisory_authority": _null_text(entry["supervisory_authority"]),
                "group": _null_text(entry["group"]),
                "statement_title": statement.get("title", ""),
                "statement_file": statement.get("file", ""),
                "statement_date": statement.get("date"),
                "source_quote": _quotes(entry["sources"]),
            },
            "controllers",
            entry["key"],
        )
        controller = _load_unit(unit, load)
        if controller is None:
            continue  # removed from the register: so are its recipients and activities
        # Compare countries as codes: the field hands back a Country object.
        recipients = {}
        for item in entry["recipients"]:
            country = _null_text(item["country"]).upper()
            unit = _Unit(
                Recipient,
                {"controller": controller, "key": item["key"]},
                {
                    "name": item["name"],
                    "name_en": _null_text(item["name_en"]),
                    "name_fr": _null_text(item["name_fr"]),
                    "description": _null_text(item["description"]),
                    "description_en": _null_text(item["description_en"]),
                    "kind": item["kind"],
                    "country": country,
                    "inside_eea": rules.inside_eea(country or None, item["inside_eea"]),
                    "dpa_signed": item["dpa_signed"],
                    "safeguard": item["safeguard"] or "",
                    "safeguard_note": _null_text(item["safeguard_note"]),
                    "source_quote": _quotes(item["sources"]),
                },
                "recipients",
                f"{entry['key']}/{item['key']}",
            )
            recipient = _load_unit(unit, load)
            if recipient is not None:
                recipients[item["key"]] = recipient
        for item in entry["activities"]:
            _write_activity(controller, item, recipients, statement, load)


def _write_activity(controller, item, recipients, statement, load: _Load) -> None:
    """One activity and all its parts, as one unit: kept whole or written whole."""
    data_categories = list(DataCategory.objects.filter(code__in=item["data_categories"]))
    unit = _Unit(
        ProcessingActivity,
        {"controller": controller, "reference": item["reference"]},
        {
            "name": item["name"],
            "name_en": _null_text(item["name_en"]),
            "name_fr": _null_text(item["name_fr"]),
            "description": _null_text(item["description"]),
            "description_en": _null_text(item["description_en"]),
            "role": item["role"],
            "client": _null_text(item["client"]),
            "business_process": _null_text(item["business_process"]),
            "owner": _null_text(item["owner"]),
            "art9_condition": item["art9_condition"] or "",
            "data_source": _null_text(item["data_source"]),
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
                "description_en": _null_text(p["description_en"]),
                "description_fr": _null_text(p["description_fr"]),
                "legal_basis": p["legal_basis"],
                "legitimate_interest": _null_text(p["legitimate_interest"]),
            }
            for p in item["purposes"]
        ],
        "purposes",
    )
    unit.child(
        "sources",
        [{"statement": statement.get("file", ""), "quote": _fold(q)} for q in item["sources"]],
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
                "legal_reference": _null_text(r["legal_reference"]),
                "note": _null_text(r["note"]),
                "source_quote": _quotes(r["sources"]),
            }
            for r in item["retention"]
        ],
        "retention rules",
    )
    _load_unit(unit, load)


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


__all__ = ["KeptEntry", "LoadReport", "RegisterFileError", "dt", "load", "parse", "statement_files"]
