"""Bad SLA configuration gets a clear message on the field at fault and writes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from support.models import BusinessCalendar, Holiday, OpeningWindow, SlaPolicy
from support.sla.calendars import (
    HolidayInput,
    WindowInput,
    calendar_delete,
    calendar_holidays_add,
    calendar_save,
)
from support.sla.policies import PolicyInput, policies_reorder, policy_delete, policy_save
from support.tests.factories import make_calendar, make_policy, week

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything SLA configuration consists of, to prove a refused write left it as it was."""
    return (
        list(BusinessCalendar.objects.values_list("pk", "name", "time_zone", "description")),
        list(OpeningWindow.objects.values_list("calendar", "weekday", "start_minute", "end_minute")),
        list(Holiday.objects.values_list("calendar", "name", "first_day", "last_day")),
        list(SlaPolicy.objects.values()),
        list(SlaPolicy.tiers.through.objects.values_list("slapolicy", "tier")),
    )


def refused(action, **kwargs) -> dict[str, list[str]]:
    """Run a write that must be refused: its errors by field, after checking nothing changed."""
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        action(**kwargs)
    assert snapshot() == before
    return error.value.message_dict


@pytest.fixture
def office():
    return make_calendar("Office")


def save_office(office, **changes):
    fields = {
        "calendar": office,
        "name": "Office",
        "time_zone": "Europe/London",
        "windows": week(),
        **changes,
    }
    return calendar_save(**fields)


def test_calendar_without_any_window_is_refused(office):
    errors = refused(save_office, office=office, windows=[])
    assert errors == {
        "windows": ["A calendar needs at least one opening window (24/7 is 00:00–24:00 every day)."]
    }


def test_calendar_open_only_outside_holidays_is_fine(office):
    saved = save_office(office, holidays=[HolidayInput("Closed", dt.date(2026, 1, 1), dt.date(2026, 12, 31))])
    assert saved.holidays.count() == 1


def test_window_that_ends_before_it_starts_is_refused(office):
    errors = refused(save_office, office=office, windows=[WindowInput(1, 22 * 60, 6 * 60)])
    assert errors["windows"] == [
        "Tuesday: the window 22:00–06:00 ends before it starts (a night shift is two windows: "
        "until 24:00, and from 00:00 the next day)."
    ]


def test_empty_window_is_refused(office):
    errors = refused(save_office, office=office, windows=[WindowInput(0, 540, 540)])
    assert "Monday: the window 09:00–09:00 ends before it starts" in errors["windows"][0]


def test_window_past_midnight_or_unknown_weekday_is_refused(office):
    errors = refused(save_office, office=office, windows=[WindowInput(2, 600, 1500), WindowInput(7, 0, 60)])
    assert errors["windows"] == [
        "Wednesday: a window runs within the day, from 00:00 to 24:00 at the latest.",
        "7 is not a weekday (0 is Monday, 6 is Sunday).",
    ]


def test_overlapping_windows_on_a_day_are_refused_but_touching_ones_are_fine(office):
    errors = refused(
        save_office,
        office=office,
        windows=[WindowInput(4, 13 * 60, 17 * 60), WindowInput(4, 9 * 60, 13 * 60 + 30)],
    )
    assert errors == {"windows": ["Friday: 09:00–13:30 overlaps 13:00–17:00."]}
    saved = save_office(office, windows=[WindowInput(4, 13 * 60, 17 * 60), WindowInput(4, 9 * 60, 13 * 60)])
    assert saved.spec().windows[4] == ((540, 780), (780, 1020))


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "europe/london", "../etc/passwd"])
def test_unknown_time_zone_is_refused(office, zone):
    errors = refused(save_office, office=office, time_zone=zone)
    assert errors == {
        "time_zone": [f"“{zone}” is not a known time zone: use an IANA name such as Europe/London."]
    }


def test_bad_holidays_are_refused(office):
    errors = refused(
        save_office,
        office=office,
        holidays=[
            HolidayInput("Backwards", dt.date(2026, 5, 2), dt.date(2026, 5, 1)),
            HolidayInput(" ", dt.date(2026, 5, 1), dt.date(2026, 5, 1)),
            HolidayInput("Sabbatical", dt.date(2026, 1, 1), dt.date(2027, 1, 2)),
        ],
    )
    assert errors == {
        "holidays": [
            "Backwards: can’t end (2026-05-01) before it starts (2026-05-02).",
            "Every holiday needs a name.",
            "Sabbatical: a holiday lasts a year at most.",
        ]
    }


def test_calendar_name_is_required_and_unique(office):
    assert refused(calendar_save, name=" ", time_zone="UTC", windows=week()) == {
        "name": ["Give the calendar a name."]
    }
    assert refused(calendar_save, name="office", time_zone="UTC", windows=week()) == {
        "name": ["There is already a calendar named “office”."]
    }


