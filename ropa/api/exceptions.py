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
    something still in use, a write the state of its target refuses (``Conflict``: a hold, a
    restriction), or one whose only fault is a key already taken, is a 409 that says so."""
    if isinstance(exc, Conflict):
        return Response(exc.body(), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError | exceptions.ValidationError) and _only_duplicates(exc):
        # Well formed, but the key is taken: a conflict with the register as it stands.
        detail = as_drf_validation_error(exc).detail if isinstance(exc, DjangoValidationError) else exc.detail
        return Response(_duplicate_body(detail), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = as_drf_validation_error(exc)
    elif isinstance(exc, ProtectedError):
        return Response(
            {"detail": "Still in use by other entries of the register; it cannot be removed."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


DUPLICATE_CODES = frozenset({"unique", "unique_together"})


def _only_duplicates(exc) -> bool:
    """Whether every message of a refused write says that its key is taken: the input is well formed, the
    register already holds an entry under that key (a 409, like any conflict with the state it meets)."""
    if isinstance(exc, DjangoValidationError):
        errors = [e for es in exc.error_dict.values() for e in es] if hasattr(exc, "error_dict") else exc.error_list
        codes = [error.code for error in errors]
    else:
        codes = list(_leaves(exc.get_codes()))
    return bool(codes) and all(code in DUPLICATE_CODES for code in codes)


def _leaves(codes):
    if isinstance(codes, dict):
        for value in codes.values():
            yield from _leaves(value)
    elif isinstance(codes, list | tuple):
        for value in codes:
            yield from _leaves(value)
    else:
        yield codes


def _duplicate_body(detail) -> dict:
    """The 409 of a taken key: ``detail`` (the first message) and ``fields`` (what is taken), as any conflict."""
    fields = sorted(detail) if isinstance(detail, dict) else [api_settings.NON_FIELD_ERRORS_KEY]
    first = next(iter(_leaves(detail)), "Already in the register.")
    return {"detail": str(first), "fields": fields}
