"""Pure lawfulness rules for register entries.

Each function judges plain values and returns the problems it finds, each naming the field it is
about. No ORM, no clock: the admin, the API, the importer and the services all call these, so a rule
is stated once and holds on every path.
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import EEA_COUNTRIES, ActivityRole, ActivityStatus, LegalBasis


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


def raise_problems(problems: Iterable[Problem]) -> None:
    """Turn problems into a ``ValidationError`` keyed by field, as forms and serializers expect."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.field, []).append(problem.message)
    if errors:
        raise ValidationError(errors)
