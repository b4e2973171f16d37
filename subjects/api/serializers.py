"""Personal-data records as internal systems send and read them. Input is checked here down to the
byte (dates in range, JSON PostgreSQL can store, no NUL); the retention services write."""

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from processing.api.selectors import moment
from ropa.api.validators import DateField, PayloadField, StrictCharField
from subjects.choices import RecordStatus
from subjects.models import ConsentRecord, PersonalDataRecord

from .request_serializers import _model_help

MAX_BATCH = 1000

# The trigger dates of a record: its plain date fields (the retention engine names which trigger reads which).
DATE_FIELDS = tuple(
    f.name
    for f in PersonalDataRecord._meta.concrete_fields
    if isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField)
)


def _help(name: str) -> str:
    return PersonalDataRecord._meta.get_field(name).help_text


class TriggerDatesSerializer(serializers.Serializer):
    """The dates retention triggers read. Send only the dates that changed; null clears one."""

    def get_fields(self):
        return {name: DateField(required=False, allow_null=True, help_text=_help(name)) for name in DATE_FIELDS}

    unknown_field_message = _("Not a trigger date of a record.")

    def to_internal_value(self, data):
        """DRF's loop over the fields, but only over those sent and those required: a batch of 1,000
        records with 14 optional dates each would otherwise skip 14,000 absent fields one by one."""
        if not isinstance(data, dict):
            return super().to_internal_value(data)
        fields = self.fields
        # A misspelt date ("contract_end_on") must not be dropped without a word.
        unknown = sorted(str(key) for key in set(data) - set(fields))
        if unknown:
            raise serializers.ValidationError({name: [self.unknown_field_message] for name in unknown})
        validated, errors = {}, {}
        for name, field in fields.items():
            if name not in data and not field.required:
                continue
            try:
                validated[name] = field.run_validation(field.get_value(data))
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
            except SkipField:
                pass
        if errors:
            raise serializers.ValidationError(errors)
        return validated


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 32}]})
class ActivityRefField(serializers.Field):
    """An activity of the token's controller, by id (``7``) or by reference (``"VK-03"``)."""

    default_error_messages = {"invalid": _("Give an activity id or reference.")}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, int):
            if not 0 < data < 2**63:
                self.fail("invalid")
            return data
        return serializers.CharField(max_length=32).run_validation(data)

    def to_representation(self, value):
        return value


class RecordRegisterSerializer(TriggerDatesSerializer):
    """One record to register. ``external_id`` is its id in the source system (the token's): sending the
    same record again changes nothing and creates nothing."""

    def get_fields(self):
        return {
            "external_id": StrictCharField(max_length=200, help_text=_help("external_id")),
            "subject": StrictCharField(
                max_length=64,
                help_text=_("Pseudonymous key of the person, chosen by the system; created on first use."),
            ),
            "subject_identifiers": PayloadField(
                required=False,
                help_text=_("Identifiers of the person (customer number, e-mail, ...), stored with the subject."),
            ),
            "activity": ActivityRefField(help_text=_("Activity id, or its reference under the token's controller.")),
            "data_category": serializers.SlugField(max_length=64, help_text=_("Data category code.")),
            "retention_rule": serializers.IntegerField(
                required=False,
                allow_null=True,
                min_value=1,
                max_value=2**63 - 1,
                help_text=_help("retention_rule"),
            ),
            "payload": PayloadField(
                required=False,
                allow_null=True,
                help_text=_("The personal data itself. Left out: kept as stored; null: cleared."),
            ),
            **super().get_fields(),
        }

    unknown_field_message = _("Unknown field.")

    def validate(self, attrs):
        identifiers = attrs.get("subject_identifiers")
        if identifiers is not None and not isinstance(identifiers, dict):
            raise serializers.ValidationError({"subject_identifiers": [_("Give an object.")]})
        return attrs


class RecordBatchSerializer(serializers.Serializer):
    """Up to 1,000 records in one request, all or nothing."""

    records = RecordRegisterSerializer(many=True, allow_empty=False, max_length=MAX_BATCH)


