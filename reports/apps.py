from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Leadership reports"

    def ready(self):
        # reports is the top layer: it plugs into the navigation and My day from here.
        from django.db.models.signals import post_delete, pre_save

        from accounts.models import CheckIn
        from disputes.models import DisputeCase
        from feedback.models import FeedbackItem, FollowUp
        from reports import registrations  # noqa: F401
        from reports.rollups import CASES, CHECK_INS, CONVERSATIONS, FOLLOW_UPS, ITEMS
        from reports.rollups.check_ins import check_in_moving
        from support.models import Conversation

        # A deleted row leaves its days in the rollups: they are counted again.
        post_delete.connect(
            CONVERSATIONS.deleted, sender=Conversation, dispatch_uid="reports.conversation_deleted"
        )
        post_delete.connect(CASES.deleted, sender=DisputeCase, dispatch_uid="reports.case_deleted")
        post_delete.connect(ITEMS.deleted, sender=FeedbackItem, dispatch_uid="reports.feedback_item_deleted")
        post_delete.connect(FOLLOW_UPS.deleted, sender=FollowUp, dispatch_uid="reports.follow_up_deleted")
        post_delete.connect(CHECK_INS.deleted, sender=CheckIn, dispatch_uid="reports.check_in_deleted")
        # A check-in's time can be edited to any day: the day it leaves is counted again too.
        pre_save.connect(check_in_moving, sender=CheckIn, dispatch_uid="reports.check_in_moving")
