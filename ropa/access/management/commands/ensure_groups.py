"""Create or refresh the DPO and Auditor groups (ropa/access/groups.py)."""

from django.core.management.base import BaseCommand

from ropa.access.groups import ensure_groups


class Command(BaseCommand):
    help = "Create or refresh the DPO group (every permission) and the Auditor group (view permissions only)."

    def handle(self, *args, **options):
        counts = ensure_groups()
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} permissions")
