"""Decisions: several citations highlighted in the governing text, the governing version when
the rules changed, consistency across cases, the approval queue, past decisions by cited rule,
the printable case file, bulk changes from a market page and the account's timeline."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import AccountEvent
from accounts.tests.factories import make_account, specialist_user
from disputes.highlight import excerpt_spans, highlighted
from disputes.models import CaseEvent, Decision, DisputeCase
from disputes.services import clarification_record, market_upsert_from_gamma, rulebook_section_save
from disputes.services.cases import (
    CitationInput,
    cases_bulk_assign,
    cases_bulk_transition,
    dispute_decide,
    dispute_file,
)
from disputes.tests.factories import decision_form_data, gamma_market
from portal.tests.pages import form_on, link_to, links, submit

pytestmark = pytest.mark.django_db
RULE = "The resolution source for this market is information from Chainlink"
SECTION_TEXT = "Fees are charged on taker orders only.\nMaker orders pay no fee at any price."


@pytest.fixture
def market(specialist):
    return market_upsert_from_gamma(data=gamma_market(), by=specialist).market


@pytest.fixture
def section_version(portal_admin):
    section, _ = rulebook_section_save(
        by=portal_admin,
        venue="international",
        number="7",
        title="Fees",
        body=SECTION_TEXT,
        effective_from=timezone.now().date(),
    )
    return section.current_version


def _case(specialist, market=None, amount="0", category=None):
    return dispute_file(
        by=specialist,
        account=make_account(owner=specialist),
        category=category or ("market_resolution" if market else "order_execution"),
        market=market,
        claim="The market resolved wrongly.",
        amount_at_stake=Decimal(amount),
    )


def _decide(case, by, outcome="denied", **extra):
    citations = extra.pop("citations", None) or [
        CitationInput(excerpt=RULE, market_rule_version=case.market.current_version)
    ]
    return dispute_decide(
        case=case, by=by, outcome=outcome, rationale="Per the rules.", citations=citations, **extra
    )


# --- highlighting ----------------------------------------------------------------------------


def test_excerpts_are_found_across_line_breaks_and_curly_quotes():
    text = "Rule one.\nThe   market\nresolves “Yes” if it rains.\nRule three."
    spans = excerpt_spans(text, ['market resolves "Yes" if'])
    assert [text[a:b] for a, b in spans] == ["market\nresolves “Yes” if"]


def test_overlapping_excerpts_merge_and_rule_text_is_escaped():
    text = "<b>Bold</b> claim: A then B then C."
    html = str(highlighted(text, ["A then B", "B then C"]))
    assert html.count('<mark class="cited">') == 1
    assert '<mark class="cited">A then B then C</mark>' in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "<b>" not in html


def test_an_excerpt_not_in_the_text_marks_nothing():
    assert "<mark" not in str(highlighted("Some rules.", ["other words entirely"]))


# --- several citations, shown highlighted ------------------------------------------------------


def test_a_decision_with_two_citations_shows_both_marked(client, specialist, market, section_version):
    case = _case(specialist, market)
    client.force_login(specialist)
    response = client.post(
        reverse("disputes:case_decide", args=[case.reference]),
        decision_form_data(
            revision=case.revision,
            citations=[
                (f"m{market.current_version.pk}", RULE.replace(" ", "\n", 2)),
                (f"r{section_version.pk}", "Maker orders pay no fee"),
            ],
        ),
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.citations.count() == 2
    page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    assert page.count('<mark class="cited">') == 2
    assert "Rulebook §7 Fees v1" in page and "Maker orders pay no fee</mark>" in page


def test_the_decision_form_needs_a_citation_and_explains_half_filled_rows(client, specialist, market):
    case = _case(specialist, market)
    client.force_login(specialist)
    url = reverse("disputes:case_decide", args=[case.reference])
    none = client.post(url, decision_form_data(revision=case.revision))
    assert none.status_code == 400 and "must cite at least one rule" in none.content.decode()
    half = client.post(url, decision_form_data(revision=case.revision, citations=[("", RULE)]))
    assert half.status_code == 400 and "Choose the rule the excerpt is quoted from" in half.content.decode()
    too_many = decision_form_data(revision=case.revision)
    too_many["citation-TOTAL_FORMS"] = 1000
    assert client.post(url, too_many).status_code == 400
    assert not Decision.objects.exists()


# --- rules changed since filing ----------------------------------------------------------------


def test_rules_changed_since_filing_asks_which_version_governs(client, specialist, market):
    case = _case(specialist, market)
    filed_version = case.rule_version
    clarification_record(
        market=market,
        by=specialist,
        text="Ties resolve to No.",
        published_at=timezone.now(),
    )
    market.refresh_from_db()
    assert market.current_version != filed_version
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    assert "rules changed since filing" in page and "in force now" in page and "Governing rules" in page

    url = reverse("disputes:case_decide", args=[case.reference])
    citations = [(f"m{filed_version.pk}", RULE)]
    missing = client.post(url, decision_form_data(revision=case.revision, citations=citations))
    assert missing.status_code == 400
    assert "choose the version that governs" in missing.content.decode()
    assert "Say why that version governs" in missing.content.decode()

    ok = client.post(
        url,
        decision_form_data(
            revision=case.revision,
            citations=citations,
            governing_version=filed_version.pk,
            governing_reason="The trade happened before the clarification.",
        ),
    )
    assert ok.status_code == 302
    decision = Decision.objects.get()
    assert decision.governing_version == filed_version
    assert decision.governing_reason == "The trade happened before the clarification."


def test_a_governing_version_of_another_market_is_refused(specialist, market):
    other = market_upsert_from_gamma(
        data=gamma_market(id="999", conditionId="0x" + "9" * 64, slug="other"), by=specialist
    ).market
    case = _case(specialist, market)
    with pytest.raises(ValidationError) as error:
        _decide(case, specialist, governing_version=other.current_version)
    assert "another market" in str(error.value)


# --- consistency ------------------------------------------------------------------------------


def test_a_different_outcome_on_the_same_market_needs_a_reason(client, specialist, market):
    first = _case(specialist, market)
    _decide(first, specialist, outcome="denied")
    second = _case(specialist, market)
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[second.reference])).content.decode()
    assert "Related decisions" in page and first.reference in page

    with pytest.raises(ValidationError) as error:
        _decide(second, specialist, outcome="upheld")
    assert first.reference in str(error.value) and "say why this case differs" in str(error.value)
    assert not second.decisions.exists()

    decision = _decide(
        second, specialist, outcome="upheld", consistency_note="This user traded after the fix."
    )
    assert decision.consistency_note == "This user traded after the fix."
    page = client.get(reverse("disputes:case_detail", args=[first.reference])).content.decode()
    assert second.reference in page and "do not all agree" in page
    market_page = client.get(reverse("disputes:market_detail", args=[market.pk])).content.decode()
    assert "Decisions on this market do not agree" in market_page


def test_the_same_outcome_or_a_referral_needs_no_reason(specialist, market):
    _decide(_case(specialist, market), specialist, outcome="denied")
    assert _decide(_case(specialist, market), specialist, outcome="denied").consistency_note == ""
    assert _decide(_case(specialist, market), specialist, outcome="referred").state == "recorded"


def test_cases_citing_the_same_rulebook_section_are_compared(specialist, section_version):
    citation = [CitationInput(excerpt="Maker orders pay no fee", rulebook_version=section_version)]
    _decide(_case(specialist), specialist, outcome="denied", citations=citation)
    with pytest.raises(ValidationError):
        _decide(_case(specialist), specialist, outcome="upheld", citations=citation)


# --- approval queue and past decisions -----------------------------------------------------------


def test_approval_queue_lists_proposals_and_marks_your_own(
    client, specialist, market, settings, django_assert_max_num_queries
):
    settings.DISPUTE_FOUR_EYES_THRESHOLD = Decimal("100")
    other = specialist_user(username="spec2")
    mine = _decide(_case(specialist, market, amount="500"), specialist)
    theirs = [_decide(_case(other, market, amount="900"), other) for _ in range(3)]
    assert mine.state == "proposed" and all(d.state == "proposed" for d in theirs)
    client.force_login(specialist)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("disputes:approvals")).content.decode()
    assert "Yours: another specialist approves" in page
    assert page.count("Review and approve") == 3
    for decision in theirs:
        assert f"#decision-{decision.pk}" in page


def test_past_decisions_are_found_by_the_rule_they_cite(client, specialist, market, section_version):
    by_market = _decide(_case(specialist, market), specialist)
    by_section = _decide(
        _case(specialist),
        specialist,
        citations=[CitationInput(excerpt="taker orders only", rulebook_version=section_version)],
    )
    client.force_login(specialist)
    url = reverse("disputes:decision_search")
    section_page = client.get(url, {"section": section_version.section_id}).content.decode()
    assert by_section.case.reference in section_page and by_market.case.reference not in section_page
    market_page = client.get(url, {"market": market.pk}).content.decode()
    assert by_market.case.reference in market_page and by_section.case.reference not in market_page
    words = client.get(url, {"excerpt": "taker orders"}).content.decode()
    assert by_section.case.reference in words and by_market.case.reference not in words
    assert client.get(url, {"section": "99999999999999999999"}).status_code == 400
    assert client.get(url, {"market": "abc"}).status_code == 400


# --- printable case file -------------------------------------------------------------------------


def test_the_printable_case_file_has_everything_an_auditor_reads(client, specialist, leader, market):
    case = _case(specialist, market)
    _decide(case, specialist)
    client.force_login(leader)
    page = client.get(reverse("disputes:case_print", args=[case.reference])).content.decode()
    for part in ("The market resolved wrongly.", "Governing rule text", "Decisions and approvals", "History"):
        assert part in page
    assert f'<mark class="cited">{RULE}</mark>' in page
    assert f"Recorded by {escape(specialist.display_name)}" in page
    assert "(below the four-eyes threshold, no second approval needed)" in page
    assert "approved by" not in page


# --- bulk changes from the market page -------------------------------------------------------


def test_bulk_assign_and_status_from_the_market_page(client, specialist, market):
    cases = [_case(specialist, market) for _ in range(3)]
    elsewhere = _case(specialist)
    colleague = specialist_user(username="colleague")
    client.force_login(specialist)
    url = reverse("disputes:market_cases_bulk", args=[market.pk])
    ids = [c.pk for c in cases] + [elsewhere.pk]
    response = client.post(url, {"selected": ids, "action": "assign", "assignee": colleague.pk}, follow=True)
    assert f"3 cases assigned to {escape(colleague.display_name)}" in response.content.decode()
    assert DisputeCase.objects.filter(assignee=colleague).count() == 3  # not the other market's case
    assert CaseEvent.objects.filter(kind="assigned").count() == 3

    response = client.post(url, {"selected": ids, "action": "status", "to": "investigating"}, follow=True)
    assert "3 cases moved to investigating" in response.content.decode()
    assert set(DisputeCase.objects.filter(market=market).values_list("status", flat=True)) == {
        "investigating"
    }


def test_a_bulk_status_change_is_all_or_nothing(specialist, market):
    open_case, decided = _case(specialist, market), _case(specialist, market)
    _decide(decided, specialist)
    with pytest.raises(ValidationError) as error:
        cases_bulk_transition(case_ids=[open_case.pk, decided.pk], by=specialist, to="waiting_on_user")
    assert decided.reference in str(error.value) and "Nothing was changed" in str(error.value)
    open_case.refresh_from_db()
    assert open_case.status == "new"
    with pytest.raises(ValidationError, match="Say why the cases are reopened"):
        cases_bulk_transition(case_ids=[open_case.pk, decided.pk], by=specialist, to="investigating")
    assert (
        cases_bulk_transition(
            case_ids=[open_case.pk, decided.pk], by=specialist, to="investigating", reason="New facts"
        )
        == 2
    )


def test_bulk_changes_refuse_bad_selections(client, specialist, leader, market):
    case = _case(specialist, market)
    with pytest.raises(ValidationError, match="Select at least one"):
        cases_bulk_assign(case_ids=[], by=specialist, assignee=None)
    with pytest.raises(ValidationError, match="decided one by one"):
        cases_bulk_transition(case_ids=[case.pk], by=specialist, to="decided")
    with pytest.raises(ValidationError, match="Only a Specialist"):
        cases_bulk_assign(case_ids=[case.pk], by=leader, assignee=None)
    client.force_login(specialist)
    url = reverse("disputes:market_cases_bulk", args=[market.pk])
    for data in (
        {"action": "assign"},
        {"selected": ["abc"], "action": "assign"},
        {"selected": ["99999999999999999999"], "action": "status", "to": "closed"},
        {"selected": [case.pk], "action": "status"},
        {"selected": [case.pk], "action": "explode"},
    ):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200 and 'class="message message--error"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == "new" and case.assignee is None


def test_market_page_with_many_cases_runs_constant_queries(
    client, specialist, market, django_assert_max_num_queries
):
    for _ in range(30):
        _case(specialist, market)
    client.force_login(specialist)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("disputes:market_detail", args=[market.pk]))
    assert page.status_code == 200 and page.content.decode().count('name="selected"') == 25


# --- the account's timeline ---------------------------------------------------------------------


def test_filing_and_deciding_show_on_the_account_timeline(client, specialist, market):
    case = _case(specialist, market)
    _decide(case, specialist)
    events = AccountEvent.objects.filter(account=case.account, kind="dispute").order_by("at", "pk")
    assert [e.summary for e in events] == [
        f"Dispute {case.reference} filed: market resolution",
        f"Dispute {case.reference} decided: Denied",
    ]
    client.force_login(specialist)
    page = client.get(reverse("accounts:detail", args=[case.account_id])).content.decode()
    assert f'href="/disputes/{case.reference}/"' in page and "File a dispute" in page


def test_case_page_queries_do_not_grow_with_its_history(
    client, specialist, market, section_version, django_assert_max_num_queries
):
    from disputes.services.cases import case_note_add
    from disputes.services.evidence import evidence_add

    case = _case(specialist, market)

    def fill(count):
        for n in range(count):
            case_note_add(case=case, by=specialist, text=f"Note {n}")
            evidence_add(case=case, by=specialist, kind="transaction", value=f"0x{n:064x}")

    client.force_login(specialist)
    url = reverse("disputes:case_detail", args=[case.reference])
    fill(2)
    with django_assert_max_num_queries(40) as small:
        client.get(url)
    fill(60)
    _decide(case, specialist)
    with django_assert_max_num_queries(40) as large:
        page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count("Note 5") >= 11
    assert len(large.captured_queries) <= len(small.captured_queries) + 4  # the decision's rows


def test_dropping_the_market_filter_keeps_the_search_and_the_other_filters(
    client, specialist, market, section_version
):
    account = make_account(owner=specialist, email="keeps@example.com")
    section = CitationInput(excerpt="Maker orders pay no fee", rulebook_version=section_version)
    both = [CitationInput(excerpt=RULE, market_rule_version=market.current_version), section]

    def case(with_market=None):
        return dispute_file(
            by=specialist,
            account=account,
            category="market_resolution" if with_market else "order_execution",
            market=with_market,
            claim="x",
        )

    on_market = _decide(case(market), specialist, citations=both).case
    elsewhere = _decide(case(), specialist, citations=[section]).case
    market_only = _decide(_case(specialist, market), specialist).case
    _case(specialist)  # someone else's open case elsewhere
    client.force_login(specialist)
    market_page = client.get(reverse("disputes:market_detail", args=[market.pk]))

    def references(response):
        rows = response.context["table"].page.object_list
        return {getattr(row.record, "case", row.record).reference for row in rows}

    cases = client.get(link_to(market_page, "Open these cases in the case list"))
    assert references(cases) == {on_market.reference, market_only.reference}
    searched = submit(client, form_on(cases, has_field="q", action=""), q="keeps@example.com")
    assert references(searched) == {on_market.reference}
    everywhere = client.get(link_to(searched, "show all markets"))
    assert references(everywhere) == {on_market.reference, elsewhere.reference}

    decisions = client.get(link_to(market_page, "Read the decisions"))
    assert references(decisions) == {on_market.reference, market_only.reference}
    citing = submit(
        client, form_on(decisions, has_field="excerpt", action=""), section=section_version.section_id
    )
    assert references(citing) == {on_market.reference}
    any_rule = client.get(link_to(citing, "any rule"))
    assert references(any_rule) == {on_market.reference, elsewhere.reference}


# --- fields required by a rule say the rule, not "(optional)" -------------------------------------


def _label(page, name: str) -> str:
    """The text of the label of field `name` on the page, markup removed."""
    html = page.content.decode()
    start = html.index(f'<label for="id_{name}">')
    return re.sub(r"<[^>]+>", "", html[start : html.index("</label>", start)]).strip()


def test_the_market_says_when_it_is_required_and_filing_without_it_says_why(client, specialist):
    account = make_account(owner=specialist, email="labels@example.com")
    client.force_login(specialist)
    new = client.get(link_to(client.get(reverse("disputes:case_list")), "File a case"))
    assert _label(new, "market") == "Market (required for market-resolution cases)"
    response = submit(
        client,
        form_on(new, has_field="claim"),
        account=account.email,
        category="market_resolution",
        claim="Wrong outcome.",
    )
    assert response.status_code == 400 and "needs its market" in response.content.decode()
    assert not DisputeCase.objects.exists()


def test_amending_asks_for_the_reason_without_calling_it_optional(client, specialist, market):
    case = _case(specialist, market)
    _decide(case, specialist)
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    assert _label(page, "amendment_reason") == "Amendment reason"
    form = form_on(page, action_contains="/decide/")
    response = submit(
        client,
        form,
        outcome="denied",
        rationale="Per the rules, again.",
        **{"citation-0-source": f"m{market.current_version.pk}", "citation-0-excerpt": RULE},
    )
    assert response.status_code == 400
    assert "This case is decided; say why the decision is amended." in response.content.decode()
    assert case.decisions.count() == 1


def test_a_consistency_error_links_the_cases_it_names(client, specialist, market):
    first = _case(specialist, market)
    _decide(first, specialist, outcome="denied")
    second = _case(specialist, market)
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[second.reference]))
    assert _label(page, "consistency_note") == (
        "Why this case differs (required when the outcome differs from earlier decisions on the same "
        "market or rulebook section)"
    )
    assert "(optional)" not in _label(page, "consistency_note")
    response = submit(
        client,
        form_on(page, action_contains="/decide/"),
        outcome="upheld",
        rationale="The user is right.",
        **{"citation-0-source": f"m{market.current_version.pk}", "citation-0-excerpt": RULE},
    )
    assert response.status_code == 400 and not second.decisions.exists()
    html = response.content.decode()
    error = html[html.index('<ul class="errorlist"') :]
    error = error[: error.index("</ul>")]
    first_url = reverse("disputes:case_detail", args=[first.reference])
    assert f'(<a href="{first_url}">{first.reference}</a>)' in error
    assert "&lt;a" not in error  # a link, not escaped markup
    linked = [link.href for link in links(response) if link.text == first.reference]
    assert first_url in linked and client.get(first_url).status_code == 200


def test_the_consistency_error_escapes_what_it_links(specialist, market, monkeypatch):
    from disputes.services.cases import decisions as case_services

    first = _case(specialist, market)
    decided = _decide(first, specialist, outcome="denied")
    decided.case.reference = 'DSP-2026-1"><script>x</script>'
    monkeypatch.setattr(case_services, "decisions_conflicting", lambda **kwargs: [decided])
    monkeypatch.setattr(case_services, "reverse", lambda name, args: f"/disputes/{args[0]}/")
    with pytest.raises(ValidationError) as error:
        _decide(_case(specialist, market), specialist, outcome="upheld")
    message = error.value.message_dict["consistency_note"][0]
    assert "<script>" not in message and "&lt;script&gt;" in message and "&quot;" in message


# --- who decided, and a proposal waiting for its second specialist ---------------------------------


def test_a_decision_below_the_threshold_reads_recorded_not_self_approved(client, specialist, market):
    case = _case(specialist, market, amount="50")
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    response = submit(
        client,
        form_on(page, action_contains="/decide/"),
        outcome="denied",
        rationale="Chainlink governs.",
        **{"citation-0-source": f"m{market.current_version.pk}", "citation-0-excerpt": RULE},
    )
    assert response.status_code == 302
    text = re.sub(r"\s+", " ", client.get(response["Location"]).content.decode())
    assert f"Recorded by {escape(specialist.display_name)}" in text
    assert "(below the four-eyes threshold, no second approval needed)" in text
    assert "approved by" not in text


def test_while_a_proposal_waits_the_page_says_so_instead_of_offering_the_form(
    client, specialist, market, settings
):
    settings.DISPUTE_FOUR_EYES_THRESHOLD = Decimal("100")
    case = _case(specialist, market, amount="500")
    colleague = specialist_user(username="spec2")
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    proposed = submit(
        client,
        form_on(page, action_contains="/decide/"),
        outcome="denied",
        rationale="Chainlink governs.",
        **{"citation-0-source": f"m{market.current_version.pk}", "citation-0-excerpt": RULE},
    )
    page = client.get(proposed["Location"])
    text = re.sub(r"\s+", " ", page.content.decode())
    assert (
        f"A decision proposed by {escape(specialist.display_name)} on" in text
        and "waiting for approval" in text
    )
    assert "/decide/" not in text and "Propose the decision" not in text
    assert "waiting for a second specialist's approval" in text
    approvals = client.get(link_to(page, "approvals page"))
    assert approvals.status_code == 200 and case.reference in approvals.content.decode()

    client.force_login(colleague)
    page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    approved = submit(client, form_on(page, action_contains="/approve/"))
    assert approved.status_code == 302
    text = re.sub(r"\s+", " ", client.get(approved["Location"]).content.decode())
    assert (
        f"Proposed by {escape(specialist.display_name)}" in text
        and f"approved by {escape(colleague.display_name)}" in text
        and "four-eyes threshold, no" not in text
    )
    assert "Amend the decision" in text and "/decide/" in text  # decided: the form is back, to amend
