"""Routing in a real browser. An Admin reorders, switches and tests the demo's rules on the routing
page, then adds a rule (refused without its person, saved with one), opens it and deletes it. A
Specialist sets their working hours (a wrong window explained, then saved) and marks themselves
away and back from the header's menu, on a laptop and on a phone."""

import datetime as dt
import re
import zoneinfo

from django.utils import timezone
from playwright.sync_api import expect

from portal.models import User
from portal.tests.browser import LAPTOP, PHONE, check_page, open_from_nav, sign_in
from support.models import RoutingRule, RoutingTeam

TOP_TIER = "Top-tier traders go to their owner"
BIG = "Big market-resolution disputes: urgent, to the desk"
REST = "Everything else: the owner, else the desk"
NEW_RULE = "Cases to the second specialist"


def rule_names(page):
    """The routing table's rule names, top to bottom."""
    return page.get_by_role("region", name="Routing rules").locator("tbody tr td:nth-child(2)")


def rule_row(page, name: str):
    return page.get_by_role("region", name="Routing rules").get_by_role("row").filter(has_text=name)


def messages(page):
    return page.locator("ul.messages")


def test_an_admin_reorders_switches_and_tests_the_routing_rules(demo, page):
    page.set_viewport_size(PHONE)
    sign_in(page, demo, "admin")
    open_from_nav(page, "Routing")  # from the header on a phone, under More when it is there
    expect(page.get_by_role("heading", name="Routing", exact=True)).to_be_visible()
    expect(rule_names(page)).to_have_text([TOP_TIER, BIG, REST])  # the walk checks this page

    page.set_viewport_size(LAPTOP)
    rule_row(page, REST).get_by_role("button", name=re.compile(r"^Up")).click()
    expect(messages(page)).to_contain_text(f"“{REST}” is rule 2.")
    expect(rule_names(page)).to_have_text([TOP_TIER, REST, BIG])
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == [
        TOP_TIER,
        REST,
        BIG,
    ]

    rule_row(page, REST).get_by_role("button", name=re.compile(r"^Switch off")).click()
    expect(messages(page)).to_contain_text(f"“{REST}” is off.")
    expect(rule_row(page, REST).locator(".badge")).to_have_text("Off")
    expect(rule_row(page, REST).get_by_role("button", name=re.compile(r"^Switch on"))).to_be_visible()
    assert not RoutingRule.objects.get(name=REST).is_active

    # A described case: not top-tier, the switched-off rule skipped, the big-dispute rule decides.
    test = page.locator("#test")
    test.get_by_label("Kind").select_option(label="Case")
    test.get_by_label("Case category").select_option(label="Market resolution")
    test.get_by_label("Amount at stake").fill("25000")
    test.get_by_label("Title and message").fill("The market resolved No; I held Yes.")
    test.get_by_role("button", name="Test the rules").click()
    expect(test.get_by_role("heading", name="The item described")).to_be_visible()
    expect(test.locator(".item-list li")).to_have_text(
        [
            re.compile(rf"^No 1\. {re.escape(TOP_TIER)}: .*does not match"),
            re.compile(rf"^No 2\. {re.escape(REST)}: inactive: skipped"),
            re.compile(rf"^Decides 3\. {re.escape(BIG)}: "),
        ]
    )
    verdict = test.locator("p strong").inner_text()
    desk = RoutingTeam.objects.get(name="Advanced support desk")
    members = [person.display_name for person in desk.members.all()]
    assert re.fullmatch(r".+ would get it \(Advanced support desk\)\.", verdict), verdict
    assert any(verdict.startswith(f"{name} would get it") for name in members), (verdict, members)
    check_page(page, "routing-test-result")
    page.set_viewport_size(PHONE)
    check_page(page, "routing-test-result", accessibility=False)

    rule_row(page, REST).get_by_role("button", name=re.compile(r"^Switch on")).click()
    expect(messages(page)).to_contain_text(f"“{REST}” is on.")
    expect(rule_row(page, REST).locator(".badge")).to_have_text("On")
    assert RoutingRule.objects.get(name=REST).is_active


def test_an_admin_adds_a_rule_fixes_its_missing_person_then_deletes_it(demo, page):
    person = User.objects.get(username="specialist2")
    page.set_viewport_size(LAPTOP)
    sign_in(page, demo, "admin")
    page.goto(f"{demo.url}/support/routing/")
    page.get_by_role("link", name="Add a rule").click()
    expect(page.get_by_role("heading", name="New routing rule")).to_be_visible()  # the walk checks it

    page.get_by_label("Name", exact=True).fill(NEW_RULE)
    page.get_by_label("Case", exact=True).check()
    page.get_by_label("A named person").check()
    page.get_by_role("button", name="Save rule").click()
    chosen = page.get_by_label(re.compile(r"^Person"))
    person_row = page.locator(".form-row", has=chosen)
    expect(person_row.locator(".errorlist")).to_have_text("Choose the person who gets it.")
    expect(page.get_by_label("Name", exact=True)).to_have_value(NEW_RULE)
    expect(page.get_by_label("Case", exact=True)).to_be_checked()
    assert not RoutingRule.objects.filter(name=NEW_RULE).exists()
    check_page(page, "routing-rule-missing-person")
    page.set_viewport_size(PHONE)
    check_page(page, "routing-rule-missing-person", accessibility=False)  # axe: the same page

    chosen.select_option(label=f"{person.get_full_name()} ({person.username})")
    page.get_by_role("button", name="Save rule").click()
    expect(messages(page)).to_contain_text(f"Rule “{NEW_RULE}” saved as rule 4.")
    expect(rule_names(page)).to_have_text([TOP_TIER, BIG, REST, NEW_RULE])
    rule = RoutingRule.objects.get(name=NEW_RULE)
    assert (rule.position, rule.kinds, rule.assign, rule.person) == (4, ["case"], "person", person)

    page.get_by_role("link", name=NEW_RULE, exact=True).click()
    expect(page.get_by_role("heading", name=f"Rule 4: {NEW_RULE}")).to_be_visible()
    page.get_by_role("link", name="Delete rule").click()
    expect(page.get_by_role("heading", name=f"Delete rule {NEW_RULE}?")).to_be_visible()
    check_page(page, "routing-rule-delete")
    page.set_viewport_size(LAPTOP)
    check_page(page, "routing-rule-delete", accessibility=False)
    page.get_by_role("button", name="Delete rule").click()
    expect(messages(page)).to_contain_text(f"Rule “{NEW_RULE}” deleted.")
    expect(rule_names(page)).to_have_text([TOP_TIER, BIG, REST])
    assert not RoutingRule.objects.filter(name=NEW_RULE).exists()


