"""Pages: numbered for the small register lists, keyset cursors for records and the erasure feed.

A keyset page is one index range scan (``WHERE (a, id) > (...) ORDER BY a, id LIMIT n``): no
``COUNT(*)``, no ``OFFSET``, so the 10,000th page costs what the first does, and rows that leave the
list (a confirmed erasure) never make the next page skip one.
"""

import base64
import binascii
import json
from collections import OrderedDict

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Window
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

_TOTAL = "_page_total"
_FARTHEST = 10**12  # an offset past any register list, yet one every database can take


class CountingPaginator(Paginator):
    """A paginator that reads a page and the number of rows in one query (``COUNT(*) OVER ()`` beside
    the page's rows) instead of a ``COUNT(*)`` first. A number past the last page, where no row carries
    the total, falls back to the usual count and its "invalid page" answer."""

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            return super().page(number)
        bottom = (number - 1) * self.per_page
        if number < 1 or bottom > _FARTHEST or not isinstance(self.object_list, QuerySet):
            return super().page(number)
        rows = list(self.object_list.annotate(**{_TOTAL: Window(Count("*"))})[bottom : bottom + self.per_page])
        if not rows:
            return super().page(number)
        first = rows[0]
        self.count = first[_TOTAL] if isinstance(first, dict) else getattr(first, _TOTAL)  # cached_property
        for row in rows:
            if isinstance(row, dict):
                del row[_TOTAL]
        return self._get_page(rows, number, self)


def strict_page_size(request, *, name: str, default: int, maximum: int) -> int:
    """``?page_size=``: a whole number from 1 to ``maximum``, or a 400 that says so (never silently the
    default, as DRF would answer ``page_size=abc``)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise exceptions.ValidationError({name: [_("A whole number.")]}) from None
    if not 1 <= size <= maximum:
        raise exceptions.ValidationError({name: [_("Between 1 and %d.") % maximum]})
    return size


class RegisterPagination(PageNumberPagination):
    """Numbered pages of 50 (``page_size`` up to 500) for the register lists, which stay small."""

    django_paginator_class = CountingPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        return strict_page_size(
            request, name=self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )

    def get_schema_operation_parameters(self, view):
        page, page_size = super().get_schema_operation_parameters(view)
        page["schema"] = {"type": "integer", "minimum": 1}
        page["description"] = "Page number, from 1; a page past the last is a 404."
        page_size["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        page_size["description"] = f"Rows per page, 1 to {self.max_page_size} (default {self.page_size})."
        return [page, page_size]


class KeysetPagination(BasePagination):
    """Opaque ``cursor`` pages over a unique ordering (the view's ``keyset``, e.g. ``("erased_at", "id")``).

    ``next`` is null on the last page. Rows are never counted.
    """

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 1000
    invalid_cursor_message = _("Invalid cursor.")

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.keyset = tuple(getattr(view, "keyset", ("id",)))
        self.page_size = self.get_page_size(request)
        position = self.decode_cursor(request, queryset.model)
        queryset = queryset.order_by(*self.keyset)
        if position is not None:
            queryset = queryset.filter(self.after(position))
        rows = list(queryset[: self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        rows = rows[: self.page_size]
        self.last = rows[-1] if rows else None
        return rows

    def after(self, position: list) -> Q:
        """``(k1, k2, ...) > (v1, v2, ...)`` spelt as ORs, which every database plans as a range scan."""
        condition = Q()
        for index, field in enumerate(self.keyset):
            equal = {name: position[i] for i, name in enumerate(self.keyset[:index])}
            condition |= Q(**equal, **{f"{field}__gt": position[index]})
        return condition

    def get_page_size(self, request) -> int:
        return strict_page_size(
            request, name=self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )

    def decode_cursor(self, request, model) -> list | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        invalid = exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        try:
            values = json.loads(base64.urlsafe_b64decode(encoded.encode("ascii")).decode("utf-8"))
        except (ValueError, UnicodeError, binascii.Error):
            raise invalid from None
        if not isinstance(values, list) or len(values) != len(self.keyset):
            raise invalid
        position = []
        for name, value in zip(self.keyset, values, strict=True):
            field = model._meta.get_field(name)
            if value is None or isinstance(value, bool | dict | list):
                raise invalid
            try:
                position.append(field.to_python(value))
            except (ValidationError, TypeError, ValueError, OverflowError):
                raise invalid from None
            if isinstance(position[-1], int) and not -(2**63) <= position[-1] < 2**63:
                raise invalid
        return position

    def encode_cursor(self, row) -> str:
        values = []
        for name in self.keyset:
            value = row[name] if isinstance(row, dict) else getattr(row, name)
            values.append(value.isoformat() if hasattr(value, "isoformat") else value)
        return base64.urlsafe_b64encode(json.dumps(values).encode("utf-8")).decode("ascii")

    def get_next_link(self) -> str | None:
        if not self.has_next or self.last is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.encode_cursor(self.last))

    def get_paginated_response(self, data):
        return Response(OrderedDict([("next", self.get_next_link()), ("results", data)]))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position taken from `next`; omit for the first page.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {self.max_page_size} (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
