"""`manage.py run_fake_intercom --port 8765`: the fake Intercom API in the foreground, for demos,
local development and benchmarks. Ctrl-C stops it."""

from django.core.management.base import BaseCommand

from integrations.intercom.fake import (
    API_VERSION,
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_WINDOW_SECONDS,
    DEFAULT_SEARCH_DELAY_SECONDS,
    DEFAULT_TOKEN,
    FakeIntercom,
)


class Command(BaseCommand):
    help = "Run the fake Intercom REST API (2.16) on a loopback port until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument(
            "--port", type=int, default=8765, help="TCP port; 0 picks a free one (default 8765)"
        )
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument(
            "--token", default=DEFAULT_TOKEN, help=f"bearer token to accept (default {DEFAULT_TOKEN})"
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=DEFAULT_RATE_LIMIT,
            help=f"calls allowed per window, 0 for no limit (default {DEFAULT_RATE_LIMIT}, Intercom's app limit)",
        )
        parser.add_argument(
            "--rate-window",
            type=float,
            default=DEFAULT_RATE_WINDOW_SECONDS,
            help=f"rate-limit window in seconds (default {DEFAULT_RATE_WINDOW_SECONDS:g})",
        )
        parser.add_argument(
            "--search-delay",
            type=float,
            default=DEFAULT_SEARCH_DELAY_SECONDS,
            help=f"seconds before a change shows in search (default {DEFAULT_SEARCH_DELAY_SECONDS:g})",
        )
        parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
        parser.add_argument(
            "--teammates-from-portal",
            action="store_true",
            help="also the teammates the portal's database maps its users to (the demo seeds them), "
            "with the same ids, so that what the portal sends as theirs is accepted",
        )

    def handle(self, *args, **options):
        fake = FakeIntercom(
            options["host"],
            options["port"],
            token=options["token"],
            rate_limit=options["rate_limit"] or None,
            rate_window_seconds=options["rate_window"],
            search_delay_seconds=options["search_delay"],
            latency_seconds=options["latency"],
        )
        if options["teammates_from_portal"]:
            self._portal_teammates(fake)
        try:
            fake.serve_forever(ready=lambda: self._announce(fake, options))
        except KeyboardInterrupt:
            self.stdout.write("Fake Intercom stopped.")

    def _portal_teammates(self, fake: FakeIntercom) -> None:
        from integrations.models import IntercomAdmin

        mapped = IntercomAdmin.objects.exclude(portal_user=None).values_list("intercom_id", "name", "email")
        for intercom_id, name, email in mapped:
            if intercom_id not in fake.admin_ids:
                fake.add_admin(name, email, admin_id=intercom_id)

    def _announce(self, fake: FakeIntercom, options: dict) -> None:
        limit = options["rate_limit"]
        self.stdout.write(f"Fake Intercom listening on {fake.url}")
        self.stdout.write(f"Token: {options['token']}  (send 'Authorization: Bearer {options['token']}')")
        self.stdout.write(
            f"Intercom-Version: {API_VERSION}; rate limit: "
            + (f"{limit} calls per {options['rate_window']:g} s" if limit else "off")
            + f"; search delay: {options['search_delay']:g} s. Ctrl-C stops it."
        )
        self.stdout.flush()
