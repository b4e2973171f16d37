"""Consent and data-subject requests over the API. System tokens file requests and record or withdraw
consent for their own controller; auditors read; DPO tokens do everything, including each step of a
request and the package download. Writes go through ``subjects.services``."""

import json

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from processing.models import Controller, Purpose
from retention import requests as request_execution
from retention.services import subject_register
from ropa.api.mixins import ApiViewMixin
from ropa.api.pagination import RegisterPagination
from ropa.api.roles import DPO_ONLY, Role
from ropa.api.schema import ATTACHMENT
from subjects import selectors, services
from subjects.choices import PACKAGE_REQUEST_TYPES, RequestLanguage, RequestStatus
from subjects.models import ConsentRecord, DataSubject, DataSubjectRequest

from . import serializers
from .filtersets import ConsentFilterSet, DataSubjectRequestFilterSet
from .request_serializers import (
    DataSubjectRequestCreateSerializer,
    DataSubjectRequestSerializer,
    RequestCompleteSerializer,
    RequestExtendSerializer,
    RequestReasonSerializer,
    RequestRejectSerializer,
)

DPO_OR_SYSTEM = frozenset({Role.DPO, Role.SYSTEM})


class ZipRenderer(BaseRenderer):
    """Lets a client ask for ``application/zip``; errors still come as JSON text."""

    media_type = "application/zip"
    format = "zip"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        # An error (404, 403, ...) asked for as a zip is JSON, and says so.
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data).encode()


class _ControllerFromToken:
    """A system token speaks for its one controller; a DPO token names the controller (``controller``)."""

    def resolve_subject(self, data: dict, *, may_register: bool = False) -> tuple[Controller, DataSubject]:
        """The controller and the subject ``data`` names. ``may_register`` (filing a request): a person
        no system has registered is found by, or registered with, the ``identifiers`` given."""
        token = self.token
        if token.is_system:
            (controller_id,) = token.controller_ids
            if data.get("controller") and data["controller"] != Controller.objects.get(pk=controller_id).key:
                raise ApiValidationError({"controller": ["A system token files for its own controller only."]})
            controller = Controller.objects.get(pk=controller_id)
        else:
            if not data.get("controller"):
                raise ApiValidationError({"controller": ["Name the controller (its key)."]})
            controller = Controller.objects.filter(key=data["controller"]).first()
            if controller is None or not token.allows_controller(controller.pk):
                raise ApiValidationError({"controller": ["No controller “{}”.".format(data["controller"])]})
        identifiers = data.get("identifiers") if may_register else None
        if not data.get("subject"):
            if not identifiers:
                raise ApiValidationError({"subject": ["Give the subject's key, or its identifiers."]})
            found = {s.pk: s for value in identifiers.values() for s in selectors.subject_matches(controller, value)}
            if len(found) > 1:
                raise ApiValidationError(
                    {"identifiers": [f"{len(found)} subjects have these identifiers: give the key of the one meant."]}
                )
            if found:
                return controller, next(iter(found.values()))
            return controller, subject_register(controller=controller, identifiers=identifiers)
        subject = DataSubject.objects.filter(controller=controller, key=data["subject"]).first()
        if subject is None:
            if identifiers:
                return controller, subject_register(controller=controller, key=data["subject"], identifiers=identifiers)
            hint = "; give its identifiers too to file for a person no system has registered" if may_register else ""
            raise ApiValidationError(
                {"subject": ["No subject “{}” under this controller{}.".format(data["subject"], hint)]}
            )
        return controller, subject


class ConsentViewSet(
    _ControllerFromToken,
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Consents (Art. 7): who consented to which purpose, when, with what evidence, and when it was
    withdrawn. A withdrawal moves the retention of the person's records under the purpose (trigger
    ``consent_withdrawn``). System tokens record and withdraw the consents of their controller."""

    queryset = ConsentRecord.objects.select_related("subject__controller", "purpose__activity")
    serializer_class = serializers.ConsentSerializer
    filterset_class = ConsentFilterSet
    pagination_class = RegisterPagination
    controller_field = "subject__controller_id"
    write_roles = DPO_OR_SYSTEM
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(request=serializers.ConsentCreateSerializer, responses={201: serializers.ConsentSerializer})
    def create(self, request, *args, **kwargs):
        """Record a consent to a purpose that rests on consent, for a subject of the controller."""
        body = serializers.ConsentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        _controller, subject = self.resolve_subject(data)
        purpose = Purpose.objects.select_related("activity").filter(pk=data["purpose"]).first()
        if purpose is None or purpose.activity.controller_id != subject.controller_id:
            raise ApiValidationError({"purpose": [f"No purpose {data['purpose']} under this controller."]})
        consent = services.consent_record(
            subject=subject,
            purpose=purpose,
            given_at=data.get("given_at") or timezone.now(),
            source=data["source"],
            evidence=data.get("evidence", ""),
            evidence_version=data.get("evidence_version", ""),
            actor=request.user,
        )
        payload = self.get_serializer(self.get_queryset().get(pk=consent.pk)).data
        return Response(payload, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.ConsentWithdrawSerializer, responses=serializers.ConsentWithdrawResultSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw the consent (now, or at ``withdrawn_at``). The person's records under the purpose's
        activity get ``consent_withdrawn_on``; their new expiry is returned."""
        consent = self.get_object()
        body = serializers.ConsentWithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        consent, changed = request_execution.consent_withdraw(
            consent=consent,
            withdrawn_at=body.validated_data.get("withdrawn_at"),
            source=body.validated_data.get("source", ""),
            actor=request.user,
        )
        consent = self.get_queryset().get(pk=consent.pk)
        return Response({"consent": self.get_serializer(consent).data, "records": changed})


