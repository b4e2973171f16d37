"""Reads for the API: a page of activities with everything nested, as plain dicts.

Every child of every activity on the page (purposes, the three vocabularies, recipients, source quotes,
and what other apps add: retention rules) is read in ONE ``UNION ALL`` query of plain columns, never as
model instances. A page of 50 nested activities costs the same few queries as a page of 5, and little
Python.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection
from django.db.models import BooleanField, IntegerField, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from processing import rules
from processing.choices import ActivityStatus
from processing.models import ProcessingActivity, Purpose, Source, review_cycle


def moment(value, zone=None) -> str | None:
    """A datetime as DRF's DateTimeField writes it (ISO 8601, the register's time zone), without its
    per-call machinery; a caller writing many passes ``zone`` (``timezone.get_current_timezone()``)."""
    if value is None:
        return None
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


TEXTS, NUMBERS, FLAGS = 8, 4, 2


@dataclass(frozen=True)
class ChildKind:
    """One kind of child in the union: a queryset filtered on the page, the columns it fills (text,
    numbers, flags, in that order of slots) and how a row becomes part of the document."""

    name: str
    queryset: object  # a function of the activity ids
    activity: str
    texts: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


def _slots(kind: ChildKind, index: int):
    def filled(fields, size, output_field):
        columns = [Cast(f, output_field=output_field()) for f in fields]
        return columns + [Cast(Value(None), output_field=output_field()) for _ in range(size - len(fields))]

    return [
        Value(index, output_field=IntegerField()),
        Cast(kind.activity, output_field=IntegerField()),
        *filled(kind.texts, TEXTS, TextField),
        *filled(kind.numbers, NUMBERS, IntegerField),
        *filled(kind.flags, FLAGS, BooleanField),
    ]


def _vocabulary(field: str, model: str) -> ChildKind:
    through = getattr(ProcessingActivity, field).through
    return ChildKind(
        name=field,
        queryset=lambda ids: through.objects.filter(processingactivity_id__in=ids),
        activity="processingactivity_id",
        texts=(f"{model}__code", f"{model}__name"),
    )


PURPOSE_TEXTS = ("description", "description_en", "description_fr", "legal_basis", "legitimate_interest")

REGISTER_CHILDREN = (
    ChildKind(
        name="purposes",
        queryset=lambda ids: Purpose.objects.filter(activity_id__in=ids),
        activity="activity_id",
        texts=PURPOSE_TEXTS,
        numbers=("position", "id"),
    ),
    _vocabulary("data_subject_categories", "datasubjectcategory"),
    _vocabulary("data_categories", "datacategory"),
    _vocabulary("security_measures", "securitymeasure"),
    ChildKind(
        name="recipients",
        queryset=lambda ids: ProcessingActivity.recipients.through.objects.filter(processingactivity_id__in=ids),
        activity="processingactivity_id",
        texts=(
            "recipient__key",
            "recipient__name",
            "recipient__country",
            "recipient__safeguard",
            "recipient__safeguard_note",
        ),
        numbers=("recipient_id",),
        flags=("recipient__inside_eea",),
    ),
    ChildKind(
        name="sources",
        queryset=lambda ids: Source.objects.filter(activity_id__in=ids),
        activity="activity_id",
        texts=("statement", "quote"),
        numbers=("position", "id"),
    ),
)


def children_by_activity(kinds: tuple[ChildKind, ...], ids: list[int]) -> dict[str, dict[int, list[tuple]]]:
    """``{kind name: {activity id: [(texts..., numbers..., flags...), ...]}}`` in one query."""
    sql, params, id_slots = _union_sql(kinds, len(ids), connection.vendor)
    params = list(params)
    for position, index in id_slots:
        params[position] = ids[index]
    found: dict[str, dict[int, list[tuple]]] = {kind.name: defaultdict(list) for kind in kinds}
    with _union_cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            found[kinds[row[0]].name][row[1]].append(row[2:])
    return found


def _union_cursor():
    """On PostgreSQL, a cursor that sends the union with native ``$n`` parameters: psycopg neither parses
    its text again on every page (it is too long for psycopg's statement cache) nor PostgreSQL plans it
    again (after a few pages psycopg prepares it). Elsewhere, the usual cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    raw = psycopg.RawCursor(connection.connection)
    # Django's wrapper, so the query is logged and counted like every other.
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


_PLACEHOLDER_BASE = -(10**15)


@lru_cache(maxsize=32)
def _union_sql(kinds: tuple[ChildKind, ...], count: int, vendor: str) -> tuple[str, tuple, tuple]:
    """The union compiled once per page size: building and compiling seven annotated querysets costs
    more than running them. It is compiled for stand-in ids, whose parameter slots are then filled with
    the page's ids (values only: the SQL text never changes)."""
    stand_ins = [_PLACEHOLDER_BASE - n for n in range(count)]
    parts = []
    for index, kind in enumerate(kinds):
        columns = _slots(kind, index)
        names = [f"c{n}" for n in range(len(columns))]
        queryset = kind.queryset(stand_ins).order_by().annotate(**dict(zip(names, columns, strict=True)))
        parts.append(queryset.values_list(*names))
    sql, params = parts[0].union(*parts[1:], all=True).query.sql_with_params()
    if vendor == "postgresql":
        sql = _native_placeholders(sql)
    position_of = {value: n for n, value in enumerate(stand_ins)}
    id_slots = tuple(
        (position, position_of[value])
        for position, value in enumerate(params)
        if isinstance(value, int) and value in position_of
    )
    if len(id_slots) != count * len(kinds):  # pragma: no cover - a filter that does not take the ids as given
        raise RuntimeError("every child kind must filter on the page's ids once")
    return sql, tuple(params), id_slots


def _native_placeholders(sql: str) -> str:
    """``%s`` as ``$1``, ``$2``, ... (and ``%%`` as ``%``), the form psycopg's raw cursor sends as is."""
    numbers = iter(range(1, sql.count("%s") + 2))
    return re.sub(r"%%|%s", lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)


def _flag(value) -> bool | None:
    # Read with a plain cursor: SQLite gives 0 and 1.
    return None if value is None else bool(value)


def _iso(value):
    return value.isoformat() if value else None


def _texts(row):
    return row[:TEXTS]


def _numbers(row):
    return row[TEXTS : TEXTS + NUMBERS]


# The activity's own columns a document needs, read with ``values()`` for a page (no model instances).
ACTIVITY_ROW = (
    "id",
    "controller__key",
    "reference",
    "name",
    "name_en",
    "name_fr",
    "description",
    "description_en",
    "description_fr",
    "role",
    "client",
    "business_process",
    "owner",
    "art9_condition",
    "data_source",
    "automated_decision_making",
    "profiling",
    "dpia_required",
    "dpia_done_on",
    "minimum_age",
    "status",
    "ended_on",
    "replaced_by_id",
    "last_reviewed_on",
    "review_cycle_months",
    "review_needed_reason",
    "review_needed_since",
    "created_at",
    "updated_at",
)


def activity_row(activity: ProcessingActivity) -> dict:
    """An activity instance (with ``controller`` selected) as the row ``values(*ACTIVITY_ROW)`` gives."""
    row = {field: getattr(activity, field) for field in ACTIVITY_ROW if field != "controller__key"}
    row["controller__key"] = activity.controller.key
    return row


def _review_status(activity: dict, today) -> str | None:
    """``rules.review_freshness`` of an active activity's row; None for an ended one (no longer reviewed)."""
    if activity["status"] != ActivityStatus.ACTIVE:
        return None
    return rules.review_freshness(
        last_reviewed_on=activity["last_reviewed_on"],
        cycle_months=review_cycle(activity["review_cycle_months"]),
        needed_since=activity["review_needed_since"],
        today=today,
    )


def activity_documents(activities: list[dict], extra_kinds: tuple[ChildKind, ...] = ()):
    """The API's representation of ``activities`` (rows of ``ACTIVITY_ROW``), in their order, and the rows
    of ``extra_kinds`` for the caller to add."""
    ids = [activity["id"] for activity in activities]
    if not ids:
        return [], {}
    children = children_by_activity((*REGISTER_CHILDREN, *extra_kinds), ids)

    def ordered(name, pk, key):
        return sorted(children[name][pk], key=key)

    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    documents = []
    for activity in activities:
        pk = activity["id"]
        recipients = ordered("recipients", pk, lambda r: (r[1] or "", _numbers(r)[0]))
        documents.append(
            {
                "id": pk,
                "controller": activity["controller__key"],
                "reference": activity["reference"],
                "name": activity["name"],
                "name_en": activity["name_en"],
                "name_fr": activity["name_fr"],
                "description": activity["description"],
                "description_en": activity["description_en"],
                "description_fr": activity["description_fr"],
                "role": activity["role"],
                "client": activity["client"],
                "business_process": activity["business_process"],
                "owner": activity["owner"],
                "purposes": [
                    {"id": _numbers(row)[1], **dict(zip(PURPOSE_TEXTS, _texts(row)[:5], strict=True))}
                    for row in ordered("purposes", pk, lambda r: tuple(_numbers(r)[:2]))
                ],
                "data_subject_categories": [r[0] for r in ordered("data_subject_categories", pk, lambda r: r[1])],
                "data_categories": [r[0] for r in ordered("data_categories", pk, lambda r: r[1])],
                "art9_condition": activity["art9_condition"],
                "recipients": [r[0] for r in recipients],
                "transfers": [
                    {
                        "recipient": r[0],
                        "name": r[1],
                        "country": r[2] or None,
                        "safeguard": r[3] or None,
                        "safeguard_note": r[4],
                    }
                    for r in recipients
                    if _flag(r[TEXTS + NUMBERS]) is False
                ],
                "security_measures": [r[0] for r in ordered("security_measures", pk, lambda r: r[1])],
                "data_source": activity["data_source"],
                "automated_decision_making": activity["automated_decision_making"],
                "profiling": activity["profiling"],
                "dpia_required": activity["dpia_required"],
                "dpia_done_on": _iso(activity["dpia_done_on"]),
                "minimum_age": activity["minimum_age"],
                "status": activity["status"],
                "ended_on": _iso(activity["ended_on"]),
                "replaced_by": activity["replaced_by_id"],
                "last_reviewed_on": _iso(activity["last_reviewed_on"]),
                "review_cycle_months": activity["review_cycle_months"],
                "review_status": _review_status(activity, today),
                "review_needed_reason": activity["review_needed_reason"],
                "sources": [
                    {"statement": r[0], "quote": r[1]} for r in ordered("sources", pk, lambda r: tuple(_numbers(r)[:2]))
                ],
                "created_at": moment(activity["created_at"], zone),
                "updated_at": moment(activity["updated_at"], zone),
            }
        )
    return documents, children
