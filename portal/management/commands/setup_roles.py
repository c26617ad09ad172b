from django.core.management.base import BaseCommand

from portal.services import roles_sync


class Command(BaseCommand):
    help = "Create the role groups (Specialist, Leadership, Product, Admin) and set their permissions. Idempotent."

    def handle(self, *args, **options):
        counts = roles_sync()
        for role, count in counts.items():
            self.stdout.write(f"  {role}: {count} permission{'s' if count != 1 else ''}")
        self.stdout.write(self.style.SUCCESS(f"Roles ready: {', '.join(counts)}"))
