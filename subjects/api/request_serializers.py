"""The API's shapes of data-subject requests: a request with its deadline, outcome and events, and the
bodies of filing one and of each of its steps."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ropa.api.roles import reads_dpo_texts
from ropa.api.validators import DateField, StrictCharField
from subjects.choices import RequestEventKind, RequestLanguage, RequestStatus, RequestType
from subjects.models import DataSubjectRequest, DataSubjectRequestEvent


def _model_help(model, name: str) -> str:
    return model._meta.get_field(name).help_text


class RequestEventSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=RequestEventKind.choices, read_only=True)
    reason = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("Why, in the DPO's words; DPO tokens only, null for the others.")
    )

    class Meta:
        model = DataSubjectRequestEvent
        fields = ["at", "kind", "from_status", "to_status", "actor_label", "reason", "detail"]
        read_only_fields = fields


class DataSubjectRequestSerializer(serializers.ModelSerializer):
    """A data-subject request, its deadline (``due_on``, ``days_left``; null while paused or closed), its
    outcome and its event log."""

    controller = serializers.CharField(source="controller.key", read_only=True, help_text=_("Controller key."))
    subject = serializers.CharField(source="subject.key", read_only=True, help_text=_("Subject key."))
    type = serializers.ChoiceField(
        choices=RequestType.choices, read_only=True, help_text=_model_help(DataSubjectRequest, "type")
    )
    status = serializers.ChoiceField(
        choices=RequestStatus.choices, read_only=True, help_text=_model_help(DataSubjectRequest, "status")
    )
    days_left = serializers.SerializerMethodField(
        help_text=_("Days to the deadline; negative: overdue; null: paused or closed.")
    )
    outcome = serializers.JSONField(read_only=True, help_text=_model_help(DataSubjectRequest, "outcome"))
    events = RequestEventSerializer(many=True, read_only=True, help_text=_("What happened, in order."))
    # The DPO's free text about the request may name the person: DPO tokens only, null for the others.
    note = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("What the person asks; DPO tokens only, null for the others.")
    )
    extension_reason = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("Why the deadline was extended; DPO tokens only, else null.")
    )
    rejection_reason = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("Why the request was rejected; DPO tokens only, else null.")
    )
    DPO_TEXTS = ("note", "extension_reason", "rejection_reason")

    class Meta:
        model = DataSubjectRequest
        fields = [
            "id",
            "controller",
            "subject",
            "type",
            "language",
            "status",
            "received_on",
            "due_on",
            "days_left",
            "extension_months",
            "extension_reason",
            "paused_on",
            "paused_days",
            "identity_verified_at",
            "identity_overridden_at",
            "source",
            "note",
            "completed_at",
            "rejection_reason",
            "outcome",
            "events",
            "created_at",
        ]
        read_only_fields = fields

    def get_days_left(self, obj) -> int | None:
        return obj.days_left()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not reads_dpo_texts(self.context):
            data.update(dict.fromkeys(self.DPO_TEXTS))
            for event in data.get("events", []):
                event["reason"] = None
        return data


class DataSubjectRequestCreateSerializer(serializers.Serializer):
    """File a request. ``controller`` is the token's for a system token; a DPO token names it."""

    controller = serializers.SlugField(
        max_length=64, required=False, help_text=_("Controller key (DPO tokens; a system token's own otherwise).")
    )
    subject = StrictCharField(
        max_length=64,
        required=False,
        help_text=_(
            "Key of the data subject. Unknown keys are refused unless ``identifiers`` are given: the person "
            "is then registered with this key."
        ),
    )
    identifiers = serializers.DictField(
        child=StrictCharField(max_length=200),
        required=False,
        help_text=_(
            "Without ``subject``: the person whose identifier is one of these values (e-mail, customer "
            "number, ...), or, when no one has them, a person no system has registered yet, registered now."
        ),
    )
    type = serializers.ChoiceField(choices=RequestType.choices, help_text=_model_help(DataSubjectRequest, "type"))
    language = serializers.ChoiceField(
        choices=RequestLanguage.choices, required=False, help_text=_model_help(DataSubjectRequest, "language")
    )
    received_on = DateField(required=False, help_text=_("The day it was received; today when omitted."))
    source = StrictCharField(
        max_length=100, required=False, allow_blank=True, help_text=_model_help(DataSubjectRequest, "source")
    )
    note = StrictCharField(
        max_length=5000, required=False, allow_blank=True, help_text=_model_help(DataSubjectRequest, "note")
    )

    def validate_identifiers(self, value):
        if len(value) > 20:
            raise serializers.ValidationError(_("At most 20 identifiers."))
        bad = [name for name in value if not name or len(name) > 50 or not name.replace("_", "").isalnum()]
        if bad:
            raise serializers.ValidationError(_("Name identifiers with letters, digits and underscores."))
        return {name: text.strip() for name, text in value.items() if text.strip()}


class RequestReasonSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=5000, required=False, allow_blank=True, help_text=_("Why (optional)."))


class RequestRejectSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=5000, help_text=_("Why the request is rejected; the requester is told."))


class RequestExtendSerializer(serializers.Serializer):
    months = serializers.IntegerField(min_value=1, max_value=2, help_text=_("Months to add (at most 2 in all)."))
    reason = StrictCharField(max_length=5000, help_text=_("Why the request needs more time."))


class RequestCompleteSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=5000, required=False, allow_blank=True, help_text=_("Note on the outcome."))
    identity_override = StrictCharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        help_text=_(
            "Erasure, access, portability: why the request is completed although the requester's identity "
            "is not verified (kept as an event). Refused when the identity is verified."
        ),
    )
    fields = serializers.ListField(
        child=StrictCharField(max_length=100),
        required=False,
        max_length=200,
        help_text=_("Rectification: names of the fields rectified (names only, never values)."),
    )
    records = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=10000,
        help_text=_("Restriction: ids of the records to restrict; all of the subject's when omitted."),
    )
