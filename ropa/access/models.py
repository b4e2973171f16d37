"""Per-user settings of the admin: which controllers a user may see, and the language the user works in."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ControllerAccess(models.Model):
    """Limits a user to some controllers: every admin list, page, export and figure then shows only their
    objects. A user without one sees every controller (what the user's permissions allow)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="controller_access",
        verbose_name=_("user"),
        help_text=_("The user whose view of the register is limited."),
    )
    controllers = models.ManyToManyField(
        "processing.Controller",
        blank=True,
        related_name="+",
        verbose_name=_("controllers"),
        help_text=_("The only controllers this user sees. None ticked: the user sees no controller at all."),
    )

    class Meta:
        verbose_name = _("controller access")
        verbose_name_plural = _("controller access")

    def __str__(self) -> str:
        return str(self.user)


class UserProfile(models.Model):
    """Preferences of an admin user; the language is applied at login and kept when switched in the header."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
        help_text=_("The user these preferences belong to."),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Language of the interface; blank: the browser's."),
    )

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return str(self.user)
