"""Names that installed apps show in the admin without a Dutch translation of their own (django-celery-beat's
schedule, django-axes' sign-in records); listed here so that ``makemessages`` puts them in the project's
catalogs. Never imported."""

from django.utils.translation import gettext_noop

VENDOR_STRINGS = [
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("clocked"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
    # django-axes (sign-in attempts and lock-outs) has no Dutch catalog.
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Axes"),
]