class DataSubjectRequestViewSet(
    _ControllerFromToken,
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Data-subject requests (Art. 15-21), most urgent first, each with its deadline (one month from
    receipt, Art. 12(3); extended by at most two months; paused while identity is verified), outcome and
    event log. Filter with ``?deadline=overdue|due7``, ``?status=``, ``?type=``, ``?controller=``. System
    tokens file requests for their controller; the steps and the package are for DPO tokens."""

    queryset = DataSubjectRequest.objects.select_related("controller", "subject").prefetch_related("events")
    serializer_class = DataSubjectRequestSerializer
    filterset_class = DataSubjectRequestFilterSet
    pagination_class = RegisterPagination
    controller_field = "controller_id"
    write_roles = DPO_OR_SYSTEM
    action_roles = {
        "identity_request": DPO_ONLY,
        "identity_verify": DPO_ONLY,
        "extend": DPO_ONLY,
        "complete": DPO_ONLY,
        "reject": DPO_ONLY,
        "lift_restriction": DPO_ONLY,
        "package": DPO_ONLY,
    }
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().by_urgency()

    @extend_schema(
        request=DataSubjectRequestCreateSerializer,
        responses={201: DataSubjectRequestSerializer},
    )
    def create(self, request, *args, **kwargs):
        """File a request received today (or on ``received_on``) from a subject of the controller."""
        body = DataSubjectRequestCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with transaction.atomic():
            controller, subject = self.resolve_subject(data, may_register=True)
            source = data.get("source") or (self.token.source_system if self.token.is_system else "api")
            filed = services.dsr_receive(
                controller=controller,
                subject=subject,
                type=data["type"],
                received_on=data.get("received_on"),
                source=source,
                note=data.get("note", ""),
                language=data.get("language", RequestLanguage.EN),
                actor=request.user,
            )
        return Response(self._shown(filed), status=status.HTTP_201_CREATED)

    def _shown(self, obj):
        return self.get_serializer(self.get_queryset().get(pk=obj.pk)).data

    def _step(self, service, body):
        """A step of the workflow: ``service`` on this request with the validated ``body``; the request after."""
        done = service(request=self.get_object(), actor=self.request.user, **self._body(body))
        return Response(self._shown(done))

    def _body(self, serializer_class):
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data

    @extend_schema(request=RequestReasonSerializer, responses=DataSubjectRequestSerializer)
    @action(detail=True, methods=["post"], url_path="identity-request")
    def identity_request(self, request, pk=None):
        """Ask the requester for proof of identity: the clock stops until it is verified."""
        return self._step(services.dsr_identity_request, RequestReasonSerializer)

    @extend_schema(request=RequestReasonSerializer, responses=DataSubjectRequestSerializer)
    @action(detail=True, methods=["post"], url_path="identity-verify")
    def identity_verify(self, request, pk=None):
        """Identity verified: in progress, and the days paused are added to the deadline."""
        return self._step(services.dsr_identity_verify, RequestReasonSerializer)

    @extend_schema(request=RequestExtendSerializer, responses=DataSubjectRequestSerializer)
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """Extend the deadline by 1 or 2 months (at most 2 in all), with the reason."""
        return self._step(services.dsr_extend, RequestExtendSerializer)

    @extend_schema(
        request=RequestCompleteSerializer,
        responses=DataSubjectRequestSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Execute the request as its type says and close it; the outcome says what was done (erased, kept
        and why, restricted, rectified fields)."""
        obj = self.get_object()
        data = self._body(RequestCompleteSerializer)
        done = request_execution.dsr_complete(
            request=obj,
            actor=request.user,
            reason=data.get("reason", ""),
            fields=data.get("fields"),
            records=data.get("records"),
            identity_override=data.get("identity_override", ""),
        )
        return Response(self._shown(done))

    @extend_schema(request=RequestRejectSerializer, responses=DataSubjectRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the request, with the reason the requester is given."""
        return self._step(services.dsr_reject, RequestRejectSerializer)

    @extend_schema(request=RequestReasonSerializer, responses=DataSubjectRequestSerializer)
    @action(detail=True, methods=["post"], url_path="lift-restriction")
    def lift_restriction(self, request, pk=None):
        """Lift the restriction a restriction request placed on the subject's records."""
        obj = self.get_object()
        data = self._body(RequestReasonSerializer)
        services.dsr_restriction_lift(request=obj, actor=request.user, **data)
        return Response(self._shown(obj))

    @extend_schema(
        parameters=[ATTACHMENT],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The package (zip)."),
            400: OpenApiResponse(description="This request has no package (its type or its status)."),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, ZipRenderer])
    def package(self, request, pk=None):
        """Everything held about the subject (access, portability): a zip with ``package.json`` and CSV files
        (format ``ropa-subject-package/1``)."""
        obj = self.get_object()
        if obj.type not in PACKAGE_REQUEST_TYPES:
            raise ApiValidationError({"type": ["Only an access or portability request has a package."]})
        if obj.status in (RequestStatus.REJECTED, RequestStatus.AWAITING_IDENTITY):
            raise ApiValidationError({"status": [f"No package while the request is {obj.get_status_display()}."]})
        services.dsr_package_downloaded(request=obj, actor=request.user)
        content = selectors.subject_package_zip(obj.subject, language=obj.language)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{selectors.package_filename(obj)}"'
        return response