def test_every_problem_of_a_calendar_is_reported_at_once(office):
    errors = refused(save_office, office=office, name="", time_zone="Nowhere", windows=[])
    assert set(errors) == {"name", "time_zone", "windows"}


def test_saving_a_calendar_replaces_its_windows_and_holidays(office):
    save_office(
        office,
        windows=[WindowInput(6, 0, 1440)],
        holidays=[HolidayInput("Boxing Day", dt.date(2026, 12, 26), dt.date(2026, 12, 26))],
    )
    office.refresh_from_db()
    assert office.spec().windows == ((), (), (), (), (), (), ((0, 1440),))
    assert office.spec().holidays == frozenset({dt.date(2026, 12, 26)})


def test_deleting_a_calendar_a_policy_uses_is_refused(office):
    make_policy("Uses the office", calendar=office, tiers=[], kinds=["case"])
    errors = refused(calendar_delete, calendar=office)
    assert errors == {
        NON_FIELD_ERRORS: ["“Office” is in use by “Uses the office”: give them another calendar first."]
    }


def test_deleting_an_unused_calendar_takes_its_windows_and_holidays(office):
    calendar = make_calendar(
        "Spare", holidays=[HolidayInput("Day", dt.date(2026, 1, 1), dt.date(2026, 1, 1))]
    )
    calendar_delete(calendar=calendar)
    assert not BusinessCalendar.objects.filter(name="Spare").exists()
    assert not OpeningWindow.objects.filter(calendar_id=calendar.pk).exists()
    assert not Holiday.objects.filter(calendar_id=calendar.pk).exists()


# Policies


@pytest.mark.parametrize("field", ["first_response_minutes", "next_response_minutes", "resolution_minutes"])
@pytest.mark.parametrize("value", [0, -5, 525_601])
def test_target_not_above_zero_or_above_a_year_is_refused(office, field, value):
    errors = refused(
        policy_save, data=PolicyInput(name="Bad", calendar=office, kinds=["case"], **{field: value})
    )
    assert errors == {field: ["A target is between 1 minute and one year (525,600 minutes)."]}


def test_a_target_of_exactly_one_year_is_fine(office):
    assert (
        make_policy("Slow", calendar=office, kinds=["case"], resolution_minutes=525_600).resolution_minutes
        == 525_600
    )


def test_policy_without_any_target_is_refused(office):
    errors = refused(policy_save, data=PolicyInput(name="Empty", calendar=office, kinds=["case"]))
    assert errors == {
        NON_FIELD_ERRORS: ["Set at least one target: first response, next response or resolution."]
    }


def test_warning_lead_must_be_within_a_year(office):
    data = PolicyInput(
        name="Warn", calendar=office, kinds=["case"], first_response_minutes=60, warn_minutes=-1
    )
    assert refused(policy_save, data=data) == {
        "warn_minutes": ["Warn between 0 minutes and one year (525,600 minutes) ahead."]
    }


def test_unknown_condition_codes_are_refused(office):
    data = PolicyInput(
        name="Odd",
        calendar=office,
        first_response_minutes=60,
        kinds=["ticket"],
        venues=["moon"],
        priorities=["p1"],
    )
    errors = refused(policy_save, data=data)
    assert errors == {
        "kinds": ["Unknown kinds: ticket (use conversation, case)."],
        "priorities": ["Unknown priorities: p1 (use urgent, high, normal, low)."],
        "venues": ["Unknown venues: moon (use international, us)."],
    }


def test_policy_name_is_required_and_unique(office):
    make_policy("Cases", calendar=office, kinds=["case"])
    data = PolicyInput(name="cases", calendar=office, first_response_minutes=5)
    assert refused(policy_save, data=data) == {"name": ["There is already a policy named “cases”."]}
    data = PolicyInput(name="", calendar=office, first_response_minutes=5)
    assert refused(policy_save, data=data) == {"name": ["Give the policy a name."]}


@pytest.fixture
def just_a_catch_all(office):
    """The list with the seeded policies removed: one condition policy, then a catch-all."""
    SlaPolicy.objects.all().delete()
    conditional = make_policy("Cases", calendar=office, kinds=["case"])
    catch_all = make_policy("Everything", calendar=office)
    return conditional, catch_all


def test_catch_all_moved_before_another_active_policy_is_refused(just_a_catch_all):
    conditional, catch_all = just_a_catch_all
    errors = refused(policies_reorder, order=[catch_all.pk, conditional.pk])
    assert errors == {
        "order": [
            "“Everything” has no condition, so it matches everything: it must be the last active policy, "
            "but “Cases” comes after it."
        ]
    }


