"""Retention endpoints: activities with their rules, records for internal systems, legal holds, and each
source system's erasure feed. Writes go through ``retention.services``, the batch
registration and the rules of a nested activity included."""

from __future__ import annotations  # the record viewset defines list(); annotations say list[...]

from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from processing.api import views as register_views
from processing.models import Controller, DataCategory, ProcessingActivity
from processing.services import processing_activity_write
from retention.models import ErasureNotice, LegalHold, RetentionRule
from retention.services import (
    OMITTED,
    RetentionChange,
    erasure_confirm,
    legal_hold_place,
    legal_hold_release,
    record_update_dates,
)
from retention.services.batches import BatchConflict, RecordInput, record_register_many
from retention.services.rule_sync import retention_rules_sync
from ropa.api.mixins import ApiViewMixin, any_of
from ropa.api.pagination import KeysetPagination, RegisterPagination
from ropa.api.roles import ALL_ROLES, DPO_ONLY, Role
from subjects.api.filtersets import PersonalDataRecordFilterSet
from subjects.api.serializers import (
    DATE_FIELDS,
    RECORD_COLUMNS,
    RECORD_OUTCOMES,
    PersonalDataRecordSerializer,
    RecordBatchResultSerializer,
    RecordBatchSerializer,
    RecordRegisterSerializer,
    RecordResultSerializer,
    TriggerDatesSerializer,
)
from subjects.models import DataSubject, PersonalDataRecord

from . import serializers

SYSTEM_ONLY = frozenset({Role.SYSTEM})
DPO_OR_SYSTEM = frozenset({Role.DPO, Role.SYSTEM})


