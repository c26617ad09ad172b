from django.core.management.base import BaseCommand, CommandError

from integrations.intercom.client import IntercomClient
from integrations.intercom.contact_tags import contact_tag_names
from integrations.intercom.errors import IntercomError
from integrations.intercom.setup import intercom_setup


class Command(BaseCommand):
    help = (
        "Create the data attributes and tier tags the portal writes in Intercom, and map Intercom "
        "teammates to portal users by e-mail. Safe to run again: reports what existed."
    )

    def handle(self, *args, **options):
        tags = contact_tag_names()  # the tier tags, from accounts
        try:
            with IntercomClient() as client:
                report = intercom_setup(client, contact_tags=tags)
        except IntercomError as error:
            raise CommandError(f"Intercom setup failed: {error}") from error
        for item in report.created:
            self.stdout.write(f"created  {item}")
        for item in report.existing:
            self.stdout.write(f"existed  {item}")
        self.stdout.write(
            f"teammates: {report.admins_added} new, {report.admins_matched} matched to portal users by e-mail"
        )
        self.stdout.write(self.style.SUCCESS(f"Intercom ready ({len(report.created)} created)."))