# What a registration did to a record: created it, changed what differed, or found it as sent.
RECORD_OUTCOMES = ("created", "updated", "unchanged")


class RecordWarningSerializer(serializers.Serializer):
    """Something the source system should know of the record it registered; ids and field names only."""

    code = serializers.ChoiceField(
        choices=[("no_expiry", "no_expiry")],
        help_text=_("``no_expiry``: no rule gives the record an expiry, so no sweep will erase it as it stands."),
    )
    detail = serializers.CharField(help_text=_("What it means and what would give the record an expiry."))
    dates = serializers.ListField(
        child=serializers.CharField(), help_text=_("The trigger dates the record's rules wait for.")
    )
    rules = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("The rules that give no date yet (ids).")
    )


class RecordResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("The record's id in the register."))
    external_id = serializers.CharField()
    created = serializers.BooleanField(help_text=_("True when this request created the record."))
    outcome = serializers.ChoiceField(
        choices=[(o, o) for o in RECORD_OUTCOMES],
        help_text=_(
            "created; updated (it was registered and what was sent differed); unchanged (it was registered "
            "as sent). Fields left out are never cleared."
        ),
    )
    warnings = RecordWarningSerializer(many=True, help_text=_("E.g. ``no_expiry``; empty when all is well."))


class RecordBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("Records this request created."))
    updated = serializers.IntegerField(help_text=_("Records already registered that took what differed."))
    unchanged = serializers.IntegerField(help_text=_("Records already registered exactly as sent."))
    existing = serializers.IntegerField(
        help_text=_("Deprecated: updated + unchanged, the name this count had before both were told apart.")
    )
    results = RecordResultSerializer(many=True, help_text=_("One line per record sent, in the same order."))


class PersonalDataRecordSerializer(serializers.ModelSerializer):
    """A registered record: its retention dates, when it expires and where it stands. ``payload`` is shown
    to DPO and system tokens only."""

    subject = serializers.CharField(source="subject.key", allow_null=True, read_only=True, help_text=_help("subject"))
    data_category = serializers.CharField(
        source="data_category.code", read_only=True, help_text=_("Data category code.")
    )
    payload = serializers.JSONField(required=False, allow_null=True, help_text=_help("payload"))
    status = serializers.ChoiceField(choices=RecordStatus.choices, read_only=True, help_text=_help("status"))

    class Meta:
        model = PersonalDataRecord
        fields = [
            "id",
            "subject",
            "activity",
            "data_category",
            "retention_rule",
            "source_system",
            "external_id",
            "payload",
            *DATE_FIELDS,
            "expires_at",
            "expiry_rule",
            "status",
            "flagged_at",
            "erase_after",
            "erased_at",
            "restricted",
            "restricted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    restricted = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "Processing is restricted (Art. 18): store only, do not use. A system token gets no payload for it."
        ),
    )

    def to_representation(self, record):
        """A record, or a row of ``RECORD_COLUMNS`` (what the list reads: no model instances)."""
        row = record if isinstance(record, dict) else record_values(record)
        return record_document(
            row,
            show_payload=self.context.get("show_payload", True),
            withhold_restricted=self.context.get("withhold_restricted", False),
        )


# What a record's representation reads; the list endpoint asks the database for exactly these.
RECORD_COLUMNS = (
    "id",
    "subject__key",
    "activity_id",
    "data_category__code",
    "retention_rule_id",
    "source_system",
    "external_id",
    "payload",
    *DATE_FIELDS,
    "expires_at",
    "expiry_rule_id",
    "status",
    "flagged_at",
    "erase_after",
    "erased_at",
    "restricted_at",
    "created_at",
    "updated_at",
)
_MOMENTS = ("expires_at", "flagged_at", "erase_after", "erased_at", "restricted_at", "created_at", "updated_at")


