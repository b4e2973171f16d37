"""JSON bodies are read with their JSON types: text is a string, a flag is ``true`` or ``false``, a count a
whole number. DRF reads input as a form would (``0`` for false, ``12`` for the text "12", ``"5"`` for the
number 5, a country as ``{"code": ...}``), so a body the OpenAPI schema refuses was taken as if it had said
something else. Here the scalar fields refuse a value of the wrong JSON type, for bodies the API's JSON
parser read (``JsonObject``) and only those: query strings, forms and register files (YAML) are read as before.

``install()`` (from the app's ``ready()``) wraps ``to_internal_value`` of DRF's scalar fields once.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from rest_framework import relations, serializers


class JsonObject(dict):
    """A request body the API's JSON parser read: the object at its top (what is nested in it stays a plain
    dict, so that a stored payload compares equal to the one sent again)."""


def _is_text(value) -> bool:
    return isinstance(value, str)


def _is_flag(value) -> bool:
    return isinstance(value, bool)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


EXPECTED = {
    _is_text: _("Expected a string."),
    _is_flag: _("Expected true or false."),
    _is_whole: _("Expected a whole number."),
    _is_number: _("Expected a number."),
}

# Each field class with the JSON type it takes. Subclasses that keep the method (SlugField, EmailField,
# URLField, ...) are covered by their base.
FIELDS = (
    (serializers.CharField, _is_text),
    (serializers.BooleanField, _is_flag),
    (serializers.IntegerField, _is_whole),
    (serializers.FloatField, _is_number),
    (serializers.DecimalField, _is_number),
    (relations.SlugRelatedField, _is_text),
    (relations.PrimaryKeyRelatedField, _is_whole),
    (CountryField, _is_text),
)


def read_from_json_body(field) -> bool:
    return isinstance(getattr(field.root, "initial_data", None), JsonObject)


def _strict(original, accepts):
    message = EXPECTED[accepts]

    def to_internal_value(self, data):
        value = original(self, data)  # DRF's own refusal, where it has one, comes first
        if not accepts(data) and read_from_json_body(self):
            raise serializers.ValidationError([message], code="invalid")
        return value

    to_internal_value.strict_json = True
    return to_internal_value


def _string_choices(field) -> bool:
    return bool(field.choices) and all(isinstance(key, str) for key in field.choices)


def _strict_choice(original):
    def to_internal_value(self, data):
        value = original(self, data)
        # A choice among strings is a string: "1" is a choice, 1 is not.
        if not isinstance(data, str) and _string_choices(self) and read_from_json_body(self):
            raise serializers.ValidationError([EXPECTED[_is_text]], code="invalid")
        return value

    to_internal_value.strict_json = True
    return to_internal_value


def install() -> None:
    for cls, accepts in FIELDS:
        original = cls.__dict__.get("to_internal_value")
        if original is not None and not getattr(original, "strict_json", False):
            cls.to_internal_value = _strict(original, accepts)
    original = serializers.ChoiceField.__dict__["to_internal_value"]
    if not getattr(original, "strict_json", False):
        serializers.ChoiceField.to_internal_value = _strict_choice(original)
