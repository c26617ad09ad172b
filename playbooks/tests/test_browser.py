"""Two Specialists edit the same playbook at once, each in their own browser: the first save wins,
the second gets the conflict page with both diffs and keeps every word they typed."""

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from playbooks.models import Playbook
from portal.tests.browser import LAPTOP, check_page, open_from_nav, sign_in


def open_editor(page, live_server, username: str, playbook: Playbook) -> None:
    sign_in(page, live_server, username)
    open_from_nav(page, "Playbooks")
    page.get_by_role("link", name=playbook.title, exact=True).click()
    page.get_by_role("link", name="Edit", exact=True).click()


def test_the_second_of_two_simultaneous_edits_gets_the_conflict_page_and_keeps_its_text(demo, browser, page):
    colleague = (
        get_user_model().objects.filter(groups__name="Specialist").exclude(username="specialist").first()
    )
    playbook = Playbook.objects.filter(status="published").order_by("pk").first()
    revisions = playbook.revision_count
    other = browser.new_context(viewport=LAPTOP).new_page()
    page.set_viewport_size(LAPTOP)
    open_editor(page, demo, "specialist", playbook)
    open_editor(other, demo, colleague.username, playbook)

    body = page.get_by_label("Body")
    body.fill(
        body.input_value() + "\n\nCall the user back within the hour when the amount exceeds 50,000 USDC."
    )
    page.get_by_label("Change summary").fill("Call-back rule for large amounts")
    page.get_by_role("button", name="Save a new revision").click()
    expect(page.get_by_text("Call the user back within the hour")).to_be_visible()

    mine = "Quote the market's rules word for word before giving the outcome."
    theirs = other.get_by_label("Body")
    theirs.fill(theirs.input_value() + "\n\n" + mine)
    other.get_by_label("Change summary").fill("Quote the rules first")
    other.get_by_role("button", name="Save a new revision").click()

    conflict = other.locator("section[aria-labelledby='conflict-heading']")
    expect(conflict.locator("#conflict-heading")).to_contain_text("Call-back rule for large amounts")
    expect(conflict).to_contain_text("What they changed since you opened the page")
    expect(conflict).to_contain_text("Call the user back within the hour")
    assert mine in other.get_by_label("Body").input_value()  # nothing they typed is lost
    check_page(other, "specialist-playbook-conflict")
    playbook.refresh_from_db()
    assert playbook.revision_count == revisions + 1  # the first save only
    assert "Call the user back" in playbook.current_revision.body
    assert mine not in playbook.current_revision.body
