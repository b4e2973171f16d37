"""Pure rules for retention rules: plain values in, problems out (each naming its field). The model's
``clean``, the API's serializer and the register-file importer all call ``retention_rule_problems``, so a
rule that the admin refuses is refused on every other path too, in the same words."""

from django.utils.translation import gettext as _

from processing.rules import Problem

from .choices import Action


def retention_rule_problems(
    *,
    duration_value: int | None,
    duration_unit: str,
    statutory: bool,
    maximum: bool,
    action: str,
) -> list[Problem]:
    """A period is a length and a unit or neither (no fixed period); a statutory period the register does not
    know the length of can only flag for review (a person decides); a rule is a statutory minimum or a
    maximum, never both (the law's minimum always wins)."""
    problems = []
    if (duration_value is None) != (not duration_unit):
        problems.append(Problem("duration_unit", _("Give both a duration and its unit, or neither (no fixed period).")))
    if duration_value == 0:
        problems.append(
            Problem("duration_value", _("Leave the duration blank for “at the trigger”; zero is not a period."))
        )
    if statutory and not duration_value and action != Action.FLAG:
        problems.append(Problem("action", _("A statutory period with no stated length can only flag for review.")))
    if statutory and maximum:
        problems.append(
            Problem(
                "maximum",
                _("A rule is either a statutory minimum or a maximum, not both: the law's minimum always wins."),
            )
        )
    return problems
