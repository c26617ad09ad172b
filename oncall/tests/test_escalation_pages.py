"""The escalation pages: raising from a case, an account or the queue (following the buttons the
pages render), the list and the detail page, acknowledging and resolving, the acknowledgement
link every page carries, and who may do what."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_account, specialist_user
from disputes.services.cases import dispute_file
from oncall.models import Escalation, Page
from oncall.tests.factories import make_escalation, make_escalation_policy, make_rota
from oncall.tokens import ack_token
from portal.tests.pages import form_on, link_to, links, submit
from support.tests.factories import make_conversation, only_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(db):
    return make_escalation_policy(make_rota(), is_default=True)


def page_to(escalation, person) -> Page:
    return Page.objects.create(
        escalation=escalation,
        round=0,
        step=1,
        recipient=person,
        channel=Page.Channel.EMAIL,
        address=person.email,
        created_at=timezone.now(),
    )


def test_a_specialist_escalates_a_case_from_its_page(client, policy, specialist):
    account = make_account(owner=specialist)
    case = dispute_file(by=specialist, account=account, category="order_execution", claim="Partial fill.")
    client.force_login(specialist)

    case_page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    form_page = client.get(link_to(case_page, "Escalate"))
    assert case.reference in form_page.content.decode()
    response = submit(
        client, form_on(form_page, has_field="summary"), severity="sev1", summary="Trader threatens to leave"
    )

    escalation = Escalation.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "oncall:escalation_detail", args=[escalation.pk]
    )
    assert (escalation.case, escalation.severity, escalation.raised_by) == (case, "sev1", specialist)
    detail = client.get(response["Location"]).content.decode()
    assert "Trader threatens to leave" in detail and "Raised" in detail
    case_page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    assert f"ESC-{escalation.pk}" in case_page
    assert "Raised SEV1: Trader threatens to leave" in case_page  # the history, on the item's page


def test_the_account_page_shows_its_escalations_and_escalates(client, policy, specialist):
    account = make_account(owner=specialist)
    client.force_login(specialist)
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    form_page = client.get(link_to(page, "Escalate"))
    submit(client, form_on(form_page, has_field="summary"), summary="Large withdrawal blocked")
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Large withdrawal blocked" in page and "Triggered" in page
    assert "Raised SEV2: Large withdrawal blocked" in page


def test_a_conversation_is_escalated_from_its_queue_row(client, policy, specialist):
    only_policy()
    make_conversation(make_account(owner=specialist), title="Cannot redeem", waiting_since=timezone.now())
    client.force_login(specialist)
    queue = client.get(reverse("support:queue"), {"who": "everyone"})
    form_page = client.get(link_to(queue, "Escalate"))
    submit(client, form_on(form_page, has_field="summary"), summary="Redemption broken for a whale")
    assert Escalation.objects.get().conversation.title == "Cannot redeem"


def test_bad_input_stays_on_the_form_with_its_message(client, policy, specialist):
    account = make_account(owner=specialist)
    client.force_login(specialist)
    form_page = client.get(reverse("oncall:escalation_raise"), {"account": account.pk})
    response = submit(client, form_on(form_page, has_field="summary"), summary="", severity="sev7")
    assert response.status_code == 400
    text = response.content.decode()
    assert "This field is required." in text and "Select a valid choice" in text
    assert not Escalation.objects.exists()
    assert client.get(reverse("oncall:escalation_raise"), {"account": "999999"}).status_code == 404
    assert client.get(reverse("oncall:escalation_raise"), {"account": "x"}).status_code == 404
    assert client.get(reverse("oncall:escalation_raise")).status_code == 404


def test_a_second_raise_from_the_form_says_it_joined_the_open_one(client, policy, specialist):
    account = make_account(owner=specialist)
    first = make_escalation(policy, account=account)
    client.force_login(specialist)
    form_page = client.get(reverse("oncall:escalation_raise"), {"account": account.pk})
    assert f"ESC-{first.pk}" in form_page.content.decode()
    response = submit(client, form_on(form_page, has_field="summary"), summary="Again")
    assert response["Location"] == reverse("oncall:escalation_detail", args=[first.pk])
    assert Escalation.objects.count() == 1


def test_acknowledge_and_resolve_from_the_detail_page(client, policy, specialist):
    escalation = make_escalation(policy)
    client.force_login(specialist)
    detail = client.get(reverse("oncall:escalation_detail", args=[escalation.pk]))
    submit(client, form_on(detail, action_contains="/acknowledge/"))
    escalation.refresh_from_db()
    assert (escalation.status, escalation.acknowledged_by) == ("acknowledged", specialist)

    detail = client.get(reverse("oncall:escalation_detail", args=[escalation.pk]))
    assert not [f for f in links(detail) if "acknowledge" in f.href]
    response = submit(client, form_on(detail, action_contains="/resolve/"), note="Paid out")
    followed = client.get(response["Location"]).content.decode()
    escalation.refresh_from_db()
    assert escalation.status == "resolved" and "Resolved: Paid out" in followed


def test_leadership_reads_but_cannot_act_and_product_is_refused(client, policy, leader, product_person):
    escalation = make_escalation(policy)
    client.force_login(leader)
    listing = client.get(reverse("oncall:escalations"))
    assert listing.status_code == 200 and f"ESC-{escalation.pk}" in listing.content.decode()
    detail = client.get(link_to(listing, f"ESC-{escalation.pk}"))
    assert detail.status_code == 200 and "/acknowledge/" not in detail.content.decode()
    assert client.post(reverse("oncall:escalation_acknowledge", args=[escalation.pk])).status_code == 403
    assert client.post(reverse("oncall:escalation_resolve", args=[escalation.pk])).status_code == 403
    assert (
        client.get(reverse("oncall:escalation_raise"), {"account": escalation.account_id}).status_code == 403
    )

    client.force_login(product_person)
    for url in (reverse("oncall:escalations"), reverse("oncall:escalation_detail", args=[escalation.pk])):
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(reverse("oncall:escalations")).status_code == 302


def test_the_list_shows_open_ones_and_every_one_on_request(client, policy, specialist):
    open_one = make_escalation(policy, summary="Still open")
    done = make_escalation(policy, summary="All done", status="resolved", next_page_at=None)
    client.force_login(specialist)
    listing = client.get(reverse("oncall:escalations"))
    assert "Still open" in listing.content.decode() and "All done" not in listing.content.decode()
    everything = client.get(link_to(listing, "Show every escalation")).content.decode()
    assert "Still open" in everything and "All done" in everything
    assert open_one.pk != done.pk


def test_the_list_costs_the_same_queries_for_many_rows(
    client, policy, specialist, django_assert_max_num_queries
):
    for n in range(30):
        make_escalation(policy, summary=f"Item {n}")
    client.force_login(specialist)
    client.get(reverse("oncall:escalations"))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("oncall:escalations"), {"per_page": 100}).status_code == 200


# --- the acknowledgement link ----------------------------------------------------------------


def test_the_link_in_a_page_shows_the_escalation_and_one_button(client, policy, specialist):
    escalation = make_escalation(policy, summary="Whale cannot withdraw")
    paged = specialist_user(username="paged")
    url = reverse(
        "oncall:ack", args=[ack_token(escalation_id=escalation.pk, page_id=page_to(escalation, paged).pk)]
    )

    assert client.get(url).status_code == 302  # sign in first
    client.force_login(specialist)
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200 and "Whale cannot withdraw" in text and "acknowledging records you" in text
    response = submit(client, form_on(page, action=""))
    assert response.status_code == 200
    escalation.refresh_from_db()
    assert (escalation.status, escalation.acknowledged_by) == ("acknowledged", specialist)
    assert "Acknowledged by" in response.content.decode()

    again = client.post(url)
    assert again.status_code == 409 and "already acknowledged" in again.content.decode()


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("not-a-token", 400, "not one the portal sent"),
        ("eyJlIjoxLCJwIjoxfQ:1tamper:forged", 400, "not one the portal sent"),
    ],
)
def test_a_forged_link_gets_a_clear_page(client, specialist, token, status, message):
    client.force_login(specialist)
    response = client.get(reverse("oncall:ack", args=[token]))
    assert response.status_code == status and message in response.content.decode()


def test_an_expired_or_vanished_or_resolved_link_gets_a_clear_page(client, policy, specialist, monkeypatch):
    escalation = make_escalation(policy)
    token = ack_token(escalation_id=escalation.pk, page_id=page_to(escalation, specialist).pk)
    client.force_login(specialist)

    later = timezone.now() + dt.timedelta(days=8)
    monkeypatch.setattr("time.time", lambda: later.timestamp())
    expired = client.get(reverse("oncall:ack", args=[token]))
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    monkeypatch.undo()

    Escalation.objects.filter(pk=escalation.pk).update(
        status="resolved", resolved_by=specialist, resolved_at=timezone.now()
    )
    resolved = client.get(reverse("oncall:ack", args=[token]))
    assert resolved.status_code == 200 and "Resolved by" in resolved.content.decode()
    assert 'type="submit"' not in resolved.content.decode().split("<main", 1)[-1].split("</main>")[0]

    other = ack_token(escalation_id=escalation.pk, page_id=999999)
    assert client.get(reverse("oncall:ack", args=[other])).status_code == 404


def test_the_link_grants_nothing_to_someone_who_may_not_acknowledge(client, policy, leader):
    escalation = make_escalation(policy)
    token = ack_token(escalation_id=escalation.pk, page_id=page_to(escalation, leader).pk)
    client.force_login(leader)
    assert client.post(reverse("oncall:ack", args=[token])).status_code == 403
    escalation.refresh_from_db()
    assert escalation.status == "triggered"


def test_the_item_panels_cost_two_queries_however_many_escalations(
    policy, specialist, django_assert_num_queries
):
    from accounts.selectors import ACCOUNT_PANELS
    from portal.page_panels import page_panels

    account = make_account(owner=specialist)
    for n in range(4):
        make_escalation(policy, account=account, summary=f"Old {n}", status="resolved", next_page_at=None)
    make_escalation(policy, account=account, summary="Open")
    specialist = type(specialist).objects.get(pk=specialist.pk)
    page_panels(ACCOUNT_PANELS, obj=account, user=specialist)  # the person's roles, read once
    # Every panel of the page: support's breached SLA items (one query), disputes' markets held
    # (one: the account's exposure; none held, so no market read), and ours (two: the
    # escalations with their people, their history).
    with django_assert_num_queries(4):
        panels = [
            p
            for p in page_panels(ACCOUNT_PANELS, obj=account, user=specialist)
            if p.panel.name == "oncall.escalations"
        ]
    assert len(panels[0].context["escalations"]) == 5
