"""What a response template may read: the documented placeholders, the limits, and sample data.

This is the one description of the template language's data. The help panel
(:func:`placeholder_help`), the validator (which refuses any name not listed here) and the trial render
(:func:`example_context`, which fills every placeholder) all read it, so adding a placeholder here is
what makes it usable everywhere.
"""

from __future__ import annotations

from typing import Any

PLACEHOLDERS: dict[str, dict[str, str]] = {
    "account": {
        "display_name": "The account's name",
        "first_name": "First word of the account's name",
        "email": "The account's e-mail address",
        "tier": "The account's support tier",
        "owner_name": "Name of the specialist who owns the account",
        "venue": "The account's venue (International or US)",
    },
    "specialist": {
        "name": "Your full name (the person sending)",
        "first_name": "Your first name",
        "email": "Your e-mail address",
    },
    "case": {
        "reference": "The case reference, e.g. DC-2025-0042",
        "category": "The case category",
        "status": "The case status",
        "claim": "What the trader claims",
        "requested_remedy": "The remedy the trader asked for",
        "amount_at_stake": "The amount at stake, e.g. 1,250.00",
        "currency": "The currency of the amount, e.g. USD",
        "resolution_due": "When a resolution is due (formatted date and time)",
    },
    "market": {
        "question": "The market's question",
        "url": "Link to the market",
        "resolved_outcome": "The outcome the market resolved to",
        "end_date": "When the market ended (formatted date)",
    },
    "decision": {
        "outcome": "The decision's outcome",
        "rationale": "Why it was decided so",
        "remedy": "The remedy granted, if any",
    },
    "citations": {
        "excerpt": "The quoted rule passage",
        "source": "Where the passage comes from (rule version or rulebook section)",
    },
    "check_in": {
        "next_due": "When the next check-in is due (formatted date)",
        "channel": "The channel of the check-in",
    },
    "escalation": {
        "level": "The escalation level",
        "reason": "Why the case was escalated",
        "deadline": "When the escalation must be answered (formatted date and time)",
    },
    "feedback": {
        "summary": "The feedback as logged",
        "status": "Where the feedback stands with the product team",
    },
}

ROOT_DESCRIPTIONS: dict[str, str] = {
    "account": "The trader's account",
    "specialist": "You, the person sending",
    "case": "The dispute case",
    "market": "The market the case is about",
    "decision": "The decision on the case",
    "citations": "The rule passages the decision cites (a list)",
    "check_in": "The check-in",
    "escalation": "The escalation",
    "feedback": "The product feedback",
}

#: Roots that are lists, with the loop variable name the help suggests for one item.
LIST_PLACEHOLDERS: dict[str, str] = {"citations": "citation"}

#: What a template may read from ``loop`` inside a ``{% for %}``.
LOOP_ATTRIBUTES: dict[str, str] = {
    "index": "The item's number, counting from 1",
    "index0": "The item's number, counting from 0",
    "revindex": "Items left, counting down to 1",
    "revindex0": "Items left, counting down to 0",
    "first": "True for the first item",
    "last": "True for the last item",
    "length": "How many items there are",
}

MAX_SOURCE_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000
#: Characters all filters of one render may produce together (chained filters each count).
FILTER_BUDGET_CHARS = 10 * MAX_OUTPUT_CHARS
#: Longest list a context may hold (citations); keeps loops cheap.
MAX_LIST_ITEMS = 200
MAX_CONTEXT_DEPTH = 6


def placeholder_help() -> list[tuple[str, str]]:
    """Every placeholder as (snippet, description), in schema order, for a help panel."""
    rows: list[tuple[str, str]] = []
    for root, attributes in PLACEHOLDERS.items():
        if root in LIST_PLACEHOLDERS:
            item = LIST_PLACEHOLDERS[root]
            rows.append(
                (
                    f"{{% for {item} in {root} %}}…{{% endfor %}}",
                    f"Repeat for each of {ROOT_DESCRIPTIONS[root].lower()}",
                )
            )
            rows.extend(
                (f"{{{{ {item}.{name} }}}}", f"Inside the loop: {description[0].lower()}{description[1:]}")
                for name, description in attributes.items()
            )
            rows.append((f"{{{{ {root}|length }}}}", f"How many {root} there are"))
        else:
            rows.extend((f"{{{{ {root}.{name} }}}}", description) for name, description in attributes.items())
    rows.extend(
        (f"{{{{ loop.{name} }}}}", f"Inside a loop: {description[0].lower()}{description[1:]}")
        for name, description in LOOP_ATTRIBUTES.items()
    )
    return rows


def example_context() -> dict[str, Any]:
    """A realistic context with every placeholder filled, for previews and trial renders."""
    return {
        "account": {
            "display_name": "Dana Whitfield",
            "first_name": "Dana",
            "email": "dana.whitfield@example.com",
            "tier": "VIP",
            "owner_name": "Sam Okafor",
            "venue": "International",
        },
        "specialist": {"name": "Sam Okafor", "first_name": "Sam", "email": "sam.okafor@example.com"},
        "case": {
            "reference": "DC-2025-0042",
            "category": "Market resolution",
            "status": "Decided",
            "claim": "The market resolved No although the official result was announced before the close.",
            "requested_remedy": "Resolve the market Yes and settle my position.",
            "amount_at_stake": "12,500.00",
            "currency": "USD",
            "resolution_due": "14 March 2025, 17:00 UTC",
        },
        "market": {
            "question": "Will the central bank cut rates at its March 2025 meeting?",
            "url": "https://example.com/markets/rate-cut-march-2025",
            "resolved_outcome": "No",
            "end_date": "12 March 2025",
        },
        "decision": {
            "outcome": "Upheld",
            "rationale": "The rules settle on the announcement published on the bank's own site, which came after the close.",
            "remedy": "None — the resolution stands.",
        },
        "citations": [
            {
                "excerpt": "This market resolves according to the statement published on the official website.",
                "source": "Market rules, version of 1 March 2025",
            },
            {
                "excerpt": "Announcements after the market's end date are not considered.",
                "source": "Rulebook § 4.2 Resolution sources",
            },
        ],
        "check_in": {"next_due": "21 March 2025", "channel": "Intercom"},
        "escalation": {
            "level": "Tier 2",
            "reason": "Amount at stake above 10,000 USD",
            "deadline": "13 March 2025, 09:30 UTC",
        },
        "feedback": {"summary": "Show the resolution source on the market page.", "status": "Under review"},
    }
