"""Vocabularies of the subjects app."""

from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class RecordStatus(models.TextChoices):
    """Where a personal-data record stands in its retention: kept, flagged for erasure, or erased."""

    ACTIVE = "active", _("active")
    FLAGGED = "flagged", _("flagged for erasure")
    ERASED = "erased", _("erased")


class RequestType(models.TextChoices):
    """The rights of Art. 15-21 GDPR a data subject can exercise, and withdrawing consent (Art. 7(3))."""

    ACCESS = "access", _("access (Art. 15)")
    RECTIFICATION = "rectification", _("rectification (Art. 16)")
    ERASURE = "erasure", _("erasure (Art. 17)")
    RESTRICTION = "restriction", _("restriction of processing (Art. 18)")
    PORTABILITY = "portability", _("data portability (Art. 20)")
    OBJECTION = "objection", _("objection to direct marketing (Art. 21(2))")
    CONSENT_WITHDRAWAL = "consent_withdrawal", _("withdrawal of consent (Art. 7(3))")


class RequestStatus(models.TextChoices):
    """Where a data-subject request stands. Received, awaiting identity and in progress are open."""

    RECEIVED = "received", _("received")
    AWAITING_IDENTITY = "awaiting_identity", _("awaiting proof of identity (clock paused)")
    IN_PROGRESS = "in_progress", _("in progress")
    COMPLETED = "completed", _("completed")
    REJECTED = "rejected", _("rejected")


OPEN_REQUEST_STATUSES = (RequestStatus.RECEIVED, RequestStatus.AWAITING_IDENTITY, RequestStatus.IN_PROGRESS)

# "Due soon": a running request whose last day is today or within this many days. The admin's and the API's
# deadline filter (``due7``), the dashboard and the DPO's reminder mail all count with it.
REQUEST_DUE_DAYS = 7


class Deadline(models.TextChoices):
    """The deadline filter of the admin and the API (``?deadline=``), one selector behind both
    (``DataSubjectRequestQuerySet.by_deadline``)."""

    OVERDUE = "overdue", _("overdue")
    DUE_SOON = "due7", format_lazy(_("due within {days} days"), days=REQUEST_DUE_DAYS)
    OPEN = "open", _("open")
    PAUSED = "paused", _("paused (awaiting identity)")
# Types whose completion hands the subject a package of their data.
PACKAGE_REQUEST_TYPES = (RequestType.ACCESS, RequestType.PORTABILITY)

# Types that destroy or disclose the person's data: completed (and a package downloaded) only once the
# requester's identity is verified, or the DPO overrides the check with a reason (Art. 12(6)).
IDENTITY_GATED_TYPES = (RequestType.ERASURE, RequestType.ACCESS, RequestType.PORTABILITY)


class RequestLanguage(models.TextChoices):
    """The language the requester is answered in (the access package, the letter)."""

    NL = "nl", "Nederlands"
    FR = "fr", "Français"
    EN = "en", "English"


class RequestEventKind(models.TextChoices):
    RECEIVED = "received", _("received")
    IDENTITY_REQUESTED = "identity_requested", _("proof of identity asked for")
    IDENTITY_VERIFIED = "identity_verified", _("identity verified")
    EXTENDED = "extended", _("deadline extended")
    COMPLETED = "completed", _("completed")
    REJECTED = "rejected", _("rejected")
    RESTRICTION_LIFTED = "restriction_lifted", _("restriction lifted")
    PACKAGE_DOWNLOADED = "package_downloaded", _("package downloaded")
    IDENTITY_OVERRIDDEN = "identity_overridden", _("completed without verified identity")


class ReviewDecisionKind(models.TextChoices):
    """What the DPO decided for a record a flag-only rule flagged (the review queue)."""

    ERASE = "erase", _("erased now")
    KEEP = "keep", _("kept until a date")
    HOLD = "hold", _("legal hold placed")
    RELEASE = "release", _("erasure approved")
