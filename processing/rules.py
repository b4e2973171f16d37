"""Pure lawfulness rules for register entries.

Each function judges plain values and returns the problems it finds, each naming the field it is
about. No ORM, no clock: the admin, the API, the importer and the services all call these, so a rule
is stated once and holds on every path.
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import (
    EEA_COUNTRIES,
    REVIEW_DUE_DAYS,
    ActivityRole,
    ActivityStatus,
    LegalBasis,
    RecipientKind,
    ReviewStatus,
)


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def purpose_problems(*, legal_basis: str, legitimate_interest: str | None) -> list[Problem]:
    """Art. 6(1)(f): relying on legitimate interests means stating the interest (Art. 13(1)(d))."""
    problems = []
    if legal_basis not in LegalBasis.values:
        problems.append(Problem("legal_basis", _("Unknown legal basis “%s”.") % legal_basis))
    if legal_basis == LegalBasis.LEGITIMATE_INTERESTS and not (legitimate_interest or "").strip():
        problems.append(Problem("legitimate_interest", _("State the legitimate interest pursued (Art. 6(1)(f) GDPR).")))
    return problems


def inside_eea(country: str | None, stated: bool | None) -> bool | None:
    """Whether a recipient is inside the EEA: read from its country when known, else as stated (or unknown)."""
    return country in EEA_COUNTRIES if country else stated


def recipient_problems(*, country: str | None, inside_eea: bool | None, safeguard: str | None) -> list[Problem]:
    """Chapter V: a transfer outside the EEA needs a safeguard; the EEA flag must match the country."""
    problems = []
    if country and inside_eea is not None and inside_eea != (country in EEA_COUNTRIES):
        problems.append(
            Problem(
                "inside_eea",
                _("%(country)s is %(where)s the EEA.")
                % {"country": country, "where": _("inside") if country in EEA_COUNTRIES else _("outside")},
            )
        )
    if inside_eea is False and not safeguard:
        problems.append(
            Problem(
                "safeguard",
                _(
                    "A transfer outside the EEA needs a safeguard: adequacy decision, standard contractual "
                    "clauses, binding corporate rules or an Art. 49 derogation."
                ),
            )
        )
    if inside_eea and safeguard:
        problems.append(Problem("safeguard", _("A recipient inside the EEA needs no transfer safeguard.")))
    return problems


def activity_problems(
    *,
    status: str,
    ended_on: dt.date | None,
    role: str,
    client: str | None,
    art9_condition: str | None,
    special_categories: Iterable[str] = (),
    activity_id: int | None = None,
    replaced_by_id: int | None = None,
    controller_id: int | None = None,
    successor_controller_id: int | None = None,
) -> list[Problem]:
    """Art. 30 consistency of one processing activity.

    ``special_categories`` names the Art. 9 data categories the activity processes; they need an
    Art. 9(2) condition.
    """
    problems = []
    special = sorted(special_categories)
    if special and not art9_condition:
        problems.append(
            Problem(
                "art9_condition",
                _("Special-category data (%s) needs an Art. 9(2) condition.") % ", ".join(special),
            )
        )
    if status == ActivityStatus.ENDED and not ended_on:
        problems.append(Problem("ended_on", _("An ended activity needs its end date.")))
    if status == ActivityStatus.ACTIVE and ended_on:
        problems.append(Problem("ended_on", _("An active activity has no end date; set the status to ended.")))
    if replaced_by_id is not None and status != ActivityStatus.ENDED:
        problems.append(Problem("replaced_by", _("Only an ended activity can be replaced by another.")))
    if replaced_by_id is not None and replaced_by_id == activity_id:
        problems.append(Problem("replaced_by", _("An activity cannot replace itself.")))
    if None not in (controller_id, successor_controller_id) and successor_controller_id != controller_id:
        # One controller's register never points into another's.
        problems.append(Problem("replaced_by", _("The successor must be an activity of the same controller.")))
    if role == ActivityRole.PROCESSOR and not (client or "").strip():
        problems.append(
            Problem("client", _("Name the client controller on whose behalf the data is processed (Art. 30(2)(a)).")),
        )
    return problems


_BE_ENTERPRISE = re.compile(r"^BE ?([01]\d{3})\.?(\d{3})\.?(\d{3})$")


def enterprise_number_problems(number: str | None) -> list[Problem]:
    """A Belgian KBO/BCE number (``BE0653.989.638``) carries a modulo-97 check on its last two digits."""
    if not number or not number.upper().startswith("BE"):
        return []
    match = _BE_ENTERPRISE.match(number.upper())
    if not match:
        return [Problem("enterprise_number", _("A Belgian enterprise number reads BE0123.456.789."))]
    digits = "".join(match.groups())
    if 97 - int(digits[:8]) % 97 != int(digits[8:]):
        return [Problem("enterprise_number", _("%s fails the KBO/BCE check digits.") % number)]
    return []


def controller_problems(
    *, enterprise_number: str | None, dpo: Iterable[str | None], dpo_not_required: str | None
) -> list[Problem]:
    """A controller's identification (Art. 30(1)(a)): its enterprise number, and either a DPO (name or
    contact details) or the reason none is designated, not both."""
    problems = enterprise_number_problems(enterprise_number)
    if any((value or "").strip() for value in dpo) and (dpo_not_required or "").strip():
        problems.append(
            Problem("dpo_not_required", _("A DPO is named: leave empty why none is designated, or remove the DPO."))
        )
    return problems


def review_due_on(*, last_reviewed_on: dt.date | None, cycle_months: int) -> dt.date | None:
    """When the next review falls due: the last one plus the cycle, in calendar months (Jan 31 + 1 month is
    the last day of February). None when the activity was never reviewed."""
    return last_reviewed_on + relativedelta(months=cycle_months) if last_reviewed_on else None


def review_freshness(
    *,
    last_reviewed_on: dt.date | None,
    cycle_months: int,
    needed_since: dt.date | None,
    today: dt.date,
    due_days: int = REVIEW_DUE_DAYS,
) -> str:
    """A ``ReviewStatus``: "needed" when a change that matters asked for a review; else "overdue" when never
    reviewed or the cycle ran out before today; "due" when it runs out within ``due_days``; else "current"."""
    if needed_since is not None:
        return ReviewStatus.NEEDED
    due_on = review_due_on(last_reviewed_on=last_reviewed_on, cycle_months=cycle_months)
    if due_on is None or due_on < today:
        return ReviewStatus.OVERDUE
    if due_on <= today + dt.timedelta(days=due_days):
        return ReviewStatus.DUE
    return ReviewStatus.CURRENT


# What a change that matters may also require, each with the article it comes from.
def _notice() -> str:
    return _("an updated privacy notice (Art. 13, 14)")


def _dpia() -> str:
    return _("a new DPIA screening (Art. 35)")


def _agreement() -> str:
    return _("a processor agreement (Art. 28(3))")


def _safeguard() -> str:
    return _("a transfer safeguard (Chapter V)")


def _reason(change: str, needs: list[str]) -> str:
    return _("%(change)s May also require: %(needs)s.") % {"change": change, "needs": "; ".join(needs)}


def _basis_label(value: str) -> str:
    return str(LegalBasis(value).label) if value in LegalBasis.values else value


PROCESSOR_KINDS = frozenset({RecipientKind.PROCESSOR, RecipientKind.SUB_PROCESSOR})


def activity_review_triggers(before: dict | None, after: dict) -> list[str]:
    """The changes between two states of an activity (``processing.services.activity_review_state``) that
    call for a review, each as a sentence naming what it may also require. No state before (a new activity,
    a first load) is no change: a new entry is unreviewed anyway.

    A state holds ``recipients_outside_eea`` ({id: (name, kind)}), ``special_categories`` and
    ``criminal_categories`` ({code: name}) and ``purposes`` ({id: (description, legal basis)})."""
    if before is None:
        return []
    reasons = []
    outside, outside_before = after["recipients_outside_eea"], before["recipients_outside_eea"]
    recipients = [outside[pk] for pk in sorted(outside.keys() - outside_before.keys())]
    if recipients:
        needs = [_safeguard()]
        if any(kind in PROCESSOR_KINDS for _name, kind in recipients):
            needs.append(_agreement())
        needs.append(_notice())
        names = ", ".join(name for name, _kind in recipients)
        reasons.append(_reason(_("New recipient outside the EEA: %s.") % names, needs))
    for key, change in (
        ("special_categories", _("New special-category data (Art. 9): %s.")),
        ("criminal_categories", _("New criminal-offence data (Art. 10): %s.")),
    ):
        added = sorted(after[key].keys() - before[key].keys())
        if added:
            reasons.append(_reason(change % ", ".join(after[key][code] for code in added), [_dpia(), _notice()]))
    known = {description.strip() for description, _basis in before["purposes"].values()}
    for pk, (description, basis) in sorted(after["purposes"].items()):
        text = description.strip()
        label = text if len(text) <= 80 else text[:79] + "…"
        if pk not in before["purposes"] or text not in known:
            reasons.append(_reason(_("New purpose: %s.") % label, [_notice(), _dpia()]))
        elif before["purposes"][pk][1] != basis:
            change = _("Legal basis of the purpose “%(purpose)s” changed from %(before)s to %(after)s.") % {
                "purpose": label,
                "before": _basis_label(before["purposes"][pk][1]),
                "after": _basis_label(basis),
            }
            reasons.append(_reason(change, [_notice()]))
    return reasons


def raise_problems(problems: Iterable[Problem]) -> None:
    """Turn problems into a ``ValidationError`` keyed by field, as forms and serializers expect."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.field, []).append(problem.message)
    if errors:
        raise ValidationError(errors)
