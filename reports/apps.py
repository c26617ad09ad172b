from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Leadership reports"

    def ready(self):
        # reports is the top layer: it plugs into the navigation and My day from here.
        from django.db.models.signals import post_delete

        from reports import registrations  # noqa: F401
        from reports.rollups.conversations import mark_deleted
        from support.models import Conversation

        post_delete.connect(mark_deleted, sender=Conversation, dispatch_uid="reports.conversation_deleted")
