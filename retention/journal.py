"""The erasure journal: the tombstone chain, copied to a file kept apart from the database backups.

Why: restoring a database backup brings back every record erased after that backup was taken. The journal
remembers those erasures, so that ``erasures_reapply`` (``manage.py retention_reapply_erasures``) erases them
again before the app serves anything, and puts their tombstones and runs back, so the chain goes on where it
stood. docs/operations.md gives the procedure.

What it holds: JSON lines without personal data — a header, then runs and tombstones exactly as they are in
the database (a run is written again when later tombstones of it follow; its last line counts). A
tombstone's ``record_ref`` (a keyed hash of the source system and its id) recognises its record.

Guarantees
- Append-only, one writer at a time (a file lock); a line cut short by a crash is dropped on the next append.
- Never appended to while it is ahead of the database (a restore not yet re-applied): that would fork the
  chain. While it is ahead, sweeps refuse to start and ``/healthz`` answers 503 (``restore_pending``).
- Re-applying is one transaction, idempotent, honours legal holds in force, and never erases a record whose
  reference does not match its tombstone (such records are counted and named by id).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Max
from django.utils.dateparse import parse_datetime

from . import engine
from .models import RetentionRun, Tombstone

logger = logging.getLogger(__name__)

FORMAT = "ropa-erasure-journal/1"
TOMBSTONE_FIELDS = (*engine.TOMBSTONE_HASHED_FIELDS, "previous_hash", "hash", "record_ref")
_TAIL_BYTES = 64 * 1024


class JournalError(Exception):
    """The journal cannot be read, written or applied; the message says why and what to do."""


class RestorePending(JournalError):
    """The journal is ahead of the database: it was restored from a backup and the erasures made since have
    not been re-applied yet."""


def journal_path() -> Path | None:
    return Path(settings.ROPA_ERASURE_JOURNAL) if settings.ROPA_ERASURE_JOURNAL else None


# --- lines -------------------------------------------------------------------------------------------


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _line(kind: str, row: dict) -> bytes:
    return (json.dumps({"kind": kind, **row}, default=_json_default, separators=(",", ":")) + "\n").encode()


_RUN_DATETIMES = {f.attname for f in RetentionRun._meta.concrete_fields if isinstance(f, models.DateTimeField)}


def _parsed(line: dict) -> dict:
    """A journal line as model field values (datetimes parsed), without its ``kind``."""
    row = {key: value for key, value in line.items() if key != "kind"}
    names = {"erased_at"} if line["kind"] == "tombstone" else _RUN_DATETIMES
    for name in names:
        if row.get(name):
            row[name] = parse_datetime(row[name])
    return row


def _lines(data: bytes) -> Iterator[dict]:
    """Complete lines only: a last line without its newline was cut short and does not count."""
    *complete, _partial = data.split(b"\n")
    for raw in complete:
        if raw.strip():
            yield json.loads(raw)


def _last_tombstone(handle) -> dict | None:
    """The last tombstone line of an open (binary) journal, reading only its tail when that suffices."""
    size = handle.seek(0, os.SEEK_END)
    start = max(0, size - _TAIL_BYTES)
    while True:
        handle.seek(start)
        data = handle.read()
        if start:  # the first line of a tail may be cut at the front
            data = data[data.find(b"\n") + 1 :]
        for line in reversed(list(_lines(data))):
            if line.get("kind") == "tombstone":
                return line
        if start == 0:
            return None
        start = 0


def journal_read(path: Path) -> tuple[dict[int, dict], list[dict]]:
    """Runs by id (their last line) and tombstones in order, as field values; the chain must verify."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise JournalError(f"cannot read the erasure journal {path}: {error.strerror}") from error
    runs, tombstones = {}, []
    try:
        for number, line in enumerate(_lines(data), start=1):
            kind = line.get("kind")
            if number == 1 and (kind != "header" or line.get("format") != FORMAT):
                raise JournalError(f"{path} is not an erasure journal ({FORMAT})")
            if kind == "run":
                run = _parsed(line)
                runs[run["id"]] = run
            elif kind == "tombstone":
                tombstones.append(_parsed(line))
    except (ValueError, KeyError, TypeError) as error:
        raise JournalError(f"{path}: unreadable line ({error})") from error
    problems = list(engine.chain_problems(tombstones))
    if problems:
        raise JournalError(f"the erasure journal {path} does not verify: " + "; ".join(problems[:5]))
    missing = {t["run_id"] for t in tombstones} - set(runs)
    if missing:
        raise JournalError(f"the erasure journal {path} lacks run(s) {sorted(missing)[:10]}")
    return runs, tombstones


