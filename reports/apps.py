from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Leadership reports"

    def ready(self):
        # reports is the top layer: it plugs into the navigation and My day from here.
        from reports import registrations  # noqa: F401
