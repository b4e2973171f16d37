"""Compile locale/*/LC_MESSAGES/*.po into .mo with Babel (pure Python: no GNU gettext needed); the work is
``ropa.i18n.translations``'s."""

from django.core.management.base import BaseCommand, CommandError

from ropa.i18n.translations import catalog_problems, compile_all


class Command(BaseCommand):
    help = (
        "Compile the interface translations (.po -> .mo) without system tools. --check: change nothing, fail "
        "when an entry is untranslated or fuzzy or a .mo is stale."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="report problems instead of compiling")

    def handle(self, *args, check, **options):
        if check:
            problems = list(catalog_problems())
            if problems:
                raise CommandError("\n".join(problems))
            self.stdout.write("Translations complete and compiled.")
            return
        for path in compile_all():
            self.stdout.write(f"compiled {path}")
