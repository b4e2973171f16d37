"""The DPO and Auditor groups (ropa/access/groups.py). Permissions are normally created after migrating,
so they are created here first for every app installed at this point."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_groups(apps, schema_editor):
    from ropa.access.groups import ensure_groups

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    ensure_groups(apps=apps, using=schema_editor.connection.alias)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["DPO", "Auditor"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_controller_access_and_preferences"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("processing", "0001_initial"),
        ("retention", "0004_run_longest_batch"),
        ("subjects", "0002_sweep_scan_indexes"),
        ("api", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