def test_a_specialist_sets_working_hours_and_a_wrong_window_is_explained(demo, page):
    me = User.objects.get(username="specialist")
    before = me.working_hours
    page.set_viewport_size(LAPTOP)
    sign_in(page, demo, "specialist")
    page.locator("details.user-menu > summary").click()
    page.get_by_role("link", name="Preferences and time zone").click()
    hours = page.get_by_role("region", name="Working hours")
    hours.get_by_label("Monday").fill("09:00-17:00")
    hours.get_by_label("Tuesday").fill("25:00-26:00")
    hours.get_by_role("button", name="Save working hours").click()

    hours = page.get_by_role("region", name="Working hours")
    tuesday = hours.locator(".form-row", has=page.get_by_label("Tuesday"))
    expect(tuesday.locator(".errorlist")).to_have_text("25:00 is not a time of day.")
    expect(hours.get_by_label("Monday")).to_have_value("09:00-17:00")
    me.refresh_from_db()
    assert me.working_hours == before  # nothing saved, Monday's good window included
    check_page(page, "working-hours-error")
    page.set_viewport_size(PHONE)
    check_page(page, "working-hours-error", accessibility=False)  # axe: the same page

    hours.get_by_label("Tuesday").fill("10:00-12:00, 13:00-18:30")
    hours.get_by_role("button", name="Save working hours").click()
    expect(messages(page)).to_contain_text("Your working hours are saved.")
    hours = page.get_by_role("region", name="Working hours")
    expect(hours.get_by_label("Monday")).to_have_value("09:00-17:00")
    expect(hours.get_by_label("Tuesday")).to_have_value("10:00-12:00, 13:00-18:30")
    me.refresh_from_db()
    by_day = {day: [w[1:] for w in me.working_hours if w[0] == day] for day in range(7)}
    assert by_day[0] == [[540, 1020]]
    assert by_day[1] == [[600, 720], [780, 1110]]


def test_a_specialist_marks_themselves_away_and_back_from_the_header_on_a_phone(demo, page):
    me = User.objects.get(username="specialist2")
    assert not me.is_away
    zone = zoneinfo.ZoneInfo(me.time_zone)
    back_at = (timezone.now().astimezone(zone) + dt.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    page.set_viewport_size(PHONE)
    sign_in(page, demo, "specialist2")
    menu = page.locator("details.user-menu")
    expect(menu.locator("summary .badge")).to_have_count(0)
    menu.locator("summary").click()
    menu.get_by_label("Back at").fill(back_at.strftime("%Y-%m-%dT%H:%M"))
    menu.get_by_role("button", name="Mark me away").click()

    expect(messages(page)).to_contain_text("You are marked away: nothing new is routed to you.")
    expect(menu.locator("summary .badge")).to_have_text("Away")
    expect(menu.locator("summary")).to_have_attribute("aria-label", re.compile(r", away$"))
    me.refresh_from_db()
    assert me.is_away and me.away_until == back_at
    check_page(page, "header-away")
    menu.locator("summary").click()
    expect(menu).to_contain_text(f"Away until {back_at:%a} {back_at.day} {back_at:%b}, 09:00")
    menu.get_by_role("button", name="I'm back").click()

    expect(messages(page)).to_contain_text("Welcome back.")
    expect(menu.locator("summary .badge")).to_have_count(0)
    expect(menu.locator("summary")).not_to_have_attribute("aria-label", re.compile(r"away"))
    me.refresh_from_db()
    assert not me.is_away and me.away_until is None

    page.set_viewport_size(LAPTOP)  # the same toggle in the laptop header, without a return time
    menu.locator("summary").click()
    menu.get_by_role("button", name="Mark me away").click()
    expect(menu.locator("summary .badge")).to_have_text("Away")
    me.refresh_from_db()
    assert me.is_away and me.away_until is None
    menu.locator("summary").click()
    expect(menu).to_contain_text("Away: nothing new is routed to you.")
    menu.get_by_role("button", name="I'm back").click()
    expect(menu.locator("summary .badge")).to_have_count(0)
    me.refresh_from_db()
    assert not me.is_away
