"""The linked Intercom conversation on a dispute case page. Disputes sits below support and
cannot import it, so support adds the conversation to the case page's facts as a page panel."""

from disputes.selectors import CASE_FACTS_PANELS
from portal.page_panels import register_page_panel
from support.selectors import linked_conversation


def case_conversation(*, obj, user) -> dict | None:
    """The case's conversation as the mirror knows it, with its Intercom link; None when the case
    links none. One query."""
    return linked_conversation(obj.intercom_conversation_id)


register_page_panel(
    page=CASE_FACTS_PANELS,
    name="support.conversation",
    template="support/_case_conversation_panel.html",
    context=case_conversation,
)
