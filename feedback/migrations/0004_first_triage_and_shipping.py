"""Each item's first triage and first shipping, stored (issue 23): the reports count a period's
items by them from daily rollups instead of reading every item's status history. Filled from that
history, by the definition the reports used: an item's first status change away from New, and its
first to Shipped (by time, then by id). Follow-ups get `updated_at` (their rollup counts changed
ones again), filled with when they were done, or made."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce


def fill_from_history(apps, schema_editor):
    FeedbackItem = apps.get_model("feedback", "FeedbackItem")
    FeedbackEvent = apps.get_model("feedback", "FeedbackEvent")
    FollowUp = apps.get_model("feedback", "FollowUp")

    def first_change(**condition):
        changes = FeedbackEvent.objects.filter(item=OuterRef("pk"), kind="status", **condition)
        return Subquery(changes.order_by("at", "pk").values("at")[:1])

    FeedbackItem.objects.update(
        triaged_at=first_change(before__status="new"), shipped_at=first_change(after__status="shipped")
    )
    FollowUp.objects.update(updated_at=Coalesce("done_at", "created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_check_in_proactive"),
        ("disputes", "0014_case_search_covering_indexes"),
        ("feedback", "0003_feedbackevent_status_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="feedbackevent",
            name="feedbackevent_status_at_idx",
        ),
        migrations.RemoveIndex(
            model_name="feedbackevent",
            name="feedbackevent_item_status_idx",
        ),
        migrations.AddField(
            model_name="feedbackitem",
            name="shipped_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="feedbackitem",
            name="triaged_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="followup",
            name="updated_at",
            field=models.DateTimeField(auto_now=True),
        ),
        migrations.RunPython(fill_from_history, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="feedbackitem",
            index=models.Index(fields=["updated_at"], name="feedback_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="feedbackitem",
            index=models.Index(fields=["triaged_at"], include=["created_at"], name="feedback_triaged_idx"),
        ),
        migrations.AddIndex(
            model_name="feedbackitem",
            index=models.Index(fields=["shipped_at"], include=["triaged_at"], name="feedback_shipped_idx"),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(fields=["updated_at"], name="feedback_follow_up_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(fields=["done_at"], include=["created_at"], name="feedback_follow_up_done_idx"),
        ),
    ]
