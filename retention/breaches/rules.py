"""Pure rules of the breach register: which status may follow which, the clock of Art. 33, and what an
assessment concludes. No ORM, no clock: moments are passed in, and every answer is a problem text or
None, so the admin, the API and the services say the same thing.

The clock:
- the authority is notified "without undue delay and, where feasible, not later than 72 hours after
  having become aware" (Art. 33(1)): ``notification_due_at`` is ``aware_at`` plus that many hours of
  elapsed time (a summer-time change in between moves the wall clock, not the deadline);
- a notification may come in phases (Art. 33(4)); the Belgian authority asks for Part 2 within 21 days
  of Part 1: ``complement_due_at`` is that many calendar days later, at the same time of day on the
  register's clock;
- an initial notification after its deadline needs the reasons for the delay (Art. 33(1), last sentence).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .choices import BreachStatus, RiskLevel

S = BreachStatus

# status -> the statuses it may move to. Reopening (closed -> assessed) needs a reason.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.RECEIVED: (S.ASSESSED,),
    S.ASSESSED: (S.NOTIFIED, S.NOT_NOTIFIABLE),
    S.NOTIFIED: (S.SUBJECTS_INFORMED, S.SUBJECTS_WAIVED, S.CLOSED),
    S.NOT_NOTIFIABLE: (S.CLOSED, S.ASSESSED),
    S.SUBJECTS_INFORMED: (S.CLOSED,),
    S.SUBJECTS_WAIVED: (S.CLOSED,),
    S.CLOSED: (S.ASSESSED,),
}

LIKELIHOOD = SEVERITY = range(1, 5)  # 1 low, 2 medium, 3 high, 4 very high


def risk_level(*, likelihood: int, severity: int) -> str:
    """Likelihood times severity (each 1-4): up to 3 no risk, up to 8 a risk, 9 and more a high risk; a very
    high severity (4) is never "no risk"."""
    if likelihood not in LIKELIHOOD or severity not in SEVERITY:
        raise ValueError("likelihood and severity are 1 to 4")
    score = likelihood * severity
    if score >= 9:
        return RiskLevel.HIGH
    if score >= 4 or severity == 4:
        return RiskLevel.RISK
    return RiskLevel.NONE


def notification_due_at(aware_at: dt.datetime, *, hours: int) -> dt.datetime:
    """The last moment to notify the authority: ``hours`` of elapsed time after becoming aware."""
    if aware_at.tzinfo is None:
        raise ValueError("aware_at must be an aware datetime")
    return aware_at.astimezone(dt.UTC) + dt.timedelta(hours=hours)


def complement_due_at(initial_filed_at: dt.datetime, *, days: int, tz: str) -> dt.datetime:
    """The last moment for the complementary notification: ``days`` calendar days after the initial one,
    at the same time of day in ``tz``."""
    local = initial_filed_at.astimezone(ZoneInfo(tz))
    later = (local.replace(tzinfo=None) + dt.timedelta(days=days)).replace(tzinfo=ZoneInfo(tz))
    return later.astimezone(dt.UTC)


def transition_problem(
    *, status: str, to: str, level: str | None, reason: str = "", filed: bool = False, subjects_settled: bool = False
) -> str | None:
    """Why a breach in ``status`` may not move to ``to`` (None: it may). ``level``: the latest assessment's
    conclusion (None: not assessed); ``filed``: an initial notification is on record; ``subjects_settled``:
    the people were told, or a ground of Art. 34(3) was recorded."""
    if to not in TRANSITIONS.get(status, ()):
        return f"A breach that is {status} cannot become {to}."
    if to == S.ASSESSED and status in (S.CLOSED, S.NOT_NOTIFIABLE) and not reason.strip():
        return "Say why the breach is reopened."
    if to == S.ASSESSED and level is None:
        return "Assess the risk first."
    if to == S.NOTIFIED and not filed:
        return "Record the initial notification to the authority first."
    if to == S.NOT_NOTIFIABLE and level != RiskLevel.NONE:
        return "The latest assessment finds a risk: the authority must be notified (Art. 33(1))."
    if to == S.CLOSED and status == S.NOTIFIED and level == RiskLevel.HIGH and not subjects_settled:
        return "The risk is high: tell the people concerned, or record why not (Art. 34(3)), before closing."
    return None


def late_filing_problem(*, filed_at: dt.datetime, due_at: dt.datetime, late_reason: str) -> str | None:
    """An initial notification after its deadline without the reasons for the delay (Art. 33(1))."""
    if filed_at > due_at and not late_reason.strip():
        hours = int((filed_at - due_at).total_seconds() // 3600)
        return f"Filed {hours} hour(s) after the deadline: give the reasons for the delay (Art. 33(1))."
    return None


def time_left(due_at: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """Time to a deadline; negative once it has passed."""
    return due_at - now
