"""A register file read and checked whole: the schema, then the register's rules and the references between
entries; every problem named by file, entry and field."""

import re
from pathlib import Path

import yaml

from processing import rules
from processing.models import (
    DataCategory,
    DataSubjectCategory,
    SecurityMeasure,
)
from retention.rules import retention_rule_problems
from ropa.kernel.safe_yaml import YamlLimitError, yaml_load

from .schema import SOURCE_TEXTS_DIR, RegisterFile, RegisterFileError


def _flatten(errors, data, path: str = "") -> list[str]:
    """Serializer errors as ``controllers[0] voiceking > activities[2] VK-03 > purposes[0].legal_basis: ...``."""
    if isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        return [f"{path}: {message}" for message in errors]
    if isinstance(errors, dict) and not _by_index(errors):
        return [
            line
            for key, value in errors.items()
            for line in _flatten(
                value, data.get(key) if isinstance(data, dict) else None, _field_path(path, key, value)
            )
        ]
    out = []
    # A list of entries, or nested many=True errors keyed by index.
    for index, value in sorted(errors.items()) if isinstance(errors, dict) else enumerate(errors):
        item = data[index] if isinstance(data, list) and index < len(data) else None
        label = _entry_label(item)
        out += _flatten(value, item, f"{path}[{index}]{' ' + label if label else ''}")
    return out


def _by_index(errors) -> bool:
    return isinstance(errors, dict) and bool(errors) and all(isinstance(k, int) for k in errors)


def _field_path(path: str, key: str, value) -> str:
    """``a > entries`` before a list of entries, ``a.field`` before a field's messages."""
    entries = (isinstance(value, list) and not all(isinstance(e, str) for e in value)) or _by_index(value)
    separator = " > " if entries else "."
    return f"{path}{separator}{key}" if path else str(key)


def _entry_label(item) -> str:
    if isinstance(item, dict):
        for key in ("reference", "key", "code"):
            if isinstance(item.get(key), str):
                return f"({item[key]})"
    return ""


def fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


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
            return fold(candidate.read_text(encoding="utf-8"))
    return None


def _semantic_problems(data: dict, *, source_text: str | None) -> list[str]:
    """The register rules, and references between entries, over the whole file."""
    checks = _FileChecks(data, source_text)
    seen = set()
    for index, controller in enumerate(data["controllers"]):
        path = f"controllers[{index}] ({controller['key']})"
        if controller["key"] in seen:
            checks.problems.append(f"{path}.key: appears twice in the file")
        seen.add(controller["key"])
        checks.controller(path, controller)
    return checks.problems


_SECTIONS = {
    "data_subject_categories": DataSubjectCategory,
    "data_categories": DataCategory,
    "security_measures": SecurityMeasure,
}


class _FileChecks:
    """The checks of one file; each adds to ``problems`` with the path of the entry it looked at."""

    def __init__(self, data: dict, source_text: str | None):
        self.statement = (data["statement"] or {}).get("file")
        self.source_text = source_text
        self.problems: list[str] = []
        vocab = data["vocabulary"]
        self.file_codes = {section: {entry["code"]: entry for entry in vocab.get(section, [])} for section in _SECTIONS}

    def add(self, path: str, found: list[rules.Problem]) -> None:
        self.problems.extend(f"{path}.{problem.field}: {problem.message}" for problem in found)

    def known_codes(self, section: str, wanted: set[str]) -> dict[str, dict]:
        """The codes of ``wanted`` that the file or the register defines, each with its entry."""
        found = dict(self.file_codes[section])
        missing = wanted - set(found)
        if missing:
            fields = ["code", "special_category"] if section == "data_categories" else ["code"]
            rows = _SECTIONS[section].objects.filter(code__in=missing).values(*fields)
            found.update({row["code"]: row for row in rows})
        return found

    def quotes(self, path: str, quotes: list[str]) -> None:
        if self.source_text is None:
            return
        for index, quote in enumerate(quotes):
            if fold(quote) not in self.source_text:
                self.problems.append(f"{path}.sources[{index}]: not found verbatim in {self.statement}: “{quote[:80]}”")

    def controller(self, path: str, controller: dict) -> None:
        dpo = controller["dpo"] or {}
        self.add(
            path,
            rules.controller_problems(
                enterprise_number=controller["enterprise_number"],
                dpo=(dpo.get("name"), dpo.get("email"), dpo.get("phone")),
                dpo_not_required=controller["dpo_not_required"],
            ),
        )
        self.quotes(path, controller["sources"])
        recipients = {}
        for index, recipient in enumerate(controller["recipients"]):
            rpath = f"{path} > recipients[{index}] ({recipient['key']})"
            if recipient["key"] in recipients:
                self.problems.append(f"{rpath}.key: appears twice for this controller")
            recipients[recipient["key"]] = recipient
            self.recipient(rpath, recipient)
        references = set()
        for index, activity in enumerate(controller["activities"]):
            apath = f"{path} > activities[{index}] ({activity['reference']})"
            if activity["reference"] in references:
                self.problems.append(f"{apath}.reference: appears twice for this controller")
            references.add(activity["reference"])
            self.activity(apath, activity, recipients)

    def recipient(self, path: str, recipient: dict) -> None:
        country = (recipient["country"] or "").upper() or None
        inside_eea = rules.inside_eea(country, recipient["inside_eea"])
        self.add(
            path, rules.recipient_problems(country=country, inside_eea=inside_eea, safeguard=recipient["safeguard"])
        )
        self.quotes(path, recipient["sources"])

    def activity(self, path: str, activity: dict, recipients: dict) -> None:
        for index, purpose in enumerate(activity["purposes"]):
            self.add(
                f"{path} > purposes[{index}]",
                rules.purpose_problems(
                    legal_basis=purpose["legal_basis"], legitimate_interest=purpose["legitimate_interest"]
                ),
            )
        for section in _SECTIONS:
            codes = self.known_codes(section, set(activity[section]))
            self.problems.extend(
                f"{path}.{section}: unknown code “{code}”" for code in activity[section] if code not in codes
            )
        categories = self.known_codes("data_categories", set(activity["data_categories"]))
        special = sorted(c for c in activity["data_categories"] if categories.get(c, {}).get("special_category"))
        self.add(
            path,
            rules.activity_problems(
                status=activity["status"],
                ended_on=activity["ended_on"],
                role=activity["role"],
                client=activity["client"],
                art9_condition=activity["art9_condition"],
                special_categories=special,
            ),
        )
        self.problems.extend(
            f"{path}.recipients: no recipient “{key}” under this controller"
            for key in activity["recipients"]
            if key not in recipients
        )
        if not activity["sources"] and self.source_text is not None:
            self.problems.append(f"{path}.sources: an activity from a statement needs at least one quote")
        self.quotes(path, activity["sources"])
        for index, rule in enumerate(activity["retention"]):
            self.retention_rule(f"{path} > retention[{index}]", rule, activity)

    def retention_rule(self, path: str, rule: dict, activity: dict) -> None:
        if rule["data_category"] and rule["data_category"] not in activity["data_categories"]:
            self.problems.append(
                f"{path}.data_category: “{rule['data_category']}” is not among the activity's data categories"
            )
        duration = rule["duration"] or {}
        self.add(
            path,
            retention_rule_problems(
                # Zero is "at the trigger" in a file: stored as no period, as the loader writes it.
                duration_value=duration.get("value") or None,
                duration_unit=duration.get("unit", "") if duration.get("value") else "",
                statutory=rule["statutory"],
                maximum=rule["maximum"],
                action=rule["action"],
            ),
        )
        self.quotes(path, rule["sources"])
