"""Names that installed apps show in the admin without a Dutch translation of their own (django-celery-beat's
schedule); listed here so that ``makemessages`` puts them in the project's catalogs. Never imported."""

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
]
