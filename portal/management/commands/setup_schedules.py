from django.core.management.base import BaseCommand

from portal.services import schedules_sync


class Command(BaseCommand):
    help = "Declare every periodic task (django-q2 schedules), matched by name. Idempotent."

    def handle(self, *args, **options):
        outcome = schedules_sync()
        for name, state in outcome.items():
            self.stdout.write(f"  {name}: {state}")
        self.stdout.write(self.style.SUCCESS(f"{len(outcome)} schedule(s) declared"))
