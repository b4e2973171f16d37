"""Re-encrypt the authenticator secrets under the current DJANGO_SECRET_KEY (docs/operations.md)."""

from allauth.mfa.models import Authenticator
from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ropa.access.adapters import secrets_cipher

ENCRYPTED_FIELDS = ("secret", "seed")  # TOTP key, recovery-code seed
ENCRYPTED_LISTS = ("migrated_codes",)


class Command(BaseCommand):
    help = (
        "Re-encrypt every authenticator secret (TOTP keys, recovery-code seeds) under the current "
        "DJANGO_SECRET_KEY, reading them with it or a DJANGO_SECRET_KEY_FALLBACKS key; afterwards the old key is "
        "no longer needed for them. All or nothing."
    )

    def handle(self, *args, **options):
        cipher, changed = secrets_cipher(), 0
        with transaction.atomic():
            for authenticator in Authenticator.objects.select_for_update().order_by("pk"):
                data = dict(authenticator.data)
                try:
                    for field in ENCRYPTED_FIELDS:
                        if field in data:
                            data[field] = cipher.rotate(data[field].encode()).decode()
                    for field in ENCRYPTED_LISTS:
                        if field in data:
                            data[field] = [cipher.rotate(value.encode()).decode() for value in data[field]]
                except InvalidToken:
                    raise CommandError(
                        f"Authenticator {authenticator.pk} (user id {authenticator.user_id}) cannot be read with "
                        "DJANGO_SECRET_KEY nor any DJANGO_SECRET_KEY_FALLBACKS key; nothing was changed."
                    ) from None
                if data != authenticator.data:
                    authenticator.data = data
                    authenticator.save(update_fields=["data"])
                    changed += 1
        self.stdout.write(f"authenticators re-encrypted: {changed}")
