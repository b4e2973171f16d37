"""The register file's schema (``ropa-file/1``), as strict serializers: field-level messages for free."""

from pathlib import Path

from rest_framework import serializers

from processing.choices import (
    ActivityRole,
    ActivityStatus,
    Art9Condition,
    LegalBasis,
    MeasureKind,
    RecipientKind,
    TransferSafeguard,
)
from retention.choices import Action, DurationUnit, Trigger
from ropa.api.validators import DateField

FORMAT = "ropa-file/1"
DEFAULT_GRACE_DAYS = 30
STATEMENTS_DIR = Path(__file__).resolve().parents[3] / "processing" / "statements"
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


def null_text(value) -> str:
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
    description_fr = _text()
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
    description_fr = _text()
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
    dpo_not_required = _text()
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
