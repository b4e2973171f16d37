"""``manage.py retention_verify_chain``: check that no erasure tombstone was altered, removed or reordered."""

from django.core.management.base import BaseCommand, CommandError

from retention.selectors import tombstone_chain, tombstone_chain_problems


class Command(BaseCommand):
    help = "Verify the hash chain of erasure tombstones. Exits 1 and names the first breaks if it does not verify."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20, help="Report at most this many problems.")

    def handle(self, *args, **options):
        count = 0

        def counted():
            nonlocal count
            for row in tombstone_chain():
                count += 1
                yield row

        problems = []
        for problem in tombstone_chain_problems(counted()):
            problems.append(problem)
            if len(problems) >= options["limit"]:
                break
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError("the tombstone chain does not verify")
        self.stdout.write(f"tombstone chain verifies: {count} tombstone(s)")
