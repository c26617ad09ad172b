from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Disputes, markets and rules"

    def ready(self):
        from disputes import (  # noqa: F401
            account_page,  # the markets-held panel on an account page
            registrations,  # navigation and search
        )
