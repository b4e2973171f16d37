"""Problems a write can meet, the same for every surface that makes the write.

``Conflict`` is a write refused because of the state of what it would change (a legal hold in force, a
restriction of processing), not because the input is malformed: the API answers it as a 409 whose JSON
body is ``body()`` (always with a ``detail``); it is a ``ValidationError`` too, so that a form or a caller
that handles refused input handles it without knowing it, and its message names the field concerned.
A conflict's text and facts carry ids and field names only: never a personal data value, never a hold's
reason.
"""

from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class Conflict(ValidationError):
    """A write refused by the state it meets: ``detail`` says why, ``fields`` names what it would have
    changed, ``facts`` complete the 409 body (ids and codes)."""

    def __init__(self, detail: str, *, fields: Iterable[str] = (), **facts):
        self.detail, self.fields, self.facts = detail, list(fields), facts
        super().__init__({name: [detail] for name in self.fields} or {NON_FIELD_ERRORS: [detail]})

    def body(self) -> dict:
        body = {"detail": self.detail, **self.facts}
        if self.fields:
            body["fields"] = self.fields
        return body
