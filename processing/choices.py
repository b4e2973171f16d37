"""Closed vocabularies fixed by the GDPR itself, and by the ``ropa-register/1`` format."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalBasis(models.TextChoices):
    """Art. 6(1)(a)-(f) GDPR."""

    CONSENT = "consent", _("Consent (Art. 6(1)(a))")
    CONTRACT = "contract", _("Contract (Art. 6(1)(b))")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation (Art. 6(1)(c))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests (Art. 6(1)(d))")
    PUBLIC_TASK = "public_task", _("Public task (Art. 6(1)(e))")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests (Art. 6(1)(f))")


class Art9Condition(models.TextChoices):
    """Art. 9(2)(a)-(j) GDPR: the conditions that lift the ban on special-category data."""

    EXPLICIT_CONSENT = "explicit_consent", _("Explicit consent (Art. 9(2)(a))")
    EMPLOYMENT = "employment", _("Employment and social security law (Art. 9(2)(b))")
    VITAL_INTERESTS = "vital_interests", _("Vital interests, subject incapable of consent (Art. 9(2)(c))")
    NON_PROFIT = "non_profit", _("Not-for-profit body, members (Art. 9(2)(d))")
    MADE_PUBLIC = "made_public", _("Made manifestly public by the subject (Art. 9(2)(e))")
    LEGAL_CLAIMS = "legal_claims", _("Legal claims or courts (Art. 9(2)(f))")
    SUBSTANTIAL_PUBLIC_INTEREST = "substantial_public_interest", _("Substantial public interest (Art. 9(2)(g))")
    HEALTH_CARE = "health_care", _("Preventive or occupational medicine, health care (Art. 9(2)(h))")
    PUBLIC_HEALTH = "public_health", _("Public health (Art. 9(2)(i))")
    ARCHIVING = "archiving", _("Archiving, research or statistics (Art. 9(2)(j))")


class RecipientKind(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    PROCESSOR = "processor", _("Processor")
    SUB_PROCESSOR = "sub_processor", _("Sub-processor")
    JOINT_CONTROLLER = "joint_controller", _("Joint controller")
    INDEPENDENT_CONTROLLER = "independent_controller", _("Independent controller")
    PUBLIC_AUTHORITY = "public_authority", _("Public authority")
    OTHER = "other", _("Other")


class TransferSafeguard(models.TextChoices):
    """Chapter V GDPR: what makes a transfer outside the EEA lawful."""

    ADEQUACY = "adequacy", _("Adequacy decision (Art. 45)")
    SCC = "scc", _("Standard contractual clauses (Art. 46(2)(c))")
    BCR = "bcr", _("Binding corporate rules (Art. 47)")
    DEROGATION = "derogation", _("Derogation for a specific situation (Art. 49)")


class ActivityRole(models.TextChoices):
    CONTROLLER = "controller", _("Controller (Art. 30(1))")
    PROCESSOR = "processor", _("Processor on behalf of a client (Art. 30(2))")


class ActivityStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class MeasureKind(models.TextChoices):
    TECHNICAL = "technical", _("Technical")
    ORGANISATIONAL = "organisational", _("Organisational")


# Member states of the EU plus Iceland, Liechtenstein and Norway.
EEA_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split()
)


class ReviewStatus(models.TextChoices):
    """How fresh the DPO's review of an activity is (``rules.review_freshness``)."""

    CURRENT = "current", _("current")
    DUE = "due", _("due for review")
    OVERDUE = "overdue", _("review overdue")
    NEEDED = "needed", _("review needed")


# A review falls due this many days before its cycle runs out (the list, the dashboard, the reminder).
REVIEW_DUE_DAYS = 30
