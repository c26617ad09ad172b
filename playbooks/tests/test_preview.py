"""Template previews against real records: what the chosen records supply is theirs, the rest
is sample data and the page says which parts; real replies still use real data only."""

import html
import random

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account
from disputes.template_context import case_for_templates, case_template_context
from disputes.tests.factories import RULE, make_decided_case
from feedback.models import FeedbackItem
from feedback.services import feedback_create, item_triage
from playbooks.contexts import specialist_context
from playbooks.demo import STARTER_TEMPLATES, seed_starter_set
from playbooks.drafts import draft_from
from playbooks.models import ResponseTemplate
from portal.tests.pages import form_on, link_to, submit

pytestmark = pytest.mark.django_db
SAMPLE_NOTES = {
    "Resolution decision": ["case.*", "market.*", "decision.*", "citations"],
    "Execution decision": ["case.*", "decision.*", "citations"],
    "Platform mechanics decision": ["case.*", "decision.*", "citations"],
    "Check-in recap": ["check_in.*"],
    "Escalation notice": ["case.*", "escalation.*"],
    "Feedback follow-up": ["feedback.*"],
}


@pytest.fixture
def starter_templates(specialist):
    """The starter templates exactly as `seed_demo` writes them."""
    seed_starter_set(rng=random.Random(7), specialists=[specialist])
    return {t.name: t for t in ResponseTemplate.objects.all()}


def _preview_page(client, name):
    listing = client.get(reverse("playbooks:template_list"))
    return client.get(link_to(listing, name))


def _shown(response) -> str:
    return html.unescape(response.content.decode())


def test_every_starter_template_previews_against_a_real_account(client, specialist, starter_templates):
    assert set(starter_templates) == {spec.name for spec in STARTER_TEMPLATES} == set(SAMPLE_NOTES)
    account = make_account(owner=specialist, display_name="Eve Stone", email="eve@example.com")
    client.force_login(specialist)
    for name in starter_templates:
        page = _preview_page(client, name)
        response = submit(client, form_on(page, has_field="account"), account=account.email)
        shown = _shown(response)
        assert response.status_code == 200, (name, shown)
        assert "Missing data" not in shown and "is undefined" not in shown, name
        assert "Hi Eve," in shown and "Filled from account eve@example.com" in shown, name
        for group in SAMPLE_NOTES[name]:
            assert f"{group} comes from sample data" in shown, (name, group)
        assert "account.* comes from sample data" not in shown
    recap = _shown(
        submit(
            client,
            form_on(_preview_page(client, "Check-in recap"), has_field="account"),
            account=account.email,
        )
    )
    assert "check_in.* comes from sample data: this account has no check-in chosen." in recap
    resolution = _shown(
        submit(
            client,
            form_on(_preview_page(client, "Resolution decision"), has_field="account"),
            account=account.email,
        )
    )
    assert "case.* comes from sample data: choose a case to fill it." in resolution


def test_a_case_fills_its_decision_and_only_what_it_cannot_supply_is_sample(
    client, specialist, starter_templates
):
    case = make_decided_case(by=specialist, account=make_account(owner=specialist, display_name="Dana Real"))
    client.force_login(specialist)
    page = _preview_page(client, "Resolution decision")
    shown = _shown(submit(client, form_on(page, has_field="case"), case=case.reference))
    assert "Hi Dana," in shown and case.reference in shown and RULE in shown and "Chainlink governs." in shown
    assert "sample data" not in shown.split("Template text")[0].replace("Sample data</a>", "")

    escalation = _shown(
        submit(
            client, form_on(_preview_page(client, "Escalation notice"), has_field="case"), case=case.reference
        )
    )
    assert case.reference in escalation and "Hi Dana," in escalation
    assert "escalation.* comes from sample data: this case has no escalation chosen." in escalation
    assert "case.* comes from sample data" not in escalation


def test_the_follow_up_link_on_my_day_previews_the_real_feedback(
    client, specialist, product_person, starter_templates
):
    account = make_account(owner=specialist, display_name="Eve Stone")
    item = feedback_create(
        by=specialist, title="Show fees before confirming", category="fees", account=account
    )
    item_triage(item=item, by=product_person, status=FeedbackItem.Status.SHIPPED)
    client.force_login(specialist)
    my_day = client.get(reverse("home"))
    shown = _shown(client.get(link_to(my_day, "Reply template")))
    assert "Hi Eve," in shown and "You told us: “Show fees before confirming”" in shown
    assert "Where it stands with our product team: Shipped." in shown
    assert "comes from sample data" not in shown


def test_a_real_reply_still_refuses_what_the_record_cannot_supply(specialist, starter_templates):
    case = make_decided_case(by=specialist, account=make_account(owner=specialist, display_name="Dana Real"))
    context = {**specialist_context(specialist), **case_template_context(case_for_templates(case.reference))}
    assert not draft_from(starter_templates["Resolution decision"], context).problems
    escalation = draft_from(starter_templates["Escalation notice"], context)
    assert escalation.problems and "escalation" in escalation.problems[0] and not escalation.body
