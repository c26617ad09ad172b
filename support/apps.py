from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support conversations (Intercom mirror)"

    def ready(self):
        # Support sits above accounts, disputes and integrations: it plugs into their registries
        # here instead of being imported by them.
        from support import (  # noqa: F401
            account_page,  # the breached-SLA panel on an account page
            case_filing,  # checks a case's linked conversation belongs to its account
            case_page,  # the linked-conversation and SLA panels on a case page
            receivers,  # SLA clocks follow the cases disputes announces (disputes.signals)
            registrations,  # account timeline source and health component
            webhook_handlers,  # Intercom webhook topics that update the conversation mirror
        )