# --- comparing with the database ---------------------------------------------------------------------


def chain_head() -> int:
    return Tombstone.objects.aggregate(head=Max("sequence"))["head"] or 0


def disagreement(head: dict | None) -> str | None:
    """Why the database does not (yet) hold the chain up to the journal's last tombstone ``head``."""
    if head is None:
        return None
    stored = Tombstone.objects.filter(sequence=head["sequence"]).values_list("hash", flat=True).first()
    if stored is None:
        return (
            f"the erasure journal ends at tombstone #{head['sequence']} but the database at #{chain_head()}: "
            "the database was restored from a backup; run `manage.py retention_reapply_erasures` before serving"
        )
    if stored != head["hash"]:
        return (
            f"tombstone #{head['sequence']} differs between the erasure journal and the database: "
            "the journal belongs to another database (check ROPA_ERASURE_JOURNAL)"
        )
    return None


def restore_pending(path: Path | None = None) -> str | None:
    """A problem, when the journal holds erasures the database lacks (a restore not yet re-applied); else None."""
    path = path or journal_path()
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            head = _last_tombstone(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        return f"cannot read the erasure journal {path}: {error}"
    return disagreement(head)


# --- appending ---------------------------------------------------------------------------------------


def journal_export(*, path: Path | None = None, also_runs: Iterable[int] = (), chunk: int = 5000) -> int:
    """Append the tombstones the journal lacks (and their runs, and ``also_runs`` as they stand now).
    Returns the number of tombstones appended. Refuses while the journal is ahead of the database."""
    path = path or journal_path()
    if path is None:
        raise JournalError("no erasure journal is configured (ROPA_ERASURE_JOURNAL)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        size = handle.seek(0, os.SEEK_END)
        data_end = size
        if size:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":  # a line cut short by a crash: drop it
                handle.seek(0)
                data_end = handle.read().rfind(b"\n") + 1
                handle.truncate(data_end)
        if data_end == 0:
            handle.write(_line("header", {"format": FORMAT}))
            handle.flush()
        head = _last_tombstone(handle)
        problem = disagreement(head)
        if problem:
            raise RestorePending(problem)
        last, written, runs_written = (head["sequence"] if head else 0), 0, set()
        pending_runs = set(also_runs)
        handle.seek(0, os.SEEK_END)
        while True:
            rows = list(
                Tombstone.objects.filter(sequence__gt=last).order_by("sequence").values(*TOMBSTONE_FIELDS)[:chunk]
            )
            run_ids = {row["run_id"] for row in rows} - runs_written
            if not rows:
                run_ids = pending_runs - runs_written
            for run in RetentionRun.objects.filter(pk__in=run_ids).order_by("pk").values():
                handle.write(_line("run", run))
                runs_written.add(run["id"])
            for row in rows:
                handle.write(_line("tombstone", row))
            if not rows:
                break
            written += len(rows)
            last = rows[-1]["sequence"]
        handle.flush()
        os.fsync(handle.fileno())
    return written


def journal_export_after_run(*, run: RetentionRun) -> None:
    """After a sweep that erased something: append it. A failure is logged, not raised — the erasures stand,
    and the next export catches up."""
    if journal_path() is None:
        return
    try:
        appended = journal_export(also_runs=[run.pk])
        logger.info("erasure journal: %s tombstone(s) appended after run %s", appended, run.pk)
    except (OSError, JournalError):
        logger.exception("erasure journal: could not append after run %s", run.pk)


# --- re-applying after a restore ---------------------------------------------------------------------
