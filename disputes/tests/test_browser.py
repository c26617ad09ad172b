"""A Specialist's dispute in a real browser: filed from the account page, evidence uploaded, decided
by keyboard alone with two citations picked from the market's rules as the page shows them, the
printable case file with the cited words marked, and a reply from a template sent to Intercom."""

import io
import re

from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Account, Venue
from disputes.models import Market
from integrations.intercom.sender import drain
from integrations.models import IntercomAdmin, SyncJob
from playbooks.models import ResponseTemplate
from portal.tests.browser import LAPTOP, PHONE, check_page, columns_cut, open_from_nav, sign_in

CLAIM = "The market resolved No although the rules say the announcement counts. I held Yes."


def focused(page) -> dict:
    """The focused element: its label's text (or its own), its tag, and whether focus is drawn."""
    return page.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
          const label = e.labels && e.labels[0] ? e.labels[0].textContent.trim() : e.textContent.trim();
          return {label, tag: e.tagName, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0}; }"""
    )


def sentences(text: str) -> list[str]:
    """Whole sentences of a rule text as the page shows it, long enough to be worth citing."""
    return [
        s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 40 <= len(s.strip()) <= 300 and "\n" not in s
    ]


def file_case(page, account, market, conversation_id: str) -> str:
    open_from_nav(page, "Accounts")
    page.get_by_role("link", name=account.display_name, exact=True).click()
    page.get_by_role("link", name="File a dispute").click()
    expect(page.get_by_label("Amount at stake (USDC)")).to_be_visible()  # the account's currency
    page.get_by_label("Category").select_option(label="Market resolution")
    page.get_by_label(re.compile(r"^Market")).fill(market.slug)
    page.get_by_label(re.compile(r"^Claim")).fill(CLAIM)
    page.get_by_label("Amount at stake (USDC)").fill("2500")
    page.get_by_label(re.compile(r"^Intercom conversation id")).fill(conversation_id)
    page.get_by_role("button", name="File the case").click()
    expect(page.get_by_text(re.compile(r"Case DSP-\d{4}-\d+ filed"))).to_be_visible()
    expect(page.get_by_text("2,500.00 USDC at stake")).to_be_visible()
    return re.search(r"DSP-\d{4}-\d+", page.url).group(0)


def add_file_evidence(page) -> None:
    page.locator("summary", has_text="Add evidence").click()
    page.get_by_label("Evidence", exact=True).select_option(label="File")
    page.get_by_label(re.compile(r"^File")).set_input_files(
        {"name": "order-history.csv", "mimeType": "text/csv", "buffer": b"time,side,price\n09:30,yes,0.62\n"}
    )
    page.get_by_label("Description").fill("The user's export of their order history")
    page.get_by_role("button", name="Add evidence").click()
    evidence = page.locator("section[aria-labelledby='evidence-heading']")
    expect(evidence.get_by_role("link", name="order-history.csv")).to_be_visible()


def decide_by_keyboard(page, excerpts: list[str]) -> list[str]:
    """Fill the decision form with the keyboard alone, from its first field to the button;
    return the labels in the order focus reached them."""
    page.get_by_label("Outcome", exact=True).focus()  # where a person's first Tab into the form lands
    labels, citation = [], 0
    for _ in range(40):
        state = focused(page)
        labels.append(state["label"])
        assert state["outline"], f"no visible focus on {state['label']!r}"
        label = state["label"]
        if label.startswith("Outcome"):
            page.keyboard.press("ArrowDown")  # Upheld → Denied
        elif label.startswith("Rationale"):
            page.keyboard.type(
                "The rules resolve on the official announcement, which came before the deadline."
            )
        elif label.startswith("Why this case differs"):  # earlier cases on this market decided otherwise
            page.keyboard.type("This user's order was placed after the announcement.")
        elif label.startswith("Cited rule") and citation < len(excerpts):
            page.keyboard.press("ArrowDown")  # the market's rules, the first source offered
        elif label.startswith("Excerpt") and citation < len(excerpts):
            page.keyboard.type(excerpts[citation])
            citation += 1
        elif state["tag"] == "BUTTON":
            page.keyboard.press("Enter")
            break
        page.keyboard.press("Tab")
    return labels


def test_a_specialist_files_evidences_decides_prints_and_replies(demo, intercom, page):
    me = get_user_model().objects.get(username="specialist")
    account = (
        Account.objects.filter(owner=me, status="active", venue=Venue.INTERNATIONAL).order_by("pk").first()
    )
    market = Market.objects.filter(current_version__isnull=False).order_by("pk").first()
    # The fake's workspace, not the demo's made-up teammates; the demo's queued contact updates
    # are not this test's.
    IntercomAdmin.objects.all().delete()
    SyncJob.objects.all().delete()
    call_command("intercom_setup", stdout=io.StringIO())
    contact = intercom.add_contact(role="user", external_id=account.external_id, email=account.email)
    conversation = intercom.add_conversation(contact["id"], "Why did this market resolve No?")
    page.set_viewport_size(LAPTOP)
    sign_in(page, demo, "specialist")

    reference = file_case(page, account, market, conversation["id"])
    add_file_evidence(page)

    rules = page.get_by_role(
        "region", name=re.compile(r"rules.*: the text", re.IGNORECASE)
    ).first.inner_text()
    excerpts = sentences(rules)[:2]
    assert len(excerpts) == 2, rules
    labels = decide_by_keyboard(page, excerpts)
    assert [label.split(" ")[0] for label in labels[:3]] == ["Outcome", "Rationale", "Remedy"]
    assert [label.split(" ")[0] for label in labels[-7:]] == ["Cited", "Excerpt"] * 3 + ["Record"]
    decision = page.get_by_role("region", name="Decision")
    expect(decision.get_by_role("heading", name=re.compile("Decision: Denied"))).to_be_visible()
    for excerpt in excerpts:
        expect(decision.get_by_text(excerpt)).to_be_visible()
    check_page(page, "specialist-case-decided")

    page.get_by_role("link", name="Printable case file").click()
    marked = page.locator("mark.cited").all_inner_texts()
    assert all(any(" ".join(e.split()) in " ".join(m.split()) for m in marked) for e in excerpts), marked
    check_page(page, "specialist-case-print")
    page.go_back()

    template = (
        ResponseTemplate.objects.filter(serves="market_resolution", is_active=True).order_by("pk").first()
    )
    page.get_by_role("link", name=template.name).click()
    reply = page.get_by_role("textbox", name="Reply", exact=True)
    expect(reply).not_to_have_value("")
    reply.fill(reply.input_value() + "\n\nThe decision and the rule it rests on are in the case file.")
    page.get_by_role("button", name="Send to the user in Intercom").click()
    expect(page.get_by_text("Waiting to be sent to Intercom")).to_be_visible()
    assert not drain().errors  # the outbox's pass: the contact update filing queued, then the reply
    page.reload()
    history = page.locator("section[aria-labelledby='history-heading']")
    expect(history.get_by_text("Intercom took the reply")).to_be_visible()
    sent = intercom.get_conversation(conversation["id"])
    assert "The decision and the rule it rests on" in str(sent)

    page.set_viewport_size(PHONE)
    check_page(page, f"specialist-case-{reference}-replied", accessibility=False)

    page.set_viewport_size({"width": 1366, "height": 768})  # the market's cases, this one among them
    page.get_by_role("link", name=market.question).first.click()
    cases = page.locator("section[aria-labelledby='cases-heading']")
    expect(cases.get_by_role("link", name=reference)).to_be_visible()
    assert columns_cut(page) == []
    lines = cases.get_by_role("link", name=reference).evaluate("a => a.getClientRects().length")
    assert lines == 1, f"{reference} wraps over {lines} lines"
