"""What people see of the SLA outside the queue: the SLA panel on a case page, the breached items
on an account page, the warning e-mail to the assignee (once), and no SLA material for Product."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from accounts.selectors import ACCOUNT_PANELS
from accounts.tests.factories import make_account, specialist_user
from disputes.selectors import CASE_FACTS_PANELS
from disputes.services.cases import dispute_transition
from portal.page_panels import page_panels
from portal.tests.pages import link_to
from support.account_page import account_breaches
from support.case_page import case_sla
from support.models import SlaClock
from support.selectors import conversation_url
from support.sla.tick import sla_tick
from support.tests.factories import only_policy, pinned_time
from support.tests.test_queue import file_case, waiting_conversation

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)  # a Monday


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


def sla_block(text: str) -> str:
    """The case page's SLA panel, as rendered."""
    block = text[text.index('class="case-sla"') :]
    return block[: block.index("</dd>")]


def clock_line(block: str, metric: str) -> str:
    line = block[block.index(f'data-metric="{metric}"') :]
    return line[: line.index("</li>")]


def test_case_page_shows_each_clock_with_its_state_and_working_time_left(client, time, specialist):
    only_policy()  # 24/7: first response 60 min, resolution 240 min, warning 15 min ahead
    account = make_account(owner=specialist)
    case = file_case(time, minutes_ago=90, account=account, assignee=specialist, claim="Late claim.")
    client.force_login(specialist)

    queue = client.get(reverse("support:queue"))
    page = client.get(link_to(queue, case.reference))
    assert page.status_code == 200
    block = sla_block(page.content.decode())
    first = clock_line(block, "first_response")
    assert "First response" in first and "Breached" in first and "overdue by 30 min" in first
    assert "due Mon 1 Mar 2027, 09:30" in first
    resolution = clock_line(block, "resolution")
    assert "On track" in resolution and "2 h 30 min left" in resolution

    time.now = T0 + dt.timedelta(minutes=140)  # 10 minutes before the resolution target: warning
    assert "Warning" in clock_line(
        sla_block(client.get(page.wsgi_request.path).content.decode()), "resolution"
    )


def test_case_page_shows_paused_hit_and_missed_clocks(client, time, specialist):
    only_policy()
    account = make_account(owner=specialist)
    case = file_case(time, minutes_ago=20, account=account, assignee=specialist)
    dispute_transition(case=case, by=specialist, to="waiting_on_user")
    client.force_login(specialist)
    url = reverse("disputes:case_detail", args=[case.reference])

    block = sla_block(client.get(url).content.decode())
    assert "Paused" in clock_line(block, "resolution") and "paused, 3 h 40 min left" in block

    SlaClock.objects.filter(case=case, metric="first_response").update(
        status=SlaClock.Status.HIT, achieved_at=T0, stopped_at=T0, next_deadline=None
    )
    SlaClock.objects.filter(case=case, metric="resolution").update(
        status=SlaClock.Status.MISSED, stopped_at=T0, next_deadline=None
    )
    block = sla_block(client.get(url).content.decode())
    assert "Hit" in clock_line(block, "first_response") and "met Mon 1 Mar 2027, 10:00" in block
    assert "Missed" in clock_line(block, "resolution")


def test_case_without_clocks_has_no_sla_panel(client, time, specialist):
    account = make_account(owner=specialist)
    case = file_case(time, minutes_ago=5, account=account, assignee=specialist)
    SlaClock.objects.filter(case=case).delete()
    client.force_login(specialist)
    assert (
        'class="case-sla"'
        not in client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    )


