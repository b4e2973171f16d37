from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ropa.api.validators import StrictCharField

from ..models import Breach


class BreachSerializer(serializers.ModelSerializer):
    """A breach as a reporting system reads it back: where it stands and its clock, no free text."""

    controller = serializers.CharField(source="controller.key", read_only=True)
    natures = serializers.SerializerMethodField()

    class Meta:
        model = Breach
        fields = [
            "id",
            "controller",
            "title",
            "status",
            "natures",
            "aware_at",
            "notification_due_at",
            "external_reference",
            "reported_by",
            "closed_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_natures(self, obj) -> list[str]:
        return obj.natures()


class BreachReportSerializer(serializers.Serializer):
    """A (suspected) breach reported by a security tool (a SIEM, a ticketing system)."""

    controller = serializers.SlugField(
        max_length=64, required=False, help_text=_("Controller key (DPO tokens; a system token's own otherwise).")
    )
    title = StrictCharField(max_length=200, help_text=_("A short name; keep personal data out."))
    aware_at = serializers.DateTimeField(help_text=_("When it was detected: the 72-hour clock starts here."))
    natures = serializers.ListField(
        child=serializers.ChoiceField(choices=["confidentiality", "integrity", "availability"]),
        required=False,
        max_length=3,
    )
    description = StrictCharField(max_length=10000, required=False, allow_blank=True)
    external_reference = StrictCharField(
        max_length=100, help_text=_("The tool's own reference: reporting it again returns the same breach.")
    )
