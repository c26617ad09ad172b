from django.core.management.base import BaseCommand

from disputes.services import markets_refresh


class Command(BaseCommand):
    help = "Re-fetch open and recently closed markets from Gamma; records new rule versions."

    def handle(self, *args, **options):
        outcome = markets_refresh()
        self.stdout.write(
            f"Refreshed {outcome['refreshed']} market(s), {outcome['new_versions']} with new rules, "
            f"{outcome['failed']} failed."
        )
