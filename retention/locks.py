"""The PostgreSQL advisory locks that order retention's writers ("ROPA" + n as keys).

Holds (``HOLD_LOCK_KEY``): a sweep batch, an erasure request and a record write take it shared; placing a
hold takes it exclusive, so no record a new hold covers is erased or moved under it. The tombstone chain
(``CHAIN_LOCK_KEY``): whoever appends evidence takes it exclusive, so the chain has one order."""

from django.db import connection

HOLD_LOCK_KEY = 0x524F5041_0001
CHAIN_LOCK_KEY = 0x524F5041_0002


def advisory_xact_lock(key: int, *, shared: bool = False) -> None:
    """Transaction-scoped lock on PostgreSQL; SQLite serialises writers by itself."""
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [key])
