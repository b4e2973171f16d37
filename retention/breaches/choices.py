"""Vocabularies of the breach register."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BreachStatus(models.TextChoices):
    """Where a breach stands (see ``rules.TRANSITIONS``)."""

    RECEIVED = "received", _("received")
    ASSESSED = "assessed", _("assessed")
    NOTIFIED = "notified", _("notified to the authority")
    NOT_NOTIFIABLE = "not_notifiable", _("not notifiable")
    SUBJECTS_INFORMED = "subjects_informed", _("data subjects informed")
    SUBJECTS_WAIVED = "subjects_waived", _("data subjects not informed (Art. 34(3))")
    CLOSED = "closed", _("closed")


OPEN_BREACH_STATUSES = tuple(s for s in BreachStatus.values if s != BreachStatus.CLOSED)


class RiskLevel(models.TextChoices):
    """What an assessment concludes (Art. 33(1), 34(1)): no risk, a risk (notify the authority), a high
    risk (tell the people too)."""

    NONE = "none", _("unlikely to result in a risk")
    RISK = "risk", _("risk to rights and freedoms")
    HIGH = "high", _("high risk to rights and freedoms")


class FilingPhase(models.TextChoices):
    """A notification in phases (Art. 33(4)); for the Belgian authority's portal, Part 1 and Part 2."""

    INITIAL = "initial", _("initial (Part 1)")
    COMPLEMENTARY = "complementary", _("complementary (Part 2)")


class Art34Waiver(models.TextChoices):
    """The three grounds on which the people need not be told of a high-risk breach (Art. 34(3))."""

    PROTECTED = "protected", _("the data was unintelligible to anyone not authorised, e.g. encrypted (Art. 34(3)(a))")
    MITIGATED = "mitigated", _("later measures ensure the high risk is no longer likely (Art. 34(3)(b))")
    DISPROPORTIONATE = (
        "disproportionate",
        _("telling each person would take disproportionate effort: a public communication instead (Art. 34(3)(c))"),
    )


class CommunicationMethod(models.TextChoices):
    EMAIL = "email", _("e-mail")
    POST = "post", _("post")
    PUBLIC = "public", _("public communication")
