"""The register over the API: read by every role within its scope, written by DPO tokens through the
register's services (the same ones the admin's ``save_model`` calls)."""

import datetime as dt

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from processing.filtersets import (
    ControllerFilterSet,
    DataCategoryFilterSet,
    DataSubjectCategoryFilterSet,
    ProcessingActivityFilterSet,
    PurposeFilterSet,
    RecipientFilterSet,
    SecurityMeasureFilterSet,
)
from processing.models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Purpose,
    Recipient,
    SecurityMeasure,
)
from processing.services import (
    controller_save,
    processing_activity_end,
    processing_activity_write,
    recipient_save,
    vocabulary_save,
)
from ropa.api.mixins import ReadOnlyRegisterViewSet, RegisterViewSet
from ropa.kernel.writes import assign

from . import serializers
from .selectors import ACTIVITY_ROW


class ControllerViewSet(RegisterViewSet):
    """Controllers (Art. 30(1)(a)). Auditors and systems see the controllers of their token only."""

    queryset = Controller.objects.all()
    serializer_class = serializers.ControllerSerializer
    filterset_class = ControllerFilterSet
    controller_field = "id"

    def save_service(self, *, instance, data, actor):
        return controller_save(controller=assign(instance or Controller(), data), actor=actor, reason="api")


class RecipientViewSet(RegisterViewSet):
    """Recipients, processors and third parties of a controller (Art. 30(1)(d), (e)); a recipient outside
    the EEA carries its transfer safeguard."""

    queryset = Recipient.objects.select_related("controller")
    serializer_class = serializers.RecipientSerializer
    filterset_class = RecipientFilterSet

    def save_service(self, *, instance, data, actor):
        return recipient_save(recipient=assign(instance or Recipient(), data), actor=actor, reason="api")


class VocabularyViewSet(RegisterViewSet):
    controller_field = None

    def save_service(self, *, instance, data, actor):
        entry = assign(instance or self.get_queryset().model(), data)
        return vocabulary_save(entry=entry, actor=actor, reason="api")


class DataSubjectCategoryViewSet(VocabularyViewSet):
    """Data-subject categories (Art. 30(1)(c)): the codes activities refer to."""

    queryset = DataSubjectCategory.objects.all()
    serializer_class = serializers.DataSubjectCategorySerializer
    filterset_class = DataSubjectCategoryFilterSet


class DataCategoryViewSet(VocabularyViewSet):
    """Data categories (Art. 30(1)(c)), flagged special (Art. 9) or criminal (Art. 10)."""

    queryset = DataCategory.objects.all()
    serializer_class = serializers.DataCategorySerializer
    filterset_class = DataCategoryFilterSet


class SecurityMeasureViewSet(VocabularyViewSet):
    """Technical and organisational security measures (Art. 30(1)(g), Art. 32)."""

    queryset = SecurityMeasure.objects.all()
    serializer_class = serializers.SecurityMeasureSerializer
    filterset_class = SecurityMeasureFilterSet


class PurposeViewSet(ReadOnlyRegisterViewSet):
    """Purposes with their ids, activity and legal basis, read only (they are written with their activity).
    A consent names one by ``id``: ``?controller=voiceking&legal_basis=consent`` lists those it can name."""

    queryset = Purpose.objects.select_related("activity__controller").order_by(
        "activity__controller__key", "activity__reference", "position", "id"
    )
    serializer_class = serializers.PurposeListSerializer
    filterset_class = PurposeFilterSet
    controller_field = "activity__controller_id"


class ProcessingActivityViewSet(RegisterViewSet):
    """Processing activities (Art. 30(1) and 30(2)), nested with their purposes, categories, recipients and
    transfers. DELETE ends the activity today; it is never destroyed. (Served with the retention rules
    nested by ``retention.api``, as the retention admin adds its inline to the activity page.)"""

    queryset = ProcessingActivity.objects.select_related("controller")
    serializer_class = serializers.ProcessingActivitySerializer
    filterset_class = ProcessingActivityFilterSet
    http_method_names = [*RegisterViewSet.http_method_names, "delete"]

    def paginate_queryset(self, queryset):
        # A page is read as plain rows: the serializer needs no model instances to write it out.
        if self.action == "list":
            queryset = queryset.values(*ACTIVITY_ROW)
        return super().paginate_queryset(queryset)

    def save_service(self, *, instance, data, actor):
        activity = processing_activity_write(activity=instance, data=data, actor=actor)
        return self.get_queryset().get(pk=activity.pk)

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Ended (or already ended); the entry stays in the register.")},
    )
    def destroy(self, request, *args, **kwargs):
        activity = self.get_object()
        if activity.status != "ended":
            processing_activity_end(activity=activity, ended_on=timezone.localdate(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=serializers.ActivityEndSerializer, responses=serializers.ProcessingActivitySerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """End the activity on a date, optionally naming the activity that replaces it. Ending changes no
        retention: its rules and its records' expiry stay as they were, so what the law keeps stays kept
        (its rules still refuse to be weakened), and nothing moves to the successor."""
        activity = self.get_object()
        body = serializers.ActivityEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        replaced_by = body.validated_data.get("replaced_by")
        ended_on: dt.date = body.validated_data.get("ended_on") or timezone.localdate()
        processing_activity_end(activity=activity, ended_on=ended_on, replaced_by=replaced_by, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=activity.pk)).data)
