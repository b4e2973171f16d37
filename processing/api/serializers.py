"""The register as the API reads and writes it: codes and keys (ropa-register/1 vocabularies), never
display strings. Serializers parse and shape; the services in ``processing.services`` write."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.serializers import CountryFieldMixin
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from processing import rules
from processing.choices import ReviewStatus
from processing.models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Purpose,
    Recipient,
    SecurityMeasure,
    Source,
)
from ropa.api.validators import DateField

from .selectors import activity_documents, activity_row

# --- Shared fields -----------------------------------------------------------------------------------


class CodeListField(serializers.ListField):
    """A list of vocabulary codes, resolved in one query; an unknown code is named in the error."""

    child = serializers.SlugField(max_length=64)

    def __init__(self, *, model, **kwargs):
        self.model = model
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 500)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        codes = super().to_internal_value(data)
        found = {obj.code: obj for obj in self.model.objects.filter(code__in=set(codes))}
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise serializers.ValidationError(
                [_("Unknown code “%s”.") % code for code in dict.fromkeys(unknown)], code="unknown_code"
            )
        return list({code: found[code] for code in codes}.values())

    def to_representation(self, data):
        return [obj.code for obj in data.all()] if hasattr(data, "all") else [obj.code for obj in data]


@extend_schema_field({"oneOf": [{"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$"}, {"type": "integer"}]})
class RecipientRefField(serializers.Field):
    """A recipient of the same controller, by key (``"mailchimp"``) or by id (``12``)."""

    default_error_messages = {"invalid": _("Give a recipient key or id.")}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, int):
            if not 0 < data < 2**63:
                self.fail("invalid")
            return data
        return serializers.SlugField(max_length=64).run_validation(data)

    def to_representation(self, value):
        return value.key


class KeyRelatedField(serializers.SlugRelatedField):
    """An entry by its key or code; anything that is not a slug is refused before any lookup."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        serializers.SlugField(max_length=64).run_validation(data)
        return super().to_internal_value(data)


def _check_problems(problems: list[rules.Problem]) -> None:
    if problems:
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(problem.field, []).append(problem.message)
        raise serializers.ValidationError(errors)


# --- Controllers, recipients, vocabularies -----------------------------------------------------------


