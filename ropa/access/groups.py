"""The two roles of the admin as Django groups, kept in step with the models that exist.

- ``DPO``: every permission. The privacy team keeps the register, reviews flagged records, places holds.
- ``Auditor``: every *view* permission and nothing else: reads the register, the records (without their
  payload), the retention evidence and the completeness page, exports the register, changes nothing.

Created by a data migration, refreshed after every ``migrate`` and by ``manage.py ensure_groups``.
"""

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS

DPO_GROUP = "DPO"
AUDITOR_GROUP = "Auditor"
# Bookkeeping of Django itself, not part of what either role works with.
EXCLUDED_APPS = frozenset({"contenttypes", "sessions"})


def ensure_groups(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Create or update both groups; returns the number of permissions each now holds."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(using).exclude(content_type__app_label__in=EXCLUDED_APPS)
    dpo, _ = Group.objects.using(using).get_or_create(name=DPO_GROUP)
    auditor, _ = Group.objects.using(using).get_or_create(name=AUDITOR_GROUP)
    everything = list(permissions.values_list("pk", flat=True))
    views = list(permissions.filter(codename__startswith="view_").values_list("pk", flat=True))
    dpo.permissions.set(everything)
    auditor.permissions.set(views)
    return {DPO_GROUP: len(everything), AUDITOR_GROUP: len(views)}


def groups_after_migrate(sender, app_config=None, using=DEFAULT_DB_ALIAS, apps=global_apps, **kwargs):
    """post_migrate receiver: runs once, for this app, after the permissions of every app exist."""
    if app_config is None or app_config.label != "access":
        return
    try:
        apps.get_model("auth", "Group")
    except LookupError:
        return
    ensure_groups(apps=apps, using=using)
