"""Issue an API token from the command line and print it once."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from processing.models import Controller
from ropa.api.roles import Role
from ropa.api.services import api_token_issue


class Command(BaseCommand):
    help = (
        "Issue an API token and print it once (it is stored hashed). A system token is bound to one controller "
        "and one source system; an auditor token to the controllers given (none: every controller)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--controller",
            action="append",
            default=[],
            metavar="KEY",
            help="controller key; repeat for several (auditor); exactly one for a system",
        )
        parser.add_argument("--source-system", default="", help="system tokens: the source system, e.g. crm")
        parser.add_argument("--name", default="", help="what the token is for, shown in the admin")
        parser.add_argument(
            "--days", type=int, default=None, help="days until it expires (default ROPA_API_TOKEN_DAYS)"
        )
        parser.add_argument("--user", default=None, help="act as this existing user (default: a service account)")
        parser.add_argument(
            "--quiet", action="store_true", help="print the token alone, for scripts (as -v 0 does)"
        )

    def handle(self, *args, role, controller, source_system, name, days, user, quiet, **options):
        controllers = list(Controller.objects.filter(key__in=controller))
        unknown = sorted(set(controller) - {c.key for c in controllers})
        if unknown:
            raise CommandError(f"No controller with key {', '.join(unknown)}.")
        account = None
        if user:
            account = get_user_model().objects.filter(username=user).first()
            if account is None:
                raise CommandError(f"No user {user}.")
        try:
            token, plaintext = api_token_issue(
                role=role,
                name=name or f"{role} token{' for ' + source_system if source_system else ''}",
                controllers=controllers,
                source_system=source_system,
                user=account,
                days=days,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        if not quiet and options["verbosity"] > 0:
            # The message on stderr, the token alone on stdout (``$(issue_token ...)`` takes the token only);
            # each flushed in turn, so that a log of both shows the token on its own line after the message.
            self.stderr.write(
                f"Issued {token.role} token “{token.name}” ({token.token_key}…), expires "
                f"{timezone.localdate(token.expiry):%Y-%m-%d}. It is shown once, on the next line:"
            )
            self.stderr.flush()
        self.stdout.write(plaintext)
        self.stdout.flush()
