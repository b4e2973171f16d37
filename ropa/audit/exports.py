"""The audit trail as CSV for auditors: the admin action and ``manage.py export_audit`` write the same columns."""

import json

from ropa.kernel.csv import csv_writer

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


def write_csv(events, out) -> int:
    """Write ``events`` (a queryset) to the text stream ``out``; returns the number of rows. Every cell is
    defused against spreadsheet formulas (``ropa.kernel.csv``)."""
    writer = csv_writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for event in events.order_by("at", "id").iterator(chunk_size=2000):
        writer.writerow(
            [
                event.at.isoformat(),
                event.actor,
                event.actor_user_id or "",
                event.actor_token,
                event.action,
                event.object_type,
                event.object_id,
                event.object_repr,
                " ".join(event.changed_fields),
                json.dumps(event.changes, ensure_ascii=False, sort_keys=True) if event.changes else "",
            ]
        )
        count += 1
    return count
