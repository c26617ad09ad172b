from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from disputes.services import markets_import


class Command(BaseCommand):
    help = "Import markets from Polymarket by URL (market or event page), slug, Gamma id or condition id."

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="+", help="URL, slug, Gamma id or condition id")

    def handle(self, *args, **options):
        failed = 0
        for reference in options["references"]:
            try:
                imported = markets_import(reference=reference, by=None)
            except ValidationError as error:
                failed += 1
                self.stderr.write(f"{reference}: {' '.join(error.messages)}")
                continue
            for item in imported:
                state = "new" if item.created else ("new rules version" if item.new_version else "unchanged")
                self.stdout.write(f"{item.market.gamma_id}  {item.market.question}  ({state})")
        if failed:
            raise CommandError(
                f"{failed} of {len(options['references'])} reference(s) could not be imported."
            )
