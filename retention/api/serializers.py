"""Retention over the API: rules nested in the activity, personal-data records (registered by internal
systems through the retention services), legal holds, and the erasure feed."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from processing.api.selectors import TEXTS, ChildKind
from processing.api.serializers import ACTIVITY_FIELDS, ProcessingActivitySerializer
from retention.choices import Action, DurationUnit, Trigger
from retention.models import ErasureNotice, HoldScope, LegalHold, RetentionRule
from retention.rules import retention_rule_problems
from retention.wording import retention_sentence
from ropa.api.roles import reads_dpo_texts


class DurationSerializer(serializers.Serializer):
    value = serializers.IntegerField(min_value=1, max_value=200 * 366, help_text=_("Length of the period."))
    unit = serializers.ChoiceField(choices=DurationUnit.choices, help_text=_("Unit of the period."))

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        # A period is one value: sent whole, in a partial update too (no unit borrowed from another period).
        missing = {name: [field.error_messages["required"]] for name, field in self.fields.items() if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class RetentionRuleSerializer(serializers.ModelSerializer):
    """A retention rule as data: a duration (null: no fixed period) from a trigger, then an action.
    ``text`` is the sentence the register prints. Send ``id`` to keep a rule (records name it).

    In a PATCH, a row with the ``id`` of a stored rule changes only the keys it gives; in a PUT, every row
    states its ``duration``, ``statutory`` and ``maximum`` flags, ``action`` and ``grace_days`` (a full
    replacement never defaults what decides how long data is kept); a new rule in a POST or a PATCH needs
    its ``trigger``, and what it leaves out takes its default (no fixed period, delete, 30 days, neither
    statutory nor a maximum, all the activity's data)."""

    # A PUT replaces each rule whole: these decide when and how its data goes, so they are stated, never
    # defaulted (``trigger`` is required of every row but a PATCH row with an id).
    REPLACEMENT_REQUIRES = ("duration", "statutory", "maximum", "action", "grace_days")

    id = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Keep the rule with this id; leave out for a new rule.")
    )
    data_category = serializers.SlugField(
        max_length=64,
        allow_null=True,
        required=False,
        help_text=_("Code of the data category the rule narrows to; null for all the activity's data."),
    )
    duration = DurationSerializer(
        allow_null=True,
        required=False,
        help_text=_("Null when the period has no fixed length."),
    )
    trigger = serializers.ChoiceField(choices=Trigger.choices, help_text=_("The moment the period starts to run."))
    action = serializers.ChoiceField(
        choices=Action.choices,
        required=False,
        help_text=_("What happens when the period has run."),
    )
    grace_days = serializers.IntegerField(
        min_value=0,
        max_value=3650,
        required=False,
        help_text=RetentionRule._meta.get_field("grace_days").help_text,
    )
    text = serializers.CharField(read_only=True, help_text=_("The rule as the register prints it (English)."))

    class Meta:
        model = RetentionRule
        fields = [
            "id",
            "data_category",
            "duration",
            "trigger",
            "action",
            "grace_days",
            "statutory",
            "maximum",
            "legal_reference",
            "note",
            "source_quote",
            "text",
        ]

    def _stored(self, attrs) -> RetentionRule | None:
        stored_rules = getattr(self.root, "stored_rules", None)
        return stored_rules().get(attrs.get("id")) if stored_rules and "id" in attrs else None

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        root, required = self.root, self.fields["trigger"].error_messages["required"]
        errors = {}
        if getattr(root, "partial", False):
            if "id" not in attrs and "trigger" not in attrs:
                errors["trigger"] = [required]  # a new rule, whole
        elif getattr(root, "instance", None) is not None:
            errors = {name: [required] for name in self.REPLACEMENT_REQUIRES if name not in attrs}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def merged(self, attrs) -> dict:
        """The rule as it will be: the defaults of a new rule, under the stored rule's values (a row with its
        id), under what the row gives."""
        rule = self._stored(attrs)
        values = {"data_category": None, "duration": None}
        for name in self.fields:
            if name not in values and not self.fields[name].read_only and name != "id":
                values[name] = RetentionRule._meta.get_field(name).get_default()
        if rule is not None:
            values |= {name: getattr(rule, name) for name in values if name not in ("data_category", "duration")}
            values["data_category"] = rule.data_category.code if rule.data_category_id else None
            value, unit = rule.duration_value, rule.duration_unit
            values["duration"] = {"value": value, "unit": unit} if value else None
        return values | dict(attrs)

    def validate(self, attrs):
        rule = self.merged(attrs)
        duration = rule["duration"] or {}
        problems = retention_rule_problems(
            duration_value=duration.get("value"),
            duration_unit=duration.get("unit", ""),
            statutory=rule["statutory"],
            maximum=rule.get("maximum", False),
            action=rule["action"],
        )
        if problems:
            raise serializers.ValidationError({problem.field: [problem.message] for problem in problems})
        return attrs


