from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Disputes, markets and rules"

    def ready(self):
        from disputes import registrations  # noqa: F401 - registers navigation and search
