"""The queue (/support/) and the Breaching soon panel on My day: who may open it, one row per
open item by its most urgent running clock, breached first then by due time, the filters, time
left in the calendar's working time, and a query count that does not grow with the rows."""

import datetime as dt
from itertools import count

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account, specialist_user, tier
from disputes.services.cases import dispute_file, dispute_transition
from portal.tests.pages import form_on, link_to, links, submit
from support.tests.factories import make_calendar, make_conversation, only_policy, pinned_time

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)  # a Monday
_titles = count(1)


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


def file_case(time, *, minutes_ago, account, assignee=None, **fields):
    """A case filed `minutes_ago` before the pinned now (its clocks start then)."""
    now = time.now
    time.now = now - dt.timedelta(minutes=minutes_ago)
    try:
        return dispute_file(
            by=account.owner,
            account=account,
            category="order_execution",
            claim=fields.pop("claim", f"Partial fill {next(_titles)}."),
            assignee=assignee,
            **fields,
        )
    finally:
        time.now = now


def waiting_conversation(time, *, minutes_ago, account=None, assignee=None, **fields):
    """An open conversation the user started `minutes_ago`, not yet answered."""
    started = time.now - dt.timedelta(minutes=minutes_ago)
    return make_conversation(
        account,
        assignee=assignee,
        title=fields.pop("title", f"Withdrawal stuck {next(_titles)}"),
        created_at=started,
        updated_at=started,
        waiting_since=started,
        statistics={"first_admin_reply_at": None, "last_admin_reply_at": None},
        source="webhook",
        **fields,
    )


@pytest.fixture
def queue(time, specialist, portal_admin):
    """With one 24/7 policy (first response 60 min, resolution 240, warning 15 min ahead), at
    T0: a breached case, a warning case (unassigned), an on-track conversation on a tier 2
    account, and a paused case, all but one the specialist's."""
    only_policy()
    account = make_account(owner=specialist)
    other_tier = make_account(owner=specialist, tier_rank=2, display_name="Second Tier Trader")
    paused = file_case(time, minutes_ago=40, account=account, assignee=specialist, claim="Paused claim.")
    dispute_transition(case=paused, by=specialist, to="waiting_on_user")
    return {
        "breached": file_case(
            time, minutes_ago=90, account=account, assignee=specialist, claim="Late claim."
        ),
        "warning": file_case(time, minutes_ago=50, account=account, claim="Nearly late claim."),
        "on_track": waiting_conversation(
            time, minutes_ago=10, account=other_tier, assignee=specialist, title="Fresh question"
        ),
        "paused": paused,
    }


def rows(response) -> list[str]:
    """The item cell of each row, as the page reads it."""
    table = response.context["table"]
    return [
        row.record.item.reference if row.record.case_id else row.record.item.title
        for row in table.paginated_rows
    ]


def names(queue, *keys):
    return [queue[k].reference if hasattr(queue[k], "reference") else queue[k].title for k in keys]


# Who may open it


def test_the_queue_is_in_the_navigation_of_specialists_leadership_and_admins(
    client, specialist, leader, portal_admin, product_person
):
    for person in (specialist, leader, portal_admin):
        client.force_login(person)
        response = client.get(reverse("home"))
        assert client.get(link_to(response, "Queue")).status_code == 200
    client.force_login(product_person)
    assert "Queue" not in [link.text for link in links(client.get(reverse("home")))]
    assert client.get(reverse("support:queue")).status_code == 403


# What it shows


def test_breached_first_then_by_due_time_and_paused_last(client, portal_admin, queue):
    client.force_login(portal_admin)
    response = client.get(reverse("support:queue"))
    assert response.status_code == 200
    assert rows(response) == names(queue, "breached", "warning", "on_track", "paused")
    text = response.content.decode()
    for state in ("Breached", "Warning", "On track", "Paused"):
        assert f">{state}</span>" in text
    assert "overdue by 30 min" in text  # filed 90 min ago, 60 min to first response
    assert "10 min left" in text and "50 min left" in text


def test_one_row_per_item_with_its_most_urgent_clock(client, portal_admin, queue):
    from support.models import SlaClock

    assert SlaClock.objects.filter(case=queue["breached"], status__in=SlaClock.RUNNING).count() == 2
    client.force_login(portal_admin)
    table = client.get(reverse("support:queue")).context["table"]
    breached = [row.record for row in table.paginated_rows if row.record.case_id == queue["breached"].pk]
    assert [clock.metric for clock in breached] == [SlaClock.Metric.FIRST_RESPONSE]


def test_rows_link_to_the_case_page_or_the_intercom_conversation(client, portal_admin, queue, settings):
    settings.INTERCOM_APP_ID = "abc123"
    client.force_login(portal_admin)
    response = client.get(reverse("support:queue"))
    case = queue["breached"]
    assert link_to(response, case.reference) == reverse("disputes:case_detail", args=[case.reference])
    conversation = queue["on_track"]
    href = [link.href for link in links(response) if link.text == "Fresh question"]
    assert href == [f"https://app.intercom.com/a/inbox/abc123/inbox/conversation/{conversation.intercom_id}"]
    text = response.content.decode()
    assert "Second Tier Trader" in text and tier(2).name in text


def test_intercom_sla_is_shown_beside_ours(client, portal_admin, time):
    only_policy()
    waiting_conversation(
        time,
        minutes_ago=5,
        title="With Intercom SLA",
        sla_applied={"sla_name": "VIP 1h", "sla_status": "active"},
    )
    client.force_login(portal_admin)
    text = client.get(reverse("support:queue")).content.decode()
    assert "VIP 1h" in text


# Filters


