"""The audit trail as CSV for auditors: the admin action and ``manage.py export_audit`` write the same columns."""

import csv
import json

COLUMNS = (
    "at",
    "actor",
    "actor_user_id",
    "actor_token",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changed_fields",
    "changes",
)


def _cell(value) -> str:
    text = str(value)
    # A spreadsheet would run a cell starting with one of these as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(events, out) -> int:
    """Write ``events`` (a queryset) to the text stream ``out``; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for event in events.order_by("at", "id").iterator(chunk_size=2000):
        writer.writerow(
            [
                event.at.isoformat(),
                _cell(event.actor),
                event.actor_user_id or "",
                event.actor_token,
                event.action,
                event.object_type,
                _cell(event.object_id),
                _cell(event.object_repr),
                " ".join(event.changed_fields),
                _cell(json.dumps(event.changes, ensure_ascii=False, sort_keys=True)) if event.changes else "",
            ]
        )
        count += 1
    return count
