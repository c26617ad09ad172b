import datetime as dt
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Venue
from disputes.services import rulebook_import


class Command(BaseCommand):
    help = "Import the platform rulebook from a Markdown file with numbered headings (## 4.2 Title)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--venue", required=True, choices=Venue.values)
        parser.add_argument("--effective", required=True, help="Date the text takes effect, YYYY-MM-DD.")

    def handle(self, *args, **options):
        try:
            effective = dt.date.fromisoformat(options["effective"])
        except ValueError as error:
            raise CommandError(
                f"--effective must be a date such as 2026-01-01, not “{options['effective']}”."
            ) from error
        try:
            text = options["file"].read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {options['file']}: {error}") from error
        try:
            counts = rulebook_import(text=text, venue=options["venue"], effective_from=effective, by=None)
        except ValidationError as error:
            raise CommandError("Nothing imported:\n" + "\n".join(error.messages)) from error
        self.stdout.write(
            f"Rulebook ({options['venue']}): {counts['created']} new, {counts['changed']} changed, "
            f"{counts['unchanged']} unchanged section(s)."
        )
