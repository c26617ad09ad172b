"""Holiday sources (support/sla/holiday_sources.py): a country's public holidays from the `holidays`
package and holidays imported from iCalendar files. No network: the package ships its rules."""

import datetime as dt

import pytest

from support.sla.holiday_sources import holidays_from_ical, public_holidays


def ics(*events: str) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}@example.com\r\n{event}END:VEVENT\r\n" for n, event in enumerate(events)
    )
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Holidays//EN\r\n{body}END:VCALENDAR\r\n".encode()
    )


def test_us_2026_holidays_include_the_observed_independence_day():
    found = public_holidays("US", [2026])
    assert ("Independence Day (observed)", dt.date(2026, 7, 3), dt.date(2026, 7, 3)) in found
    assert ("Independence Day", dt.date(2026, 7, 4), dt.date(2026, 7, 4)) in found
    assert ("Thanksgiving Day", dt.date(2026, 11, 26), dt.date(2026, 11, 26)) in found
    assert [first for _, first, _ in found] == sorted(first for _, first, _ in found)
    assert len(found) == 12


def test_a_subdivision_adds_its_own_holidays():
    national = {name for name, _, _ in public_holidays("US", [2026])}
    california = {name for name, _, _ in public_holidays("US", [2026], subdivision="CA")}
    assert "Cesar Chavez Day" in california - national


def test_consecutive_days_with_one_name_become_a_range():
    # Chinese New Year's holiday runs over several consecutive days under one name.
    ranges = [(name, first, last) for name, first, last in public_holidays("CN", [2026]) if last > first]
    assert ranges
    assert all((last - first).days >= 1 for _, first, last in ranges)


def test_an_unknown_country_or_subdivision_is_a_clear_error():
    with pytest.raises(ValueError, match="No public holidays are known for XX"):
        public_holidays("XX", [2026])
    with pytest.raises(ValueError, match="US / ZZ"):
        public_holidays("US", [2026], subdivision="ZZ")


def test_an_all_day_event_ends_the_day_before_its_exclusive_dtend():
    data = ics(
        "SUMMARY:Christmas break\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20270102\r\n",
        "SUMMARY:Boxing Day\r\nDTSTART;VALUE=DATE:20261226\r\n",
        "SUMMARY:Long weekend\r\nDTSTART;VALUE=DATE:20260605\r\nDURATION:P3D\r\n",
    )
    assert holidays_from_ical(data) == [
        ("Long weekend", dt.date(2026, 6, 5), dt.date(2026, 6, 7)),
        ("Christmas break", dt.date(2026, 12, 24), dt.date(2027, 1, 1)),
        ("Boxing Day", dt.date(2026, 12, 26), dt.date(2026, 12, 26)),
    ]


def test_a_timed_event_closes_the_local_dates_it_touches():
    data = ics(
        "SUMMARY:Offsite\r\nDTSTART;TZID=Europe/London:20261230T220000\r\nDTEND;TZID=Europe/London:20270101T020000\r\n",
        "SUMMARY:Afternoon off\r\nDTSTART:20260610T130000\r\nDTEND:20260611T000000\r\n",
        "SUMMARY:Late close\r\nDTSTART:20260701T230000Z\r\nDTEND:20260702T010000Z\r\n",
    )
    assert holidays_from_ical(data) == [
        ("Afternoon off", dt.date(2026, 6, 10), dt.date(2026, 6, 10)),
        ("Late close", dt.date(2026, 7, 1), dt.date(2026, 7, 2)),
        ("Offsite", dt.date(2026, 12, 30), dt.date(2027, 1, 1)),
    ]
    in_new_york = holidays_from_ical(data, time_zone="America/New_York")
    assert ("Late close", dt.date(2026, 7, 1), dt.date(2026, 7, 1)) in in_new_york
    assert ("Offsite", dt.date(2026, 12, 30), dt.date(2026, 12, 31)) in in_new_york


def test_cancelled_events_are_left_out_and_a_missing_summary_is_named():
    data = ics(
        "SUMMARY:Moved\r\nSTATUS:CANCELLED\r\nDTSTART;VALUE=DATE:20260501\r\n",
        "DTSTART;VALUE=DATE:20260502\r\n",
    )
    assert holidays_from_ical(data) == [("Holiday", dt.date(2026, 5, 2), dt.date(2026, 5, 2))]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Date,Name\n2026-12-25,Christmas\n",
        b"\xff\xfe\x00garbage",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Someone\r\nEND:VCARD\r\n",
    ],
    ids=["empty", "csv", "binary", "vcard"],
)
def test_a_file_that_is_not_icalendar_is_refused(data):
    with pytest.raises(ValueError, match="That file is not an iCalendar file"):
        holidays_from_ical(data)


def test_a_calendar_without_events_is_refused():
    with pytest.raises(ValueError, match="That file is not an iCalendar file of holidays: it has no events"):
        holidays_from_ical(ics())


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("SUMMARY:Undated\r\n", "“Undated” has no usable start"),
        ("SUMMARY:Bad date\r\nDTSTART;VALUE=DATE:20261345\r\n", "“Bad date” has no usable start"),
        ("SUMMARY:Every Friday\r\nDTSTART;VALUE=DATE:20260605\r\nRRULE:FREQ=WEEKLY\r\n", "repeats"),
    ],
)
def test_an_event_that_cannot_be_read_is_named_in_the_error(event, message):
    with pytest.raises(ValueError, match=message):
        holidays_from_ical(ics(event))


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="not a known time zone"):
        holidays_from_ical(ics("SUMMARY:X\r\nDTSTART;VALUE=DATE:20260605\r\n"), time_zone="Mars/Olympus")
