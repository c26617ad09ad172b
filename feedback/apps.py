from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback log"

    def ready(self):
        from feedback import (
            receivers,  # noqa: F401 - impact follows account volume and tier
            registrations,  # noqa: F401 - navigation, search, My day
        )