class RetentionRuleReplacementSerializer(RetentionRuleSerializer):
    """A retention rule as a PUT states it: with everything that decides when and how its data goes."""

    def get_fields(self):
        fields = super().get_fields()
        for name in self.REPLACEMENT_REQUIRES:
            fields[name].required = True
        return fields


class OverrideSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000,
        help_text=_(
            "Why a statutory minimum that still keeps records may be weakened anyway; kept in the audit trail."
        ),
    )


class RetentionChangesSerializer(serializers.Serializer):
    """What a write of an activity's rules did to its records' expiry: ids and counts, never their data."""

    earlier = serializers.IntegerField(
        help_text=_("Records whose expiry the write moved earlier (or gave one where they had none).")
    )
    records = serializers.ListField(child=serializers.IntegerField(), help_text=_("Their ids, the first 100."))
    now_due = serializers.IntegerField(
        help_text=_("Of them, records already past their new expiry: the next sweep flags them, unless held.")
    )


# Retention rules ride in the activity's one query for its children (processing.api.selectors).
RULES = ChildKind(
    name="retention_rules",
    queryset=lambda ids: RetentionRule.objects.filter(activity_id__in=ids),
    activity="activity_id",
    texts=("data_category__code", "duration_unit", "trigger", "action", "legal_reference", "note", "source_quote"),
    numbers=("id", "duration_value", "position", "grace_days"),
    flags=("statutory", "maximum"),
)


def retention_rule_row(row: tuple) -> dict:
    """A rule as the union query reads it (``RULES``), as the API shows it, its sentence in English."""
    code, unit, trigger, action, legal_reference, note, source_quote = row[:7]
    rule_id, value, _position, grace_days = row[TEXTS : TEXTS + 4]
    statutory, maximum = bool(row[TEXTS + 4]), bool(row[TEXTS + 5])  # a plain cursor: SQLite gives 0 or 1
    return {
        "id": rule_id,
        "data_category": code,
        "duration": {"value": value, "unit": unit} if value else None,
        "trigger": trigger,
        "action": action,
        "grace_days": grace_days,
        "statutory": statutory,
        "maximum": maximum,
        "legal_reference": legal_reference,
        "note": note,
        "source_quote": source_quote,
        "text": retention_sentence(
            duration_value=value,
            duration_unit=unit,
            trigger=trigger,
            action=action,
            statutory=statutory,
            maximum=maximum,
            legal_reference=legal_reference,
            language="en",
        ),
    }


def _check_rules(rules_data, categories, stored: dict, merged) -> dict | None:
    """Errors keyed by the position of the rule (as DRF keys a list's errors), or ``None``. ``merged(row)``
    is the rule a row makes (``RetentionRuleSerializer.merged``)."""
    codes = {c.code for c in categories}
    errors, seen = {}, set()
    for index, row in enumerate(rules_data):
        problems = {}
        code = merged(row)["data_category"]
        if code and code not in codes:
            problems["data_category"] = [_("“%s” is not among the activity's data categories.") % code]
        if "id" in row:
            if row["id"] not in stored:
                problems["id"] = [_("No retention rule %d on this activity.") % row["id"]]
            elif row["id"] in seen:
                problems["id"] = [_("Rule %d appears twice.") % row["id"]]
            seen.add(row["id"])
        if problems:
            errors[index] = problems
    return errors or None


