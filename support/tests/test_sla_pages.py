"""The SLA pages at /support/sla/: who sees what, calendars and policies edited through the forms
the pages render, reordering, and the which-policy tool."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.tests.factories import make_account, tier
from disputes.services.cases import dispute_file
from portal.tests.pages import form_on, link_to, links, submit
from support.models import BusinessCalendar, Holiday, SlaPolicy
from support.tests.factories import make_calendar, make_conversation, make_policy, week

pytestmark = pytest.mark.django_db

ICAL = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:1@test
SUMMARY:Founders Day
DTSTART;VALUE=DATE:20270301
DTEND;VALUE=DATE:20270303
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def policies():
    """A small list of our own instead of the seeded one: two conditional policies and a catch-all."""
    SlaPolicy.objects.all().delete()
    office = make_calendar("Office")
    return {
        "urgent": make_policy("Urgent Tier 1", calendar=office, tiers=[tier(1)], priorities=["urgent"]),
        "cases": make_policy("Cases", calendar=office, kinds=["case"], resolution_minutes=3 * 24 * 60),
        "catch-all": make_policy("Everything else", calendar=office, first_response_minutes=90),
    }


def overview(client):
    return client.get(reverse("support:sla"))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- who sees what ----------------------------------------------------------------------------


def test_readers_see_the_list_without_edit_controls(client, specialist, leader, policies):
    for person in (specialist, leader):
        client.force_login(person)
        response = overview(client)
        page = response.content.decode()
        assert response.status_code == 200
        assert "Urgent Tier 1" in page and "Everything else" in page and "Office" in page
        assert "Add policy" not in page and "Add calendar" not in page
        assert not [link for link in links(response) if link.text.startswith("Edit")]
        assert "/move/" not in page
        assert link_to(response, "Which policy applies?") == reverse("support:sla_which")


def test_the_overview_warns_when_no_active_policy_catches_everything(client, portal_admin, policies):
    client.force_login(portal_admin)
    warning = "No active policy is a catch-all"
    assert warning not in overview(client).content.decode()

    SlaPolicy.objects.filter(pk=policies["catch-all"].pk).update(is_active=False)
    assert warning in overview(client).content.decode()


def test_product_is_refused_every_sla_page(client, product_person, policies):
    client.force_login(product_person)
    calendar = policies["cases"].calendar
    for url in (
        reverse("support:sla"),
        reverse("support:sla_which"),
        reverse("support:sla_calendar_edit", args=[calendar.pk]),
        reverse("support:sla_policy_edit", args=[policies["cases"].pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_readers_cannot_open_the_edit_pages(client, leader, policies):
    client.force_login(leader)
    assert client.get(reverse("support:sla_policy_new")).status_code == 403
    response = client.post(reverse("support:sla_policy_move", args=[policies["cases"].pk]), {"move": "up"})
    assert response.status_code == 403


def test_the_overview_shows_conditions_targets_and_calendars_in_words(client, portal_admin, policies):
    client.force_login(portal_admin)
    page = overview(client).content.decode()
    assert "Tier: Tier 1 · Priority: Urgent" in page or f"Tier: {tier(1).name} · Priority: Urgent" in page
    assert "Everything (catch-all)" in page
    assert "Resolution 72 h" in page and "First response 1 h 30 min" in page
    assert "09:00–17:00" in page and "closed" in page  # Monday to Friday, weekend closed


def test_the_admin_has_the_sla_section_in_the_navigation(client, portal_admin, product_person):
    client.force_login(portal_admin)
    assert link_to(client.get(reverse("home")), "SLA") == reverse("support:sla")
    client.force_login(product_person)
    assert "SLA" not in [link.text for link in links(client.get(reverse("home")))]


def test_overview_queries_do_not_grow_with_the_policies(
    client, portal_admin, policies, django_assert_max_num_queries
):
    client.force_login(portal_admin)
    overview(client)
    with django_assert_max_num_queries(12) as few:
        overview(client)
    calendar = make_calendar("Weekend", windows=week(days=range(5, 7)))
    for n in range(12):
        make_policy(f"Extra {n}", calendar=calendar, tiers=[tier(2)], kinds=["case"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = overview(client)
    assert "Extra 11" in response.content.decode()


# --- calendars --------------------------------------------------------------------------------


def test_admin_creates_a_calendar_through_the_form(client, portal_admin, policies):
    client.force_login(portal_admin)
    new = client.get(link_to(overview(client), "Add calendar"))
    form = form_on(new, has_field="windows_0")
    response = submit(
        client,
        form,
        name="Support desk",
        time_zone="America/New_York",
        windows_0="09:00–12:00, 13:00–17:00",
        windows_1="9-17",
        windows_5="00:00–24:00",
        **{"holidays-0-name": "Independence Day", "holidays-0-first_day": "2026-07-04"},
    )
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Support desk")
    assert calendar.time_zone == "America/New_York"
    assert [(w.weekday, w.start_minute, w.end_minute) for w in calendar.windows.all()] == [
        (0, 540, 720),
        (0, 780, 1020),
        (1, 540, 1020),
        (5, 0, 1440),
    ]
    assert list(calendar.holidays.values_list("name", "first_day", "last_day")) == [
        ("Independence Day", dt.date(2026, 7, 4), dt.date(2026, 7, 4))
    ]


def test_admin_edits_a_calendar_and_removes_a_holiday(client, portal_admin, policies):
    from support.sla.calendars import HolidayInput, calendar_holidays_add

    calendar = policies["cases"].calendar
    calendar_holidays_add(
        calendar=calendar, holidays=[HolidayInput("Christmas", dt.date(2026, 12, 25), dt.date(2026, 12, 26))]
    )
    client.force_login(portal_admin)
    page = client.get(link_to(overview(client), "Edit calendar Office"))
    form = form_on(page, has_field="windows_0")
    assert form.data["windows_0"] == ["09:00–17:00"]
    assert form.data["holidays-0-name"] == ["Christmas"]
    response = submit(client, form, windows_4="09:00–15:00", **{"holidays-0-DELETE": "on"})
    assert response.status_code == 302
    assert calendar.windows.get(weekday=4).end_minute == 15 * 60
    assert not calendar.holidays.exists()


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("windows_0", "nine to five", "is not a window"),
        ("windows_0", "17:00–09:00", "ends before it starts"),
        ("windows_0", "09:00–12:00, 11:00–13:00", "overlaps"),
        ("windows_2", "25:00–26:00", "a time runs from 00:00 to 24:00"),
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
        ("name", "", "This field is required"),
    ],
)
def test_bad_calendar_input_is_shown_on_its_field_and_nothing_is_saved(
    client, portal_admin, policies, field, typed, message
):
    client.force_login(portal_admin)
    form = form_on(client.get(link_to(overview(client), "Add calendar")), has_field="windows_0")
    values = {"name": "Night desk", "windows_0": "09:00–17:00", field: typed}
    response = submit(client, form, **values)
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors.get(field, [])), (
        response.context["form"].errors
    )
    assert not BusinessCalendar.objects.filter(name="Night desk").exists()


def test_a_calendar_with_no_open_minute_or_a_reversed_holiday_is_refused(client, portal_admin, policies):
    client.force_login(portal_admin)
    form = form_on(client.get(link_to(overview(client), "Add calendar")), has_field="windows_0")
    response = submit(client, form, name="Never open")
    assert response.status_code == 400
    assert "at least one opening window" in " ".join(response.context["form"].non_field_errors())
    response = submit(
        client,
        form,
        name="Never open",
        windows_0="09:00–17:00",
        **{
            "holidays-0-name": "Backwards",
            "holidays-0-first_day": "2026-05-02",
            "holidays-0-last_day": "2026-05-01",
        },
    )
    assert response.status_code == 400
    assert "can’t be before the first" in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Never open").exists()


def test_more_holiday_rows_keeps_what_was_typed_and_saves_nothing(client, portal_admin, policies):
    client.force_login(portal_admin)
    form = form_on(client.get(link_to(overview(client), "Add calendar")), has_field="windows_0")
    response = submit(client, form, button="more_rows", name="Draft", windows_0="09:00–17:00")
    assert response.status_code == 200
    again = form_on(response, has_field="windows_0")
    assert again.data["name"] == ["Draft"] and "holidays-5-name" in again.data
    assert not BusinessCalendar.objects.filter(name="Draft").exists()


def test_public_holidays_and_an_ical_file_are_added_to_a_calendar(client, portal_admin, policies):
    from django.core.files.uploadedfile import SimpleUploadedFile

    calendar = policies["cases"].calendar
    client.force_login(portal_admin)
    page = client.get(link_to(overview(client), "Edit calendar Office"))
    response = submit(
        client, form_on(page, has_field="country"), country="gb", subdivision="eng", years="2026"
    )
    assert response.status_code == 302
    assert calendar.holidays.filter(name="Christmas Day").exists()
    added = calendar.holidays.count()
    response = submit(
        client, form_on(page, has_field="country"), country="gb", subdivision="eng", years="2026"
    )
    assert "already there" in " ".join(messages_of(client.get(response["Location"])))
    assert calendar.holidays.count() == added

    ical = form_on(page, action_contains="ical")
    response = client.post(ical.action, {"ical_file": SimpleUploadedFile("h.ics", ICAL, "text/calendar")})
    assert response.status_code == 302
    holiday = Holiday.objects.get(calendar=calendar, name="Founders Day")
    assert (holiday.first_day, holiday.last_day) == (dt.date(2027, 3, 1), dt.date(2027, 3, 2))


def test_bad_holiday_sources_are_explained_on_their_field(client, portal_admin, policies):
    from django.core.files.uploadedfile import SimpleUploadedFile

    calendar = policies["cases"].calendar
    before = calendar.holidays.count()
    client.force_login(portal_admin)
    page = client.get(link_to(overview(client), "Edit calendar Office"))
    public = form_on(page, has_field="country")
    response = submit(client, public, country="XX", years="2026")
    assert response.status_code == 400
    assert "No public holidays are known for XX" in " ".join(
        response.context["public_form"].errors["country"]
    )
    response = submit(client, public, country="US", years="2026-2050")
    assert "At most 10 years" in " ".join(response.context["public_form"].errors["years"])
    ical = form_on(page, action_contains="ical")
    response = client.post(ical.action, {"ical_file": SimpleUploadedFile("h.ics", b"not a calendar")})
    assert response.status_code == 400
    assert "not an iCalendar file" in " ".join(response.context["ical_form"].errors["ical_file"])
    big = SimpleUploadedFile("h.ics", ICAL + b" " * (1024 * 1024))
    response = client.post(ical.action, {"ical_file": big})
    assert "over 1024 KB" in " ".join(response.context["ical_form"].errors["ical_file"])
    assert calendar.holidays.count() == before


def test_a_calendar_in_use_is_not_deleted_and_an_unused_one_is(client, portal_admin, policies):
    unused = make_calendar("Spare")
    client.force_login(portal_admin)
    page = client.get(link_to(overview(client), "Edit calendar Office"))
    confirm = client.get(link_to(page, "Delete calendar"))
    assert "Urgent Tier 1" in confirm.content.decode()
    response = submit(client, form_on(confirm, has_field="csrfmiddlewaretoken", action=""))
    assert response.status_code == 400
    assert "“Office” is in use by “Urgent Tier 1”, “Cases”, “Everything else”" in response.content.decode()
    assert BusinessCalendar.objects.filter(name="Office").exists()

    page = client.get(link_to(overview(client), "Edit calendar Spare"))
    confirm = client.get(link_to(page, "Delete calendar"))
    response = submit(client, form_on(confirm, has_field="csrfmiddlewaretoken", action=""))
    assert response.status_code == 302
    assert not BusinessCalendar.objects.filter(pk=unused.pk).exists()


# --- policies ---------------------------------------------------------------------------------


def test_admin_creates_a_policy_through_the_form_before_the_catch_all(client, portal_admin, policies):
    client.force_login(portal_admin)
    new = client.get(link_to(overview(client), "Add policy"))
    form = form_on(new, has_field="first_response_minutes")
    assert form.data["is_active"] == ["on"] and form.data["pause_while_waiting"] == ["on"]
    response = submit(
        client,
        form,
        name="US conversations",
        kinds="conversation",
        venues="us",
        first_response_minutes="1 h 30 min",
        resolution_minutes="480",
        calendar=str(policies["cases"].calendar.pk),
        warn_minutes="10",
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="US conversations")
    assert (policy.kinds, policy.venues) == (["conversation"], ["us"])
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes) == (
        90,
        None,
        480,
    )
    assert policy.warn_minutes == 10
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == [
        "Urgent Tier 1",
        "Cases",
        "US conversations",
        "Everything else",
    ]


def test_admin_edits_a_policy(client, portal_admin, policies):
    client.force_login(portal_admin)
    page = client.get(link_to(overview(client), "Edit policy Cases"))
    form = form_on(page, has_field="first_response_minutes")
    assert form.data["resolution_minutes"] == ["72 h"]
    assert form.data["kinds"] == ["case"]
    assert "escalate_on_breach" not in form.data  # off unless ticked
    response = submit(
        client,
        form,
        resolution_minutes="48h",
        pause_while_waiting=None,
        priorities=["urgent", "high"],
        escalate_on_breach="on",
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="Cases")
    assert policy.resolution_minutes == 48 * 60
    assert policy.pause_while_waiting is False
    assert policy.escalate_on_breach is True
    assert policy.priorities == ["high", "urgent"]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"first_response_minutes": "soon"}, "first_response_minutes", "is not a duration"),
        ({"first_response_minutes": "0"}, "first_response_minutes", "between 1 minute and one year"),
        ({"resolution_minutes": "9000 h"}, "resolution_minutes", "At most one year"),
        ({"first_response_minutes": ""}, None, "Set at least one target"),
        ({"name": "cases"}, "name", "already a policy named"),
        ({"kinds": "nonsense"}, "kinds", "Select a valid choice"),
        ({"calendar": "99999999999999999999"}, "calendar", "Select a valid choice"),
    ],
)
def test_bad_policy_input_is_shown_on_its_field_and_nothing_is_saved(
    client, portal_admin, policies, values, field, message
):
    client.force_login(portal_admin)
    form = form_on(client.get(link_to(overview(client), "Add policy")), has_field="first_response_minutes")
    typed = {
        "name": "New one",
        "kinds": "conversation",
        "first_response_minutes": "60",
        "calendar": str(policies["cases"].calendar.pk),
        **values,
    }
    response = submit(client, form, **typed)
    assert response.status_code == 400
    errors = response.context["form"].errors.get(field or "__all__", [])
    assert any(message in error for error in errors), response.context["form"].errors
    assert SlaPolicy.objects.count() == 3


def test_a_second_catch_all_before_the_last_is_refused(client, portal_admin, policies):
    client.force_login(portal_admin)
    page = client.get(link_to(overview(client), "Edit policy Cases"))
    response = submit(client, form_on(page, has_field="kinds"), kinds=None)
    assert response.status_code == 400
    assert "must be the last active policy" in " ".join(response.context["form"].non_field_errors())
    assert SlaPolicy.objects.get(name="Cases").kinds == ["case"]


def test_a_policy_is_deleted_after_confirmation(client, portal_admin, policies):
    client.force_login(portal_admin)
    page = client.get(link_to(overview(client), "Edit policy Cases"))
    confirm = client.get(link_to(page, "Delete policy"))
    assert confirm.status_code == 200
    response = submit(client, form_on(confirm, has_field="csrfmiddlewaretoken", action=""))
    assert response.status_code == 302
    assert not SlaPolicy.objects.filter(name="Cases").exists()


# --- reorder ----------------------------------------------------------------------------------


def move_form(response, policy):
    return form_on(response, action_contains=reverse("support:sla_policy_move", args=[policy.pk]))


def test_admin_moves_a_policy_up_and_down(client, portal_admin, policies):
    client.force_login(portal_admin)
    response = submit(client, move_form(overview(client), policies["cases"]), button=("move", "up"))
    assert response.status_code == 302
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == [
        "Cases",
        "Urgent Tier 1",
        "Everything else",
    ]
    assert "moved up to position 1" in " ".join(messages_of(client.get(response["Location"])))
    submit(client, move_form(overview(client), policies["cases"]), button=("move", "down"))
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == [
        "Urgent Tier 1",
        "Cases",
        "Everything else",
    ]


def test_moving_the_catch_all_up_is_refused_with_a_message(client, portal_admin, policies):
    client.force_login(portal_admin)
    response = submit(client, move_form(overview(client), policies["catch-all"]), button=("move", "up"))
    page = client.get(response["Location"])
    assert "must be the last active policy" in " ".join(messages_of(page))
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == [
        "Urgent Tier 1",
        "Cases",
        "Everything else",
    ]


def test_a_malformed_reorder_is_a_message_not_an_error(client, portal_admin, policies):
    client.force_login(portal_admin)
    url = reverse("support:sla_policy_move", args=[policies["cases"].pk])
    for data in ({}, {"move": "sideways"}):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert messages_of(response)
    response = client.post(
        reverse("support:sla_policy_move", args=[policies["urgent"].pk]), {"move": "up"}, follow=True
    )
    assert "already first" in " ".join(messages_of(response))
    assert client.post(reverse("support:sla_policy_move", args=[99999999]), {"move": "up"}).status_code == 404


# --- which policy applies? --------------------------------------------------------------------


def which(client, item):
    form = form_on(client.get(link_to(overview(client), "Which policy applies?")), has_field="item")
    return submit(client, form, item=item)


def test_which_policy_for_a_case_shows_each_policy_and_the_failed_condition(client, specialist, policies):
    account = make_account(owner=specialist, tier_rank=2)
    case = dispute_file(by=specialist, account=account, category="order_execution", claim="Partial fill.")
    client.force_login(specialist)
    response = which(client, case.reference.lower())
    assert response.status_code == 200
    verdicts = response.context["verdicts"]
    assert [(v.policy.name, v.applies, v.matched) for v in verdicts] == [
        ("Urgent Tier 1", False, False),
        ("Cases", True, True),
        ("Everything else", False, True),
    ]
    assert verdicts[0].reason == f"Tier is {tier(2).name}; this policy needs {tier(1).name}."
    assert "earlier policy applies" in verdicts[2].reason
    assert "Cases applies: Resolution 72 h, counted in the calendar Office" in " ".join(
        response.content.decode().replace("<strong>", "").replace("</strong>", "").split()
    )
    assert link_to(response, case.reference) == reverse("disputes:case_detail", args=[case.reference])


def test_which_policy_for_a_conversation(client, leader, policies):
    conversation = make_conversation(make_account(tier_rank=1), priority="urgent")
    client.force_login(leader)
    response = which(client, conversation.intercom_id)
    assert response.status_code == 200
    verdicts = response.context["verdicts"]
    assert [v.applies for v in verdicts] == [True, False, False]
    assert verdicts[1].reason == "Kind is Conversation; this policy needs Case."
    assert ("Priority", "Urgent") in response.context["facts"]


def test_which_policy_names_the_policy_routing_chose_over_the_matching(client, specialist, policies):
    from support.models import RoutingDecision, SlaPolicy

    case = dispute_file(
        by=specialist, account=make_account(owner=specialist), category="order_execution", claim="x"
    )
    chosen = SlaPolicy.objects.get(name="Everything else")
    RoutingDecision.objects.create(
        case=case, sla_policy=chosen, reason="Rule “Whales”", decided_at=case.created_at
    )
    client.force_login(specialist)
    verdicts = which(client, case.reference).context["verdicts"]
    assert [(v.policy.name, v.applies) for v in verdicts] == [
        ("Urgent Tier 1", False),
        ("Cases", False),
        ("Everything else", True),
    ]
    assert verdicts[2].reason.startswith("Applies: routing chose it")
    assert verdicts[1].reason == "Not used: routing chose another policy for this item."


def test_which_policy_explains_an_inactive_policy(client, portal_admin, policies):
    from support.sla.policies import PolicyInput, policy_save

    urgent = policies["urgent"]
    policy_save(
        policy=urgent,
        data=PolicyInput(
            name=urgent.name,
            calendar=urgent.calendar,
            tiers=[tier(1)],
            priorities=["urgent"],
            first_response_minutes=60,
            is_active=False,
        ),
    )
    conversation = make_conversation(make_account(tier_rank=1), priority="urgent")
    client.force_login(portal_admin)
    verdicts = which(client, conversation.intercom_id).context["verdicts"]
    assert verdicts[0].reason == "Inactive: skipped."
    assert verdicts[2].applies


@pytest.mark.parametrize("item", ["DSP-2026-99999", "DSP-nonsense", "123456789", "hello", "9" * 60])
def test_which_policy_for_an_unknown_item_says_so_on_the_form(client, specialist, policies, item):
    client.force_login(specialist)
    response = which(client, item)
    assert response.status_code == 400
    assert response.context["form"].errors["item"]
    assert "verdicts" not in response.context


def test_which_policy_says_when_nothing_applies(client, leader, policies):
    from support.sla.policies import policy_delete

    policy_delete(policy=policies["catch-all"])
    conversation = make_conversation(priority="urgent")  # no known account: no tier, no venue
    client.force_login(leader)
    response = which(client, conversation.intercom_id)
    assert response.status_code == 200
    assert response.context["applied"] is None
    assert "No active policy matches" in response.content.decode()
    assert ("Tier", "none (no account)") in response.context["facts"]
    assert (
        response.context["verdicts"][0].reason
        == f"Tier is none (no account); this policy needs {tier(1).name}."
    )