def test_a_second_catch_all_is_refused_unless_inactive(just_a_catch_all, office):
    _, catch_all = just_a_catch_all
    errors = refused(
        policy_save, data=PolicyInput(name="Also everything", calendar=office, first_response_minutes=9)
    )
    assert errors == {
        NON_FIELD_ERRORS: [
            "“Everything” has no condition, so it matches everything: it must be the last active policy, "
            "but “Also everything” comes after it."
        ]
    }
    spare = policy_save(
        data=PolicyInput(name="Spare", calendar=office, first_response_minutes=9, is_active=False)
    )
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["Cases", "Everything", "Spare"]
    assert spare.position > catch_all.position


def test_removing_every_condition_of_a_policy_before_the_catch_all_is_refused(just_a_catch_all, office):
    conditional, _ = just_a_catch_all
    errors = refused(
        policy_save,
        policy=conditional,
        data=PolicyInput(name="Cases", calendar=office, first_response_minutes=60),
    )
    assert errors[NON_FIELD_ERRORS][0].startswith("“Cases” has no condition")


def test_reactivating_a_policy_after_the_catch_all_is_refused(just_a_catch_all, office):
    make_policy("Late", calendar=office, kinds=["case"], is_active=False)
    late = SlaPolicy.objects.get(name="Late")
    data = PolicyInput(
        name="Late", calendar=office, kinds=["case"], first_response_minutes=60, is_active=True
    )
    errors = refused(policy_save, policy=late, data=data)
    assert errors == {
        NON_FIELD_ERRORS: [
            "“Everything” has no condition, so it matches everything: it must be the last active policy, "
            "but “Late” comes after it."
        ]
    }


def test_reorder_must_list_every_policy_once(just_a_catch_all):
    conditional, catch_all = just_a_catch_all
    for order in (
        [conditional.pk],
        [conditional.pk, conditional.pk, catch_all.pk],
        [conditional.pk, catch_all.pk, 0],
    ):
        assert refused(policies_reorder, order=order) == {"order": ["List every policy exactly once."]}


def test_deleting_a_policy_anything_protects_is_refused(just_a_catch_all, office):
    """Today nothing protects a policy yet; the applied clocks will (on_delete=PROTECT). A test
    model is not worth a migration, so this pins the rule through a stand-in reference."""
    from support.sla import deleting

    conditional, _ = just_a_catch_all
    original = deleting.references
    deleting.references = lambda obj: {"applied SLA clocks": 3} if obj.pk == conditional.pk else original(obj)
    try:
        errors = refused(policy_delete, policy=conditional)
    finally:
        deleting.references = original
    assert errors == {
        NON_FIELD_ERRORS: ["The policy “Cases” is in use (3 applied SLA clocks) and can’t be deleted."]
    }


def test_deleting_an_unused_policy_keeps_the_rest_in_order(just_a_catch_all):
    conditional, _ = just_a_catch_all
    policy_delete(policy=conditional)
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["Everything"]


def test_a_refused_policy_save_leaves_the_tiers_as_they_were(just_a_catch_all, office):
    from accounts.tests.factories import tier

    conditional, _ = just_a_catch_all
    policy_save(
        policy=conditional,
        data=PolicyInput(
            name="Cases", calendar=office, kinds=["case"], tiers=[tier(1)], first_response_minutes=60
        ),
    )
    data = PolicyInput(
        name="Cases", calendar=office, kinds=["case"], tiers=[tier(2)], first_response_minutes=0
    )
    refused(policy_save, policy=conditional, data=data)
    assert list(conditional.tiers.all()) == [tier(1)]


def test_adding_holidays_skips_the_ones_already_there_and_refuses_bad_ones(office):
    christmas = HolidayInput("Christmas Day", dt.date(2026, 12, 25), dt.date(2026, 12, 25))
    boxing = HolidayInput("Boxing Day", dt.date(2026, 12, 26), dt.date(2026, 12, 26))
    assert calendar_holidays_add(calendar=office, holidays=[christmas]) == 1
    assert calendar_holidays_add(calendar=office, holidays=[christmas, boxing]) == 1
    assert office.spec().holidays == frozenset({dt.date(2026, 12, 25), dt.date(2026, 12, 26)})
    backwards = HolidayInput("Backwards", dt.date(2027, 1, 2), dt.date(2027, 1, 1))
    new_year = HolidayInput("New Year", dt.date(2027, 1, 1), dt.date(2027, 1, 1))
    errors = refused(calendar_holidays_add, calendar=office, holidays=[new_year, backwards])
    assert errors == {"holidays": ["Backwards: can’t end (2027-01-01) before it starts (2027-01-02)."]}