class ActivityWithRetentionSerializer(ProcessingActivitySerializer):
    """A register entry with everything Art. 30 asks about it, nested, with its retention rules. Lists sent
    on a write replace the stored ones (purposes, categories, recipients, measures, retention rules,
    sources); each row of purposes and sources is a whole row. Retention rules are matched by ``id``: the
    rules not listed are removed, and in a PATCH a row with an id changes only the keys it gives.

    A write that would weaken a statutory rule still keeping records (remove it, unset ``statutory``,
    shorten its period, change its trigger or data category) is refused with a 409 naming the rule and the
    records it keeps, unless it carries ``override`` with a reason (kept in the audit trail). The answer to
    a write tells, in ``retention_changes``, which records' expiry the write moved earlier."""

    retention_rules = RetentionRuleSerializer(
        many=True,
        required=False,
        max_length=100,
        help_text=_("Retention rules (Art. 30(1)(f)); a list sent replaces the stored one, matched by id."),
    )
    override = OverrideSerializer(
        write_only=True,
        required=False,
        help_text=_("Weaken a statutory rule that still keeps records anyway, saying why (audited)."),
    )

    class Meta(ProcessingActivitySerializer.Meta):
        fields = [
            *ACTIVITY_FIELDS[: ACTIVITY_FIELDS.index("security_measures") + 1],
            "retention_rules",
            *ACTIVITY_FIELDS[ACTIVITY_FIELDS.index("security_measures") + 1 :],
            "override",
        ]

    child_kinds = (RULES,)

    def nested(self, name: str, rows: list[tuple]) -> list:
        return [retention_rule_row(row) for row in sorted(rows, key=lambda r: (r[TEXTS + 2], r[TEXTS]))]

    def stored_rules(self) -> dict[int, RetentionRule]:
        """The activity's rules as stored, by id (read once per request)."""
        if not hasattr(self, "_stored_rules"):
            rules = self.instance.retention_rules.select_related("data_category") if self.instance else []
            self._stored_rules = {rule.pk: rule for rule in rules}
        return self._stored_rules

    def validate_nested(self, attrs, value) -> dict:
        if "retention_rules" not in attrs:
            return {}
        if "data_categories" in attrs:
            categories = attrs["data_categories"]
        else:
            categories = list(self.instance.data_categories.all()) if self.instance else []
        merged = self.fields["retention_rules"].child.merged
        errors = _check_rules(attrs["retention_rules"], categories, self.stored_rules(), merged)
        return {"retention_rules": errors} if errors else {}


class ActivityReplacementSerializer(ActivityWithRetentionSerializer):
    """A register entry as a PUT replaces it (its schema: each retention rule row stated whole)."""

    retention_rules = RetentionRuleReplacementSerializer(
        many=True,
        required=False,
        max_length=100,
        help_text=_("Retention rules (Art. 30(1)(f)); a list sent replaces the stored one, matched by id."),
    )


class ActivityWriteResultSerializer(ActivityWithRetentionSerializer):
    """The answer to a write of an activity: the activity as stored, and what the write did to its records'
    retention (``retention_changes``)."""

    retention_changes = RetentionChangesSerializer(read_only=True)

    class Meta(ActivityWithRetentionSerializer.Meta):
        fields = [*ActivityWithRetentionSerializer.Meta.fields, "retention_changes"]