class ControllerSerializer(CountryFieldMixin, serializers.ModelSerializer):
    """A controller (Art. 30(1)(a)). ``key`` is the stable identifier other entries refer to."""

    statement_date = DateField(
        required=False, allow_null=True, help_text=Controller._meta.get_field("statement_date").help_text
    )

    class Meta:
        model = Controller
        fields = [
            "id",
            "key",
            "name",
            "enterprise_number",
            "address",
            "country",
            "email",
            "phone",
            "website",
            "dpo_name",
            "dpo_email",
            "dpo_phone",
            "dpo_is_staff",
            "dpo_not_required",
            "representative",
            "supervisory_authority",
            "group",
            "statement_title",
            "statement_file",
            "statement_date",
            "source_quote",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        def value(name: str) -> str:
            return attrs.get(name, getattr(self.instance, name, ""))

        _check_problems(
            rules.controller_problems(
                enterprise_number=value("enterprise_number"),
                dpo=(value("dpo_name"), value("dpo_email"), value("dpo_phone")),
                dpo_not_required=value("dpo_not_required"),
            )
        )
        return attrs


class RecipientSerializer(CountryFieldMixin, serializers.ModelSerializer):
    """A recipient, processor or third party of one controller (Art. 30(1)(d), (e)). ``inside_eea``
    follows the country when the country is known; outside the EEA a ``safeguard`` is required."""

    controller = KeyRelatedField(
        slug_field="key",
        queryset=Controller.objects.all(),
        help_text=Recipient._meta.get_field("controller").help_text,
    )

    class Meta:
        model = Recipient
        fields = [
            "id",
            "controller",
            "key",
            "name",
            "name_en",
            "name_fr",
            "description",
            "description_en",
            "description_fr",
            "kind",
            "country",
            "inside_eea",
            "dpa_signed",
            "safeguard",
            "safeguard_note",
            "source_quote",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        def value(name):
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        country = value("country")
        country = (getattr(country, "code", country) or "").upper() or None
        inside_eea = rules.inside_eea(country, value("inside_eea"))
        _check_problems(rules.recipient_problems(country=country, inside_eea=inside_eea, safeguard=value("safeguard")))
        return attrs


class VocabularySerializer(serializers.ModelSerializer):
    class Meta:
        fields = ["id", "code", "name", "name_en", "name_fr", "description"]


class DataSubjectCategorySerializer(VocabularySerializer):
    """A category of data subjects (Art. 30(1)(c))."""

    class Meta(VocabularySerializer.Meta):
        model = DataSubjectCategory


class DataCategorySerializer(VocabularySerializer):
    """A category of personal data (Art. 30(1)(c)), with its Art. 9 and Art. 10 flags."""

    class Meta(VocabularySerializer.Meta):
        model = DataCategory
        fields = [*VocabularySerializer.Meta.fields, "special_category", "criminal"]


class SecurityMeasureSerializer(VocabularySerializer):
    """A technical or organisational security measure (Art. 30(1)(g), Art. 32)."""

    class Meta(VocabularySerializer.Meta):
        model = SecurityMeasure
        fields = [*VocabularySerializer.Meta.fields, "kind"]


# --- Processing activities ---------------------------------------------------------------------------


class WholeRowSerializer(serializers.ModelSerializer):
    """A row of a nested list that a write replaces whole (its rows have no id to be matched on): complete in
    a PATCH too, and a key it leaves out is blank, never what the row stored at that place held."""

    def to_internal_value(self, data):
        attrs = super().to_internal_value(data)
        writable = {name: field for name, field in self.fields.items() if not field.read_only}
        missing = {
            name: [field.error_messages["required"]]
            for name, field in writable.items()
            if field.required and name not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        for name, field in writable.items():
            if name not in attrs:
                attrs[field.source] = self.Meta.model._meta.get_field(field.source).get_default()
        return attrs


class PurposeSerializer(WholeRowSerializer):
    """A purpose and its Art. 6(1) legal basis; ``legitimate_interest`` is required for Art. 6(1)(f).

    ``id`` is what a consent names. A write matches purposes by position (the row at a place keeps its id);
    a row may send its ``id`` to have that checked, and is refused if another purpose stands there."""

    id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The purpose's id, as a consent names it. In a write, optional: the purpose at that position.",
    )

    class Meta:
        model = Purpose
        fields = ["id", "description", "description_en", "description_fr", "legal_basis", "legitimate_interest"]
        extra_kwargs = {"description": {"required": True}, "legal_basis": {"required": True}}

    def validate(self, attrs):
        _check_problems(
            rules.purpose_problems(
                legal_basis=attrs.get("legal_basis", ""), legitimate_interest=attrs.get("legitimate_interest")
            )
        )
        return attrs


class SourceSerializer(WholeRowSerializer):
    """Provenance: the statement and the sentence, verbatim, that the activity's facts came from."""

    class Meta:
        model = Source
        fields = ["statement", "quote"]


class TransferSerializer(serializers.Serializer):
    """A recipient outside the EEA, and the Chapter V safeguard the transfer rests on."""

    recipient = serializers.CharField(help_text=_("Recipient key."))
    name = serializers.CharField()
    country = serializers.CharField(allow_null=True)
    safeguard = serializers.CharField(allow_null=True)
    safeguard_note = serializers.CharField()


class PurposeListSerializer(serializers.ModelSerializer):
    """A purpose on its own, with the activity and controller it belongs to: the ``id`` a consent names
    (``POST /api/v1/consents/``, a purpose resting on consent, Art. 6(1)(a))."""

    controller = serializers.SlugRelatedField(source="activity.controller", slug_field="key", read_only=True)
    activity_reference = serializers.CharField(source="activity.reference", read_only=True)
    activity_status = serializers.CharField(source="activity.status", read_only=True)

    class Meta:
        model = Purpose
        fields = [
            "id",
            "controller",
            "activity",
            "activity_reference",
            "activity_status",
            "position",
            "description",
            "description_en",
            "description_fr",
            "legal_basis",
            "legitimate_interest",
        ]
        read_only_fields = fields


ACTIVITY_FIELDS = [
    "id",
    "controller",
    "reference",
    "name",
    "name_en",
    "name_fr",
    "description",
    "description_en",
    "description_fr",
    "role",
    "client",
    "business_process",
    "owner",
    "purposes",
    "data_subject_categories",
    "data_categories",
    "art9_condition",
    "recipients",
    "transfers",
    "security_measures",
    "data_source",
    "automated_decision_making",
    "profiling",
    "dpia_required",
    "dpia_done_on",
    "minimum_age",
    "status",
    "ended_on",
    "replaced_by",
    "last_reviewed_on",
    "review_cycle_months",
    "review_status",
    "review_needed_reason",
    "sources",
    "created_at",
    "updated_at",
]


class ActivityListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        return self.child.represent(list(data.all() if hasattr(data, "all") else data))


class ProcessingActivitySerializer(serializers.ModelSerializer):
    """A register entry with everything Art. 30 asks about it, nested. Lists sent on a write replace the
    stored ones (purposes, categories, recipients, measures, sources), in a PATCH too; each purpose and
    source sent is a whole row (what it leaves out is blank). Lists left out of a PATCH stay as stored."""

    controller = KeyRelatedField(
        slug_field="key",
        queryset=Controller.objects.all(),
        help_text=ProcessingActivity._meta.get_field("controller").help_text,
    )
    purposes = PurposeSerializer(many=True, allow_empty=False, max_length=100)
    data_subject_categories = CodeListField(
        model=DataSubjectCategory, help_text=_("Codes of the data-subject categories (Art. 30(1)(c)).")
    )
    data_categories = CodeListField(model=DataCategory, help_text=_("Codes of the data categories (Art. 30(1)(c))."))
    security_measures = CodeListField(
        model=SecurityMeasure, help_text=_("Codes of the security measures (Art. 30(1)(g)).")
    )
    recipients = serializers.ListField(
        child=RecipientRefField(),
        required=False,
        max_length=500,
        help_text=_("Recipients of the same controller, by key or id (Art. 30(1)(d), (e)); read back as keys."),
    )
    transfers = serializers.SerializerMethodField(
        help_text=_("The recipients outside the EEA and the safeguard of each transfer (Art. 30(1)(e)).")
    )
    sources = SourceSerializer(many=True, required=False, max_length=200)
    dpia_done_on = DateField(required=False, allow_null=True, help_text=_("Date of the last DPIA."))
    ended_on = DateField(required=False, allow_null=True, help_text=_("End date of the processing."))
    last_reviewed_on = DateField(required=False, allow_null=True, help_text=_("When the DPO last reviewed this entry."))
    review_cycle_months = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=120,
        help_text=_("Months between two reviews of this entry; null: the register's default cycle."),
    )
    review_status = serializers.ChoiceField(
        choices=ReviewStatus.choices,
        read_only=True,
        allow_null=True,
        help_text=_(
            "How fresh the review is: current, due (within 30 days), overdue (or never reviewed), or needed "
            "after a change that matters; null for an ended activity."
        ),
    )
    review_needed_reason = serializers.CharField(
        read_only=True, help_text=_("Why a change asked for a review; empty once the entry is reviewed.")
    )
    replaced_by = serializers.PrimaryKeyRelatedField(
        queryset=ProcessingActivity.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Id of the activity (same controller) that took over from this one; only for an ended one."),
    )

    class Meta:
        model = ProcessingActivity
        fields = ACTIVITY_FIELDS
        list_serializer_class = ActivityListSerializer
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"minimum_age": {"max_value": 120}}

    @extend_schema_field(TransferSerializer(many=True))
    def get_transfers(self, activity) -> list[dict]:  # pragma: no cover - represent() fills it
        return []

    def to_representation(self, activity):
        return self.represent([activity])[0]

    # Children that other apps nest in the activity (see ``processing.api.selectors.ChildKind``).
    child_kinds: tuple = ()

    def represent(self, activities: list) -> list[dict]:
        """A page at once (see ``ActivityListSerializer``): every child of every activity in one query. A
        page comes as ``values()`` rows (see the viewset); a single activity as an instance."""
        rows = [activity if isinstance(activity, dict) else activity_row(activity) for activity in activities]
        documents, children = activity_documents(rows, self.child_kinds)
        for kind in self.child_kinds:
            rows = children.get(kind.name, {})
            for document in documents:
                document[kind.name] = self.nested(kind.name, rows.get(document["id"], []))
        return documents

    def nested(self, name: str, rows: list[tuple]) -> list:
        raise NotImplementedError(name)

    def validate(self, attrs):
        def value(name, default=None):
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name, default) if self.instance else default

        controller = value("controller")
        errors: dict = {}
        if self.instance and "controller" in attrs and attrs["controller"].pk != self.instance.controller_id:
            errors["controller"] = [_("An activity cannot move to another controller.")]
        if "recipients" in attrs and controller is not None:
            attrs["recipients"], problems = _resolve_recipients(controller, attrs["recipients"])
            if problems:
                errors["recipients"] = problems
        errors.update(self.validate_nested(attrs, value))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def validate_nested(self, attrs, value) -> dict:
        """Errors in lists a subclass nests (retention rules); the register itself nests none beyond these."""
        return {}


def _resolve_recipients(controller, refs):
    ids = {ref for ref in refs if isinstance(ref, int)}
    keys = {ref for ref in refs if isinstance(ref, str)}
    found = list(Recipient.objects.filter(Q(pk__in=ids) | Q(key__in=keys), controller=controller)) if refs else []
    by_id = {r.pk: r for r in found}
    by_key = {r.key: r for r in found}
    resolved, problems = {}, []
    for ref in refs:
        recipient = by_id.get(ref) if isinstance(ref, int) else by_key.get(ref)
        if recipient is None:
            problems.append(
                _("No recipient “%(ref)s” under controller “%(controller)s”.")
                % {"ref": ref, "controller": controller.key}
            )
        else:
            resolved[recipient.pk] = recipient
    return list(resolved.values()), problems


class ActivityEndSerializer(serializers.Serializer):
    """End an activity: it stays in the register with its end date and, if any, its successor."""

    ended_on = DateField(required=False, help_text=_("End date; today when left out."))
    replaced_by = serializers.PrimaryKeyRelatedField(
        queryset=ProcessingActivity.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Id of the activity (same controller) that took over."),
    )