def test_specialists_see_their_own_items_first_and_can_widen(client, specialist, queue):
    client.force_login(specialist)
    response = client.get(reverse("support:queue"))
    assert rows(response) == names(queue, "breached", "on_track", "paused")
    form = form_on(response, has_field="who")
    assert rows(submit(client, form, who="unassigned")) == names(queue, "warning")
    assert rows(submit(client, form, who="everyone")) == names(
        queue, "breached", "warning", "on_track", "paused"
    )


def test_leadership_sees_everyone_by_default(client, leader, queue):
    client.force_login(leader)
    assert len(rows(client.get(reverse("support:queue")))) == 4


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("kind", "case", ["breached", "warning", "paused"]),
        ("kind", "conversation", ["on_track"]),
        ("sla", "breached", ["breached"]),
        ("sla", "warning", ["warning"]),
        ("sla", "on_track", ["on_track"]),
        ("sla", "paused", ["paused"]),
    ],
)
def test_each_filter(client, portal_admin, queue, field, value, expected):
    client.force_login(portal_admin)
    form = form_on(client.get(reverse("support:queue")), has_field=field)
    assert value in form.options[field]
    assert rows(submit(client, form, **{field: value})) == names(queue, *expected)


def test_tier_filter(client, portal_admin, queue):
    client.force_login(portal_admin)
    form = form_on(client.get(reverse("support:queue")), has_field="tier")
    assert rows(submit(client, form, tier=str(tier(2).pk))) == names(queue, "on_track")
    assert rows(submit(client, form, tier=str(tier(1).pk))) == names(queue, "breached", "warning", "paused")


def test_a_bad_filter_value_is_a_400_not_a_500(client, portal_admin, queue):
    client.force_login(portal_admin)
    assert client.get(reverse("support:queue"), {"sla": "nonsense", "tier": "x"}).status_code == 400


# Time left in working time


def test_time_left_counts_the_calendar_s_working_time(client, portal_admin, monkeypatch):
    friday = dt.datetime(2027, 3, 5, 16, 30, tzinfo=dt.UTC)  # London is on GMT in early March
    time = pinned_time(monkeypatch, friday)
    only_policy(calendar=make_calendar("Office", time_zone="Europe/London"))
    case = file_case(time, minutes_ago=0, account=make_account())
    time.advance(minutes=10)
    client.force_login(portal_admin)
    response = client.get(reverse("support:queue"))
    assert "50 min left" in response.content.decode()  # due Monday 09:30, not in 50 wall minutes
    time.now = dt.datetime(2027, 3, 8, 10, 0, tzinfo=dt.UTC)
    response = client.get(reverse("support:queue"))
    assert rows(response) == [case.reference]
    assert "overdue by 30 min" in response.content.decode()


# Query budget


def test_queries_stay_within_budget_and_the_same_at_25_and_100_rows(
    client, portal_admin, time, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from support.tests.factories import make_policy

    only_policy()
    office = make_calendar("Office", time_zone="Europe/London")
    make_policy("Cases in office hours", calendar=office, kinds=["case"], resolution_minutes=600)
    accounts = [make_account(tier_rank=rank) for rank in (1, 2)]
    assignee = specialist_user()
    for n in range(100):
        if n % 2:
            file_case(time, minutes_ago=n, account=accounts[n % 2], assignee=assignee)
        else:
            waiting_conversation(time, minutes_ago=n, account=accounts[n % 2])
    client.force_login(portal_admin)
    counts = {}
    for per_page in (25, 100):
        with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("support:queue"), {"per_page": per_page})
        assert len(response.context["table"].page.object_list) == per_page
        counts[per_page] = len(queries)
    assert counts[25] == counts[100], counts
    for sla in ("breached", "on_track"):
        with django_assert_max_num_queries(counts[25]):
            client.get(reverse("support:queue"), {"per_page": 100, "sla": sla, "kind": "case"})


# My day


def breaching_soon_panel(response) -> str:
    """The Breaching soon panel's HTML on My day ("" when it is not there)."""
    text = response.content.decode()
    start = text.find('id="panel-support-breaching-soon"')
    return "" if start < 0 else text[start : text.find("<h2", start + 1)]


def test_breaching_soon_shows_my_and_unassigned_items_that_warn_or_breached(client, specialist, queue, time):
    someone_else = specialist_user()
    other = file_case(time, minutes_ago=120, account=make_account(owner=someone_else), assignee=someone_else)
    client.force_login(specialist)
    response = client.get(reverse("home"))
    panel = breaching_soon_panel(response)
    for case in (queue["breached"], queue["warning"]):
        assert f'href="{reverse("disputes:case_detail", args=[case.reference])}"' in panel
    assert ">Breached<" in panel and ">Warning<" in panel and "unassigned" in panel
    for absent in (other.reference, queue["paused"].reference, "Fresh question"):
        assert absent not in panel
    client.force_login(someone_else)
    panel = breaching_soon_panel(client.get(reverse("home")))
    assert other.reference in panel and queue["warning"].reference in panel
    assert queue["breached"].reference not in panel


def test_breaching_soon_lists_at_most_ten_items(client, specialist, time):
    only_policy()
    account = make_account(owner=specialist)
    for n in range(12):
        file_case(time, minutes_ago=70 + n, account=account, assignee=specialist)
    client.force_login(specialist)
    assert breaching_soon_panel(client.get(reverse("home"))).count("<li>") == 10


def test_breaching_soon_is_absent_when_nothing_warns(client, specialist, time):
    only_policy()
    waiting_conversation(time, minutes_ago=1, assignee=specialist)
    client.force_login(specialist)
    assert breaching_soon_panel(client.get(reverse("home"))) == ""