class LegalHoldSerializer(serializers.ModelSerializer):
    """A legal hold: erasure of everything in its scope is frozen until it is released. Place one on a
    controller (``controller`` alone), an activity, a record, or a subject (``subject`` key with its
    ``controller``)."""

    scope = serializers.ChoiceField(choices=HoldScope.choices, read_only=True, help_text=_("What the hold covers."))
    controller = serializers.SlugField(
        max_length=64,
        required=False,
        allow_null=True,
        help_text=_("Controller key: the held controller, or the controller of the held subject."),
    )
    activity = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text=_("Id of the held activity.")
    )
    subject = serializers.CharField(
        required=False, allow_null=True, max_length=64, help_text=_("Key of the held data subject.")
    )
    record = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text=_("Id of the held record.")
    )
    # The reasons are the DPO's free text and may name a person: null for system and auditor tokens.
    reason = serializers.CharField(
        max_length=5000,
        allow_null=True,
        help_text=_("Why erasure is frozen (required); read back by DPO tokens only, null for the others."),
    )
    release_reason = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("Why the hold was lifted; DPO tokens only, null for the others.")
    )
    placed_by = serializers.CharField(read_only=True, allow_null=True, help_text=_("Who placed the hold."))
    released_by = serializers.CharField(read_only=True, allow_null=True, help_text=_("Who released the hold."))
    in_force = serializers.BooleanField(read_only=True, help_text=_("True until the hold is released."))

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "scope",
            "controller",
            "activity",
            "subject",
            "record",
            "reason",
            "placed_by",
            "placed_at",
            "in_force",
            "released_by",
            "released_at",
            "release_reason",
        ]
        read_only_fields = ["placed_at", "released_at", "release_reason"]

    def to_representation(self, hold):
        texts = reads_dpo_texts(self.context)
        scope = hold.scope
        controller = None
        if scope == HoldScope.CONTROLLER:
            controller = hold.controller.key
        elif scope == HoldScope.SUBJECT and hold.subject is not None:
            controller = hold.subject.controller.key
        return {
            "id": hold.pk,
            "scope": scope,
            "controller": controller,
            "activity": hold.activity_id,
            "subject": hold.subject.key if hold.subject_id and hold.subject is not None else None,
            "record": hold.record_id,
            "reason": hold.reason if texts else None,
            "placed_by": hold.placed_by.get_username() if hold.placed_by_id else None,
            "placed_at": _DATETIME.to_representation(hold.placed_at),
            "in_force": hold.released_at is None,
            "released_by": hold.released_by.get_username() if hold.released_by_id else None,
            "released_at": _DATETIME.to_representation(hold.released_at) if hold.released_at else None,
            "release_reason": hold.release_reason if texts else None,
        }

    def validate(self, attrs):
        if not (attrs.get("reason") or "").strip():
            raise serializers.ValidationError({"reason": [_("Say why erasure is frozen.")]})
        given = [name for name in ("activity", "subject", "record") if attrs.get(name) is not None]
        if len(given) > 1 or (not given and not attrs.get("controller")):
            raise serializers.ValidationError(
                _("Name exactly one of: a controller, an activity, a record, or a subject with its controller.")
            )
        if given == ["subject"] and not attrs.get("controller"):
            raise serializers.ValidationError({"controller": [_("Give the controller of the subject.")]})
        if given and given != ["subject"] and attrs.get("controller"):
            raise serializers.ValidationError(
                {"controller": [_("Leave the controller out when holding an activity or a record.")]}
            )
        return attrs


class HoldReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, default="", help_text=_("Why the hold is lifted.")
    )


class ErasureNoticeSerializer(serializers.ModelSerializer):
    """A record the register erased, as its source system must now erase it too. It stays in the feed
    until the system confirms."""

    record = serializers.IntegerField(
        source="record_id", read_only=True, help_text=_("The record's id in the register.")
    )

    class Meta:
        model = ErasureNotice
        fields = ["id", "source_system", "external_id", "record", "action", "erased_at", "confirmed_at"]
        read_only_fields = fields

    def to_representation(self, notice):
        return {
            "id": notice.pk,
            "source_system": notice.source_system,
            "external_id": notice.external_id,
            "record": notice.record_id,
            "action": notice.action,
            "erased_at": _DATETIME.to_representation(notice.erased_at),
            "confirmed_at": _DATETIME.to_representation(notice.confirmed_at) if notice.confirmed_at else None,
        }


class ErasureConfirmSerializer(serializers.Serializer):
    """The ids (in the source system) the system has erased on its side too."""

    external_ids = serializers.ListField(
        child=serializers.CharField(max_length=200),
        allow_empty=False,
        max_length=1000,
        help_text=_("Up to 1,000 ids, as the feed gave them."),
    )


class ErasureConfirmResultSerializer(serializers.Serializer):
    confirmed = serializers.IntegerField(help_text=_("Feed lines this request confirmed."))
    not_in_feed = serializers.ListField(
        child=serializers.CharField(), help_text=_("Ids sent that were not (or no longer) in the feed.")
    )


_DATETIME = serializers.DateTimeField()
