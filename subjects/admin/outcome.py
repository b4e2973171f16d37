"""A request's outcome, and an erasure's preview, as sentences in the DPO's language.

The outcome stored on a request (``DataSubjectRequest.outcome``) is for machines and auditors: ids,
codes and counts, never a value. Here each line becomes a sentence: a record by its id, activity
reference, data category name and source system; what was done to it, or what keeps it and until when.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from processing.models import DataCategory
from retention.models import RetentionRule
from ropa.kernel.dates import short_day

from ..choices import RequestType


def _names(lines: list[dict]) -> tuple[dict[str, str], dict[int, str]]:
    """Category names by code and rule sentences by id, for ``lines``, each read once."""
    codes = {line.get("data_category") for line in lines}
    categories = {c.code: c.localized("name") for c in DataCategory.objects.filter(code__in=codes)}
    rule_ids = {minimum["rule"] for line in lines for minimum in line.get("statutory", [])}
    rules = {r.pk: r.sentence() for r in RetentionRule.objects.filter(pk__in=rule_ids)}
    return categories, rules


def _record(line: dict, categories: dict[str, str]) -> str:
    values = {
        "record": line.get("record"),
        "activity": line.get("activity", ""),
        "category": categories.get(line.get("data_category"), line.get("data_category", "")),
        "system": line.get("source_system", ""),
    }
    return _("Record %(record)s (%(activity)s, %(category)s, in %(system)s)") % values


def _kept_why(line: dict, rules: dict[int, str]) -> str:
    if line.get("legal_holds") is not None or "legal hold" in line.get("reason", ""):
        holds = ", ".join(f"#{pk}" for pk in line.get("legal_holds", []))
        return _("a legal hold keeps it (%(holds)s)") % {"holds": holds} if holds else _("a legal hold keeps it")
    minima = line.get("statutory") or []
    parts = []
    for minimum in minima:
        sentence = rules.get(minimum["rule"], "").rstrip(".")
        if minimum.get("until"):
            until = short_day(dt.date.fromisoformat(minimum["until"]))
            parts.append(_("the law keeps it until %(day)s: %(rule)s") % {"day": until, "rule": sentence})
        else:
            parts.append(_("the law keeps it for a period that has not started: %(rule)s") % {"rule": sentence})
    return "; ".join(parts) or line.get("reason", "")


def erasure_lines(*, erased: list[dict], kept: list[dict], identifiers: str, done: bool) -> list[str]:
    """An erasure as sentences: done (the outcome) or to be done (the preview)."""
    categories, rules = _names(erased + kept)
    lines = []
    if done:
        lines.append(ngettext("%(n)d record erased.", "%(n)d records erased.", len(erased)) % {"n": len(erased)})
    else:
        lines.append(
            ngettext("%(n)d record will be erased.", "%(n)d records will be erased.", len(erased)) % {"n": len(erased)}
        )
    for line in erased:
        record = _record(line, categories)
        if line.get("action") == "anonymise":
            lines.append(
                (_("%(record)s: anonymised.") if done else _("%(record)s: to be anonymised.")) % {"record": record}
            )
        else:
            lines.append((_("%(record)s: deleted.") if done else _("%(record)s: to be deleted.")) % {"record": record})
    if kept:
        lines.append(
            (
                ngettext("%(n)d record kept:", "%(n)d records kept:", len(kept))
                if done
                else ngettext("%(n)d record will be kept:", "%(n)d records will be kept:", len(kept))
            )
            % {"n": len(kept)}
        )
    for line in kept:
        lines.append(
            _("%(record)s: kept, %(why)s.") % {"record": _record(line, categories), "why": _kept_why(line, rules)}
        )
    if identifiers == "cleared":
        lines.append(
            _("The person's identifiers were cleared: only their pseudonymous key remains, as evidence.")
            if done
            else _("The person's identifiers will be cleared: only their pseudonymous key remains, as evidence.")
        )
    else:
        lines.append(_("The person's identifiers are kept for as long as a kept record or a legal hold needs them."))
    return lines


def outcome_lines(type: str, outcome: dict) -> list[str]:
    """What completing a request of ``type`` did, as sentences (empty for a request not completed)."""
    if not outcome:
        return []
    if type == RequestType.ERASURE:
        subject = outcome.get("subject") or {}
        lines = erasure_lines(
            erased=outcome.get("erased", []),
            kept=outcome.get("kept", []),
            identifiers=subject.get("identifiers", "kept"),
            done=True,
        )
        if outcome.get("run"):
            lines.append(_("The erasure's evidence is run #%(run)s and its tombstones.") % {"run": outcome["run"]})
        return lines
    if type in (RequestType.ACCESS, RequestType.PORTABILITY):
        n = outcome.get("records", 0)
        if not n:
            return [_("Nothing held: the register holds no record of this person; the package says so.")]
        return [
            ngettext("%(n)d record held, listed in the package.", "%(n)d records held, listed in the package.", n)
            % {"n": n}
        ]
    if type == RequestType.RESTRICTION:
        ids = outcome.get("restricted", [])
        if not ids:
            return [_("No record to restrict: every record was already restricted, or none is held.")]
        return [
            ngettext("%(n)d record restricted: %(ids)s.", "%(n)d records restricted: %(ids)s.", len(ids))
            % {"n": len(ids), "ids": ", ".join(f"#{pk}" for pk in ids)}
        ]
    if type == RequestType.OBJECTION:
        moved = outcome.get("marketing_records", [])
        if not moved:
            return [_("No record under a direct-marketing activity: nothing to stop.")]
        return [
            _("Record #%(record)s, used for direct marketing, now expires on %(day)s.")
            % {"record": line["record"], "day": short_day(dt.datetime.fromisoformat(line["expires_at"]))}
            if line.get("expires_at")
            else _("Record #%(record)s, used for direct marketing: its marketing use has ended.")
            % {"record": line["record"]}
            for line in moved
        ]
    if type == RequestType.CONSENT_WITHDRAWAL:
        ids = outcome.get("consents_withdrawn", [])
        if not ids:
            return [_("No consent in force: nothing to withdraw.")]
        return [ngettext("%(n)d consent withdrawn.", "%(n)d consents withdrawn.", len(ids)) % {"n": len(ids)}]
    if type == RequestType.RECTIFICATION:
        fields = outcome.get("fields", [])
        return [
            _("Fields rectified in the source systems: %(fields)s (the register keeps their names, not their values).")
            % {"fields": ", ".join(fields) or "—"}
        ]
    return []
