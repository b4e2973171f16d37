"""Pure rules of data-subject requests: deadlines (Art. 12(3) GDPR) and what may happen to a request in
which status. No ORM, no clock: ``today`` is always passed in.

The deadline is one month from receipt, anchored on the day of receipt (31 January + 1 month =
28 February, or 29 in a leap year), extended by at most two further months when the request is complex
or numerous, and moved by the days the clock stood still while the requester's identity was being
verified (Art. 12(6)): those days are added after the months.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil.relativedelta import relativedelta

from .choices import IDENTITY_GATED_TYPES, OPEN_REQUEST_STATUSES, RequestStatus

BASE_MONTHS = 1
MAX_EXTENSION_MONTHS = 2

# A rectified field is named, never valued: a short identifier ("email", "address.street").
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")


def request_due_on(*, received_on: dt.date, extension_months: int = 0, paused_days: int = 0) -> dt.date:
    """The last day to answer a request received on ``received_on``."""
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 0 to {MAX_EXTENSION_MONTHS} months, not {extension_months}")
    if paused_days < 0:
        raise ValueError("paused days cannot be negative")
    return received_on + relativedelta(months=BASE_MONTHS + extension_months) + dt.timedelta(days=paused_days)


def paused_days_between(*, paused_on: dt.date, resumed_on: dt.date) -> int:
    """Days the clock stood still: from the day proof of identity was asked for to the day it was verified."""
    return max(0, (resumed_on - paused_on).days)


def days_left(*, due_on: dt.date, today: dt.date) -> int:
    """Days until the deadline: 0 on the last day, negative once it has passed."""
    return (due_on - today).days


def is_open(status: str) -> bool:
    return status in OPEN_REQUEST_STATUSES


def extension_problems(*, status: str, extension_months: int, months, reason: str, due_on, today) -> dict:
    """What stops extending a request by ``months`` (field -> message); empty when it may be extended."""
    problems = {}
    if not is_open(status):
        problems["status"] = f"The request is closed ({status}); it cannot be extended."
        return problems
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        problems["months"] = "Give a whole number of months, 1 or 2."
    elif extension_months + months > MAX_EXTENSION_MONTHS:
        problems["months"] = (
            f"The deadline may be extended by {MAX_EXTENSION_MONTHS} months in all (Art. 12(3)); "
            f"{extension_months} already used."
        )
    if not (reason or "").strip():
        problems["reason"] = "Say why the request needs more time (complexity, number of requests)."
    if status != RequestStatus.AWAITING_IDENTITY and due_on is not None and due_on < today:
        problems["months"] = "The deadline has passed; an extension must be decided within it."
    return problems


def rectified_field_problems(fields) -> list[str]:
    """Rectified fields are named by field name only (never a value): short identifiers, no repeats."""
    if not isinstance(fields, list | tuple) or not fields:
        return ["Name the fields that were rectified (field names only, no values)."]
    problems = []
    for name in fields:
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            problems.append("A field name is a short identifier such as “email” or “address.street”.")
            break
    if len(set(fields)) != len(fields) and not problems:
        problems.append("A field is named twice.")
    return problems


def identity_problem(*, type: str, identity_verified_at, identity_overridden_at) -> str | None:
    """Why a request of ``type`` may not be completed (nor its package handed over) yet: an erasure, an
    access or a portability request destroys or discloses the person's data, so it waits for the
    requester's identity to be verified (Art. 12(6)) unless the DPO overrode the check with a reason."""
    if type in IDENTITY_GATED_TYPES and identity_verified_at is None and identity_overridden_at is None:
        return (
            "The requester's identity has not been verified: verify it first, or complete the request "
            "with a reason for going ahead without it."
        )
    return None
