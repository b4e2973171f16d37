"""Who an API token speaks for, and the pure rule that says whether a scope makes sense."""

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from processing.rules import Problem


class Role(models.TextChoices):
    """What a token may do. The role decides; the token's user is only the actor in the history."""

    DPO = "dpo", gettext_lazy("DPO: reads and writes everything")
    AUDITOR = "auditor", gettext_lazy("Auditor: reads the register of every controller or of the assigned ones")
    SYSTEM = "system", gettext_lazy("Internal system: the records of one source system of one controller")


ALL_ROLES = frozenset(Role.values)
DPO_ONLY = frozenset({Role.DPO})
READERS = frozenset({Role.DPO, Role.AUDITOR})


def scope_problems(*, role: str, controller_count: int, source_system: str) -> list[Problem]:
    """A system token is bound to exactly one controller and one source system; the others to none."""
    problems = []
    if role not in Role.values:
        problems.append(Problem("role", _("Unknown role “%s”.") % role))
    if role == Role.SYSTEM:
        if controller_count != 1:
            problems.append(Problem("controllers", _("A system token is bound to exactly one controller.")))
        if not (source_system or "").strip():
            problems.append(Problem("source_system", _("A system token names its source system.")))
    else:
        if source_system:
            problems.append(Problem("source_system", _("Only a system token has a source system.")))
        if role == Role.DPO and controller_count:
            problems.append(Problem("controllers", _("A DPO token covers every controller; assign none.")))
    return problems


def reads_dpo_texts(context: dict) -> bool:
    """Whether a serializer's reader sees the DPO's free text (hold reasons, request notes and reasons),
    which may name a person: DPO tokens do; system and auditor tokens get null. Code serializing without a
    request (no API reader) sees it."""
    request = context.get("request")
    if request is None:
        return True
    return getattr(getattr(request, "auth", None), "role", None) == Role.DPO