def record_values(record: PersonalDataRecord) -> dict:
    row = {name: getattr(record, name) for name in RECORD_COLUMNS if "__" not in name}
    row["subject__key"] = record.subject.key if record.subject_id else None
    row["data_category__code"] = record.data_category.code
    return row


def record_document(row: dict, *, show_payload: bool = True, withhold_restricted: bool = False) -> dict:
    """A record as the API shows it. A restricted record (Art. 18) keeps its place in a system's listing,
    marked ``restricted``, but with ``withhold_restricted`` (system tokens) its payload is null: the
    register stores it, the system must not process it."""
    data = {
        "id": row["id"],
        "subject": row["subject__key"],
        "activity": row["activity_id"],
        "data_category": row["data_category__code"],
        "retention_rule": row["retention_rule_id"],
        "source_system": row["source_system"],
        "external_id": row["external_id"],
    }
    restricted = row["restricted_at"] is not None
    if show_payload:
        data["payload"] = None if restricted and withhold_restricted else row["payload"]
    for name in DATE_FIELDS:
        value = row[name]
        data[name] = value.isoformat() if value else None
    data["expiry_rule"] = row["expiry_rule_id"]
    data["status"] = row["status"]
    data["restricted"] = restricted
    for name in _MOMENTS:
        data[name] = moment(row[name])
    return data


# --- consent and data-subject requests ------------------------------------------------------------------


class MomentField(serializers.DateTimeField):
    """An ISO 8601 moment with its time zone, between 1900 and 2199 (turned to UTC, as PostgreSQL stores it)."""

    def to_internal_value(self, value):
        moment_ = super().to_internal_value(value)
        try:
            utc = moment_.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise serializers.ValidationError(_("Out of range.")) from None
        if not 1900 <= utc.year <= 2199:
            raise serializers.ValidationError(_("Give a moment between 1900 and 2199."))
        return utc


class ConsentSerializer(serializers.ModelSerializer):
    """A consent: who (subject key), to what (purpose id, with its activity), when given and withdrawn, and
    the evidence."""

    subject = serializers.CharField(source="subject.key", read_only=True, help_text=_("Subject key."))
    controller = serializers.CharField(source="subject.controller.key", read_only=True, help_text=_("Controller key."))
    activity = serializers.CharField(
        source="purpose.activity.reference", read_only=True, help_text=_("Reference of the purpose's activity.")
    )

    class Meta:
        model = ConsentRecord
        fields = [
            "id",
            "subject",
            "controller",
            "purpose",
            "activity",
            "given_at",
            "withdrawn_at",
            "source",
            "evidence",
            "evidence_version",
            "withdrawal_source",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class ConsentCreateSerializer(serializers.Serializer):
    """Record a consent. ``controller`` is the token's for a system token; a DPO token names it."""

    controller = serializers.SlugField(
        max_length=64, required=False, help_text=_("Controller key (DPO tokens; a system token's own otherwise).")
    )
    subject = StrictCharField(max_length=64, help_text=_("Key of the data subject (it must exist)."))
    purpose = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text=_("Id of the purpose consented to."))
    given_at = MomentField(required=False, help_text=_("When consent was given; now when omitted."))
    source = StrictCharField(max_length=100, help_text=_model_help(ConsentRecord, "source"))
    evidence = StrictCharField(
        max_length=10000, required=False, allow_blank=True, help_text=_model_help(ConsentRecord, "evidence")
    )
    evidence_version = StrictCharField(
        max_length=64, required=False, allow_blank=True, help_text=_model_help(ConsentRecord, "evidence_version")
    )


class ConsentWithdrawSerializer(serializers.Serializer):
    withdrawn_at = MomentField(required=False, help_text=_("When consent was withdrawn; now when omitted."))
    source = StrictCharField(max_length=100, required=False, allow_blank=True, help_text=_("Where it was withdrawn."))


class ConsentWithdrawResultSerializer(serializers.Serializer):
    consent = ConsentSerializer()
    records = serializers.ListField(
        child=serializers.DictField(), help_text=_("Records whose expiry moved: id and new expires_at.")
    )
