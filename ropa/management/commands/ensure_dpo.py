"""Create the local DPO login for a development set-up and print how to log in."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from ropa.access.groups import DPO_GROUP, ensure_groups
from ropa.access.mfa import has_second_factor


class Command(BaseCommand):
    help = (
        "Create (once) a DPO superuser for local use, in the DPO group (refreshing the role groups), and print "
        "its login; at the first login it sets up an authenticator app. Refused when DJANGO_DEBUG=false."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="dpo")
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/", help="where the admin is served")

    def handle(self, *args, username, url, **options):
        if not settings.DEBUG:
            raise CommandError("ensure_dpo is for local development; in production use `createsuperuser`.")
        password_file = settings.VAR_DIR / f"{username}-password.txt"
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            user = user or User(username=username, email=f"{username}@localhost")
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        ensure_groups()
        user.groups.add(Group.objects.get(name=DPO_GROUP))
        password = password_file.read_text().strip()
        self.stdout.write(self.style.SUCCESS(f"Log in at {url} as {username} / {password}"))
        if not has_second_factor(user):
            self.stdout.write(
                "A DPO logs in with a second factor: at the first login you will be asked to set up an "
                "authenticator app (any TOTP app, e.g. on your phone) and shown recovery codes once."
            )
