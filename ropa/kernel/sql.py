"""Plain SQL where the ORM would build a model instance per row: evidence appended in bulk."""

import datetime as dt

from django.db import connection


def insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Append evidence rows in one statement (COPY on PostgreSQL): thousands per batch, no model instances.
    Values must already be what the columns hold (ids, text, aware datetimes)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's copy() is not behind Django's error translation: without it a lost connection
            # would escape as psycopg's own error, past every ``except DatabaseError``.
            with connection.wrap_database_errors, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            rows = [tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows]
            placeholders = ", ".join(["%s"] * len(columns))
            # Table and column names come from the model, quoted; the values are parameters.
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)  # noqa: S608