def test_account_page_lists_its_breached_items_with_links(client, time, specialist, leader, settings):
    settings.INTERCOM_APP_ID = "abc123"
    only_policy()
    account = make_account(owner=specialist)
    late = file_case(time, minutes_ago=90, account=account, assignee=specialist, claim="Late claim.")
    file_case(time, minutes_ago=10, account=account, assignee=specialist, claim="Fresh claim.")
    stuck = waiting_conversation(time, minutes_ago=75, account=account, assignee=specialist, title="Stuck")
    quiet = make_account(owner=specialist, display_name="Quiet Trader")
    file_case(time, minutes_ago=10, account=quiet, assignee=specialist)

    client.force_login(leader)
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    text = page.content.decode()
    panel = text[text.index('class="card account-sla"') :]
    panel = panel[: panel.index("</section>")]
    assert 'badge--danger">2<' in panel
    assert "Fresh claim" not in panel
    assert f'href="{conversation_url(stuck.intercom_id)}"' in panel
    case_page = client.get(link_to(page, f"Case {late.reference}"))
    assert case_page.status_code == 200 and "Late claim." in case_page.content.decode()

    quiet_page = client.get(reverse("accounts:detail", args=[quiet.pk])).content.decode()
    assert "account-sla" not in quiet_page


def test_warning_mails_the_assignee_once(time, specialist, django_capture_on_commit_callbacks):
    only_policy()
    specialist_user(username="colleague")
    case = file_case(time, minutes_ago=40, account=make_account(owner=specialist), assignee=specialist)

    # first response warns 45 minutes after filing (T0 + 5); passes before, at and after it
    for minutes in (0, 5, 5, 6, 10, 19):
        time.now = T0 + dt.timedelta(minutes=minutes)
        with django_capture_on_commit_callbacks(execute=True):
            sla_tick()
    [message] = mail.outbox
    assert message.to == ["spec@example.com"]
    assert f"case {case.reference}" in message.subject and "first response" in message.subject
    assert reverse("disputes:case_detail", args=[case.reference]) in message.body
    assert "due Mon 1 Mar, 10:20 UTC" in message.body


def test_the_warning_reads_in_the_recipients_time_zone(time, specialist, django_capture_on_commit_callbacks):
    only_policy()
    specialist.time_zone = "America/New_York"
    specialist.save(update_fields=["time_zone"])
    file_case(time, minutes_ago=40, account=make_account(owner=specialist), assignee=specialist)
    time.now = T0 + dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        sla_tick()
    [message] = mail.outbox
    assert "due Mon 1 Mar, 05:20 EST" in message.body


def test_an_unassigned_item_warns_every_active_specialist(
    time, specialist, django_capture_on_commit_callbacks
):
    only_policy()
    specialist_user(username="colleague")
    specialist_user(username="gone", is_active=False)
    waiting_conversation(time, minutes_ago=40, title="Nobody on it")

    time.now = T0 + dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        sla_tick()
    with django_capture_on_commit_callbacks(execute=True):
        sla_tick()
    assert sorted(address for message in mail.outbox for address in message.to) == [
        "colleague@example.com",
        "spec@example.com",
    ]
    assert all("nobody is assigned" in m.body and "Nobody on it" in m.subject for m in mail.outbox)


def test_product_never_sees_sla_panels(client, time, specialist, product_person):
    only_policy()
    account = make_account(owner=specialist)
    case = file_case(time, minutes_ago=90, account=account, assignee=specialist)
    assert page_panels(ACCOUNT_PANELS, obj=account, user=product_person) == []
    assert "support.sla" not in [
        e.panel.name for e in page_panels(CASE_FACTS_PANELS, obj=case, user=product_person)
    ]

    client.force_login(product_person)
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 403
    assert client.get(reverse("disputes:case_detail", args=[case.reference])).status_code == 403
    home = client.get(reverse("home"))
    assert home.status_code == 200
    text = home.content.decode()
    assert "account-sla" not in text and "case-sla" not in text and case.reference not in text


def test_the_panels_cost_a_fixed_number_of_queries(time, specialist, django_assert_num_queries):
    only_policy()
    account = make_account(owner=specialist)
    cases = [file_case(time, minutes_ago=m, account=account, assignee=specialist) for m in (90, 89, 10)]
    specialist = type(specialist).objects.get(pk=specialist.pk)
    page_panels(ACCOUNT_PANELS, obj=account, user=specialist)  # the person's roles, read once
    with django_assert_num_queries(1):  # the breached clocks with their items
        context = account_breaches(obj=account, user=specialist)
    assert context["count"] == 2
    with django_assert_num_queries(1 + 3):  # clocks with their policy, calendars (no conversation linked)
        case_sla(obj=cases[1], user=specialist)