class ProcessingActivityViewSet(register_views.ProcessingActivityViewSet):
    """Processing activities (Art. 30(1) and 30(2)), nested with their purposes, legal bases, categories,
    recipients, transfers and retention rules (each with the sentence the register prints). Auditors and
    systems read the activities of their controllers; DPO tokens write. DELETE ends the activity (today);
    it is never destroyed."""

    # The serializer reads the children of a whole page at once (processing.api.selectors).
    queryset = ProcessingActivity.objects.select_related("controller")
    serializer_class = serializers.ActivityWithRetentionSerializer

    def save_service(self, *, instance, data, actor):
        data = dict(data)
        rules = data.pop("retention_rules", None)
        override = data.pop("override", None) or {}
        self.retention_change = RetentionChange()
        with transaction.atomic():
            activity = processing_activity_write(activity=instance, data=data, actor=actor)
            if rules is not None:
                self.retention_change = retention_rules_sync(
                    activity=activity, rows=rules, actor=actor, override_reason=override.get("reason")
                )
        return self.get_queryset().get(pk=activity.pk)

    def _with_retention_changes(self, response):
        # Before any sweep can act on them: the records this write made expire earlier (ids and counts).
        if response.status_code < 300 and hasattr(self, "retention_change"):
            response.data["retention_changes"] = self.retention_change.as_dict()
        return response

    @extend_schema(responses={201: serializers.ActivityWriteResultSerializer})
    def create(self, request, *args, **kwargs):
        return self._with_retention_changes(super().create(request, *args, **kwargs))

    @extend_schema(
        request=serializers.ActivityReplacementSerializer, responses={200: serializers.ActivityWriteResultSerializer}
    )
    def update(self, request, *args, **kwargs):
        """Replace the activity: every list sent replaces the stored one; each retention rule row states its
        duration, statutory and maximum flags, action and grace period. 409 when it would weaken a statutory
        rule that still keeps records, unless ``override`` gives the reason."""
        return self._with_retention_changes(super().update(request, *args, **kwargs))

    @extend_schema(responses={200: serializers.ActivityWriteResultSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Change what is sent: lists sent replace the stored ones; a retention rule row with an ``id``
        changes only the keys it gives (rules left out of a list sent are removed). 409 when it would weaken
        a statutory rule that still keeps records, unless ``override`` gives the reason."""
        return super().partial_update(request, *args, **kwargs)


class RecordViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Personal-data records. A system token registers the records of its source system (one, or a batch
    of up to 1,000, idempotent on ``external_id``), updates their trigger dates and looks them up
    (``?subject=``, ``?external_id=``); it never sees another system's or controller's records. Pages are
    keyset cursors, oldest first."""

    queryset = PersonalDataRecord.objects.select_related("subject", "data_category")
    serializer_class = PersonalDataRecordSerializer
    filterset_class = PersonalDataRecordFilterSet
    pagination_class = KeysetPagination
    keyset = ("id",)
    controller_field = "activity__controller_id"
    source_system_field = "source_system"
    read_roles = ALL_ROLES
    write_roles = DPO_OR_SYSTEM
    action_roles = {"create": SYSTEM_ONLY, "batch": SYSTEM_ONLY}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def list(self, request, *args, **kwargs):
        """Records in scope, oldest first, filtered (``?subject=``, ``?external_id=``, ``?status=``, ...)."""
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values(*RECORD_COLUMNS))
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        token = self.token
        # Auditors check retention, not the personal data itself.
        context["show_payload"] = token is not None and token.role != Role.AUDITOR
        # A restricted record (Art. 18) is stored, not processed: its source system sees it without payload.
        context["withhold_restricted"] = token is None or token.is_system
        return context

    @extend_schema(
        request=RecordRegisterSerializer,
        responses={
            201: OpenApiResponse(RecordResultSerializer, description="Registered."),
            200: OpenApiResponse(
                RecordResultSerializer, description="Already registered: updated, or unchanged (``outcome``)."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Register one record of the token's source system (idempotent on ``external_id``). Sent again, the
        record takes what differs and keeps what is left out (``payload``, ``retention_rule``, dates,
        ``subject_identifiers``); ``null`` clears. 409 when a legal hold in force freezes what would change
        (subject, activity, data category, named rule) or an Art. 18 restriction freezes the record."""
        body = RecordRegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items, errors = self.resolve([body.validated_data])
        if errors[0]:
            raise ApiValidationError(errors[0])
        try:
            result = record_register_many(source_system=self.token.source_system, items=items)[0]
        except BatchConflict as conflict:
            raise conflict.items[0] from None  # one record: its own conflict, not the batch's
        payload = RecordResultSerializer(result).data
        return Response(payload, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(request=RecordBatchSerializer, responses=RecordBatchResultSerializer)
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Register up to 1,000 records at once, all or nothing: a batch with any error writes nothing and
        names the field of each bad record (a 409 names each record a hold or a restriction keeps from
        changing). Sending the same batch again creates nothing twice. Records already registered keep what
        is left out, as with one record; the answer counts created, updated and unchanged records."""
        body = RecordBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = body.validated_data["records"]
        items, errors = self.resolve(rows)
        if any(errors):
            # Keyed by position, as DRF keys the errors of the records it rejected itself.
            raise ApiValidationError({"records": {index: e for index, e in enumerate(errors) if e}})
        results = record_register_many(source_system=self.token.source_system, items=items)
        counts = {outcome: sum(1 for r in results if r.outcome == outcome) for outcome in RECORD_OUTCOMES}
        counts["existing"] = counts["updated"] + counts["unchanged"]  # the former name of the two together
        return Response(RecordBatchResultSerializer({**counts, "results": results}).data)

    @extend_schema(request=TriggerDatesSerializer, responses=PersonalDataRecordSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change trigger dates of a record (e.g. ``contract_ended_on``); its expiry is recomputed. Only the
        dates sent change; null clears one. 409 while the record is restricted (Art. 18)."""
        record = self.get_object()
        body = TriggerDatesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = record_update_dates(record=record, dates=body.validated_data)
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(record).data)

    def resolve(self, rows: list[dict]) -> tuple[list[RecordInput], list[dict]]:
        """Turn validated rows into ``RecordInput``s with a few queries for the whole batch: activities of
        the token's controller, data categories by code, rules by id. Errors line up with the rows."""
        lookup = _BatchLookup(rows, controller_ids=self.token.controller_ids)
        errors: list[dict] = [{} for _ in rows]
        items, seen = [], {}
        for index, row in enumerate(rows):
            problems = errors[index]
            activity = lookup.activity(row["activity"], problems)
            category = lookup.category(row["data_category"], problems)
            rule = lookup.rule(row.get("retention_rule"), activity, category, problems)
            if row["external_id"] in seen:
                problems["external_id"] = [f"Also sent as record {seen[row['external_id']]} of this batch."]
            seen.setdefault(row["external_id"], index)
            if problems:
                continue
            items.append(
                RecordInput(
                    external_id=row["external_id"],
                    subject_key=row["subject"],
                    subject_identifiers=row.get("subject_identifiers"),
                    activity=activity,
                    data_category=category,
                    retention_rule=rule if "retention_rule" in row else OMITTED,
                    payload=row.get("payload", OMITTED),
                    dates={name: row[name] for name in DATE_FIELDS if name in row},
                )
            )
        return items, errors


class _BatchLookup:
    """What the rows of one batch name, read once: activities (by id or reference, within the token's
    controllers), data categories by code, rules by id. Each lookup adds its refusal to the row's problems."""

    def __init__(self, rows: list[dict], *, controller_ids):
        ids = {row["activity"] for row in rows if isinstance(row["activity"], int)}
        references = {row["activity"] for row in rows if isinstance(row["activity"], str)}
        activities = ProcessingActivity.objects.filter(Q(pk__in=ids) | Q(reference__in=references))
        if controller_ids is not None:
            activities = activities.filter(controller_id__in=controller_ids)
        self.by_id, self.by_reference = {}, defaultdict(list)
        for activity in activities:
            self.by_id[activity.pk] = activity
            self.by_reference[activity.reference].append(activity)
        codes = {row["data_category"] for row in rows}
        self.categories = {c.code: c for c in DataCategory.objects.filter(code__in=codes)}
        rule_ids = {row["retention_rule"] for row in rows if row.get("retention_rule")}
        self.rules = {r.pk: r for r in RetentionRule.objects.filter(pk__in=rule_ids)} if rule_ids else {}

    def activity(self, ref, problems: dict):
        if isinstance(ref, int):
            activity = self.by_id.get(ref)
        else:
            matches = self.by_reference.get(ref, [])
            if len(matches) > 1:
                problems["activity"] = [f"Reference “{ref}” is used by several controllers; give the id."]
                return None
            activity = matches[0] if matches else None
        if activity is None:
            problems["activity"] = [f"No activity “{ref}” under this token's controller."]
        return activity

    def category(self, code: str, problems: dict):
        category = self.categories.get(code)
        if category is None:
            problems["data_category"] = [f"Unknown code “{code}”."]
        return category

    def rule(self, rule_id, activity, category, problems: dict):
        if not rule_id:
            return None
        rule = self.rules.get(rule_id)
        if rule is None or (activity is not None and rule.activity_id != activity.pk):
            problems["retention_rule"] = [f"No retention rule {rule_id} on this activity."]
        elif category is not None and rule.data_category_id not in (None, category.pk):
            problems["retention_rule"] = ["The rule is for another data category."]
        return rule


class LegalHoldViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Legal holds: while one is in force nothing in its scope is flagged or erased, by any path. DPO
    tokens place and release them (a released hold stays, as evidence); auditors and systems read the
    holds on their controllers."""

    queryset = LegalHold.objects.select_related("controller", "subject__controller", "placed_by", "released_by")
    serializer_class = serializers.LegalHoldSerializer
    pagination_class = RegisterPagination
    controller_field = None
    read_roles = ALL_ROLES
    write_roles = DPO_ONLY
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset()
        token = self.token
        if token is None or token.controller_ids is None:
            return queryset
        ids = sorted(token.controller_ids)
        in_scope = any_of(
            Q(controller_id__in=ids),
            Q(activity__controller_id__in=ids),
            Q(subject_id__in=DataSubject.objects.filter(controller_id__in=ids).values("pk")),
            Q(record_id__in=self.records_in_scope(token).values("pk")),
        )
        return queryset.filter(in_scope)

    @staticmethod
    def records_in_scope(token):
        records = PersonalDataRecord.objects.filter(activity__controller_id__in=sorted(token.controller_ids))
        if token.is_system:
            records = records.filter(source_system=token.source_system)
        return records

    def object_in_scope(self, token, obj) -> bool:
        return token.controller_ids is None or self.get_queryset().filter(pk=obj.pk).exists()

    def perform_create(self, serializer):
        data = serializer.validated_data
        target: dict = {}
        errors = {}
        if data.get("activity"):
            target["activity"] = ProcessingActivity.objects.filter(pk=data["activity"]).first()
            if target["activity"] is None:
                errors["activity"] = [f"No activity {data['activity']}."]
        elif data.get("record"):
            target["record"] = PersonalDataRecord.objects.filter(pk=data["record"]).first()
            if target["record"] is None:
                errors["record"] = [f"No record {data['record']}."]
        else:
            controller = Controller.objects.filter(key=data.get("controller")).first()
            if controller is None:
                errors["controller"] = ["No controller “{}”.".format(data.get("controller"))]
            elif data.get("subject"):
                target["subject"] = DataSubject.objects.filter(controller=controller, key=data["subject"]).first()
                if target["subject"] is None:
                    # The key identifies a person: the error does not repeat it.
                    errors["subject"] = ["No subject with this key under this controller."]
            else:
                target["controller"] = controller
        if errors:
            raise ApiValidationError(errors)
        hold = legal_hold_place(reason=data["reason"], actor=self.request.user, **target)
        serializer.instance = self.get_queryset().get(pk=hold.pk)

    @extend_schema(request=serializers.HoldReleaseSerializer, responses=serializers.LegalHoldSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Lift the hold; the next retention sweep takes what it held. Releasing twice changes nothing."""
        hold = self.get_object()
        body = serializers.HoldReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        legal_hold_release(hold=hold, actor=request.user, reason=body.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=hold.pk)).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("source_system", str, description="DPO tokens: one source system's feed.", required=False)
        ]
    )
)
class ErasureFeedViewSet(ApiViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The erasure feed of the token's source system: records the register erased, oldest first, that the
    system has not yet confirmed erasing on its side. Read from the start (no cursor) each time; confirmed
    lines leave the feed, unconfirmed ones stay (and show in the admin)."""

    queryset = ErasureNotice.objects.filter(confirmed_at__isnull=True)
    serializer_class = serializers.ErasureNoticeSerializer
    pagination_class = KeysetPagination
    keyset = ("id",)
    controller_field = None
    source_system_field = "source_system"
    read_roles = DPO_OR_SYSTEM
    write_roles = SYSTEM_ONLY

    def filter_queryset(self, queryset):
        source_system = self.request.query_params.get("source_system")
        if source_system:
            if "\x00" in source_system or len(source_system) > 100:
                raise ApiValidationError({"source_system": ["Not a source system."]})
            queryset = queryset.filter(source_system=source_system)
        return queryset

    @extend_schema(request=serializers.ErasureConfirmSerializer, responses=serializers.ErasureConfirmResultSerializer)
    @action(detail=False, methods=["post"])
    def confirm(self, request):
        """Confirm that the source system erased these records too: they leave the feed. Idempotent."""
        token = self.token
        if not token.is_system:
            raise PermissionDenied("Only the source system can confirm its erasures.")
        body = serializers.ErasureConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = list(dict.fromkeys(body.validated_data["external_ids"]))
        with transaction.atomic():
            in_feed = set(self.get_queryset().filter(external_id__in=wanted).values_list("external_id", flat=True))
            confirmed = erasure_confirm(source_system=token.source_system, external_ids=sorted(in_feed))
        return Response({"confirmed": confirmed, "not_in_feed": [i for i in wanted if i not in in_feed]})
