"""Errors as 400s with field messages, whatever layer raised them."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from ropa.kernel.problems import Conflict


def as_drf_validation_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """A ``ValidationError`` from a service or a model's ``clean()`` keyed the way serializers key theirs."""
    if hasattr(error, "error_dict"):
        detail = {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
            for field, messages in error.message_dict.items()
        }
    else:
        detail = {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return exceptions.ValidationError(detail)


def api_exception_handler(exc, context):
    """DRF's handler, plus: the services' ``ValidationError`` is a 400 naming the field, and removing
    something still in use, or a write the state of its target refuses (``Conflict``: a hold, a
    restriction), is a 409 that says so."""
    if isinstance(exc, Conflict):
        return Response(exc.body(), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = as_drf_validation_error(exc)
    elif isinstance(exc, ProtectedError):
        return Response(
            {"detail": "Still in use by other entries of the register; it cannot be removed."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
