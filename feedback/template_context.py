"""A feedback item as the plain dictionary response templates read (see playbooks.rendering):
the "feedback" source of template previews, e.g. the follow-up telling a user where their
feedback stands."""

from feedback import selectors
from feedback.models import FeedbackItem
from playbooks.contexts import ContextSource, register_context_source
from portal.roles import has_role


def feedback_template_context(item: FeedbackItem) -> dict:
    return {"summary": item.title, "status": item.get_status_display()}


def _lookup(user, reference: str) -> dict | None:
    number = reference.strip().lstrip("#")
    if not has_role(user, *selectors.FEEDBACK_READERS) or not number.isdigit() or len(number) > 12:
        return None
    item = FeedbackItem.objects.filter(pk=int(number)).first()
    return {"feedback": feedback_template_context(item)} if item else None


register_context_source(
    ContextSource(
        key="feedback",
        label="Feedback item",
        lookup=_lookup,
        provides=("feedback",),
        help_text="A feedback item's number, #…",
    )
)
