from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "oncall"
    verbose_name = "On call and escalations"

    def ready(self):
        # oncall sits above support, disputes and accounts: it plugs into their registries and
        # signals here instead of being imported by them.
        from oncall import (  # noqa: F401
            registrations,  # escalations: panels on cases and accounts, the SLA breach receiver
            rota_registrations,  # the on-call page in the navigation, coverage gaps on My day
        )
