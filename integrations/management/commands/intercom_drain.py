from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.intercom.sender import drain


class Command(BaseCommand):
    help = "Deliver the outbox to Intercom now (the worker does it every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--max-seconds", type=float, default=600.0)
        parser.add_argument("--max-contacts", type=int, default=None)

    def handle(self, *args, **options):
        if not settings.INTERCOM_ENABLED:
            raise CommandError("Intercom is not connected: set INTERCOM_ACCESS_TOKEN (and INTERCOM_ENABLED).")
        report = drain(max_seconds=options["max_seconds"], max_contacts=options["max_contacts"])
        self.stdout.write(
            f"delivered {report.delivered}, unchanged {report.skipped_unchanged}, superseded {report.superseded}, "
            f"failed {report.failed}, dead {report.dead}; {report.calls} calls in {report.seconds:.1f}s"
        )
        for error in report.errors[:10]:
            self.stderr.write(error)
