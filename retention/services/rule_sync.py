"""An activity's retention rules written from the API's nested activity payload (``retention_rules_sync``): a row
with an id merges onto its rule; refused when it weakens a statutory minimum that still keeps records (unless
overridden with a reason); the records' expiry follows in the same transaction (``rule_changes``) and the answer
lists whose moved earlier."""

from __future__ import annotations

import copy
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from processing.models import DataCategory
from ropa.kernel.writes import as_actor, assign, error_list

from ..models import RetentionRule
from .rule_changes import RetentionChange, StatutoryRuleWeakened, rule_changes, rule_weakening

# What a rule row of the API may set, besides its data category, duration and position (which it sets
# through ``data_category`` and ``duration``, and its place in the list).
_RULE_FIELDS = frozenset(
    f.name for f in RetentionRule._meta.concrete_fields if not f.primary_key and not f.is_relation
) - {"duration_value", "duration_unit", "position"}


def _rule_values(row: dict, categories: dict) -> dict:
    """The model values a rule row gives: only the keys it has (a key left out keeps what is stored, or the
    default of a new rule)."""
    values = {name: value for name, value in row.items() if name in _RULE_FIELDS}
    if "data_category" in row:
        values["data_category"] = categories.get(row["data_category"]) if row["data_category"] else None
    if "duration" in row:
        duration = row["duration"]
        values["duration_value"] = duration["value"] if duration else None
        values["duration_unit"] = duration["unit"] if duration else ""
    return values


@transaction.atomic
def retention_rules_sync(
    *,
    activity,
    rows: list[dict],
    actor=None,
    reason: str = "api",
    override_reason: str | None = None,
    now: dt.datetime | None = None,
) -> RetentionChange:
    """Make the activity's rules match ``rows``: the list replaces the set of rules. A row with the ``id`` of
    a stored rule (records name the rule that applies to them) changes the keys it gives and keeps the
    others; a row without one is a new rule; stored rules not listed are removed. Nothing is written when
    the change would weaken a statutory rule that still keeps records (``StatutoryRuleWeakened``), unless
    ``override_reason`` says why (audited). Returns whose expiry moved earlier (``rule_changed``)."""
    planned, removed = _planned(activity, rows)
    _refuse_weakening(planned, removed, override_reason=override_reason, now=now)
    with rule_changes(activity_id=activity.pk, override_reason=override_reason, now=now) as outcome:
        _save(planned, actor=actor, reason=reason)
        for rule in removed:
            as_actor(rule, actor, reason)
            rule.delete()
    return outcome.change


def _planned(
    activity, rows: list[dict]
) -> tuple[list[tuple[RetentionRule | None, RetentionRule]], list[RetentionRule]]:
    """Each row as (the stored rule it changes or None, the rule as it would be), and the stored rules not listed."""
    existing = {rule.pk: rule for rule in activity.retention_rules.all()}
    codes = {row["data_category"] for row in rows if row.get("data_category")}
    categories = {c.code: c for c in DataCategory.objects.filter(code__in=codes)}
    planned = []
    for position, row in enumerate(rows):
        stored = existing.get(row.get("id"))
        rule = copy.copy(stored) if stored else RetentionRule(activity=activity)
        assign(rule, {**_rule_values(row, categories), "position": position})
        planned.append((stored, rule))
    listed = {stored.pk for stored, _rule in planned if stored}
    return planned, [rule for pk, rule in existing.items() if pk not in listed]


def _refuse_weakening(planned, removed, *, override_reason: str | None, now) -> None:
    """Every weakened statutory rule named at once, before anything is written, unless a reason is given."""
    weakened = [rule_weakening(stored=stored, new=rule, now=now) for stored, rule in planned if stored]
    weakened += [rule_weakening(stored=rule, new=None, now=now) for rule in removed]
    weakened = [weakening for weakening in weakened if weakening]
    if weakened and not (override_reason or "").strip():
        raise StatutoryRuleWeakened(weakened)


def _save(planned, *, actor, reason: str) -> None:
    """Save the rules that differ from what is stored; every invalid row named at once (nothing kept then)."""
    compared = [f.attname for f in RetentionRule._meta.concrete_fields if not f.primary_key]
    errors = {}
    for position, (stored, rule) in enumerate(planned):
        if stored and all(getattr(stored, name) == getattr(rule, name) for name in compared):
            continue
        try:
            rule.full_clean()
        except ValidationError as exc:
            errors[position] = exc.message_dict
            continue
        as_actor(rule, actor, reason)
        rule.save()
    if errors:
        raise ValidationError({"retention_rules": [error_list(errors, len(planned))]})
