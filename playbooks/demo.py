"""Demo playbooks for `manage.py seed_demo`: the starter set (always) and `--playbooks N` generated
ones. Deterministic for a seed.

The starter set is the program's own material, written for it in `playbooks/demo/`: six Markdown
playbooks (communication standards, the 30-minute escalation rule, dispute response for market
resolution, order execution and platform mechanics, the high-value check-in script) and six
response templates. It goes through the real services (`playbook_create`, `playbook_revise`,
`template_create`), so every text is checked and every template validated exactly as if a
specialist had typed it. One source file holds all revisions of a playbook: a line starting
``@rN `` is in revision N and later, ``@rN-M `` only in revisions N to M; unmarked lines are in
every revision. The services stamp revisions with the current time, so afterwards the history is
spread over the last months (and the review date follows the newest revision, as the services
would have set it).

Generated playbooks are bulk-inserted, 50 revisions each: Markdown of about 3–8 KB that changes by
a few lines from one revision to the next (a reworded step, a point added or dropped, a task
ticked, a table cell updated), with summaries that say what changed. Categories, statuses, owners
and review intervals are mixed, and about one in five is past its review date. Every invariant of
the services holds afterwards: numbers run 1…50, the playbook's current revision, revision count
and current text are its newest revision's, the review date is one interval after that revision,
and on PostgreSQL the search vector is filled as `playbooks.services._refresh_search` fills it.
"""

import datetime as dt
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.text import slugify

from playbooks.models import Playbook, PlaybookRevision, ResponseTemplate, TemplateRevision
from playbooks.services import RESERVED_SLUGS, playbook_create, playbook_revise, template_create
from portal.db import bulk_insert_rows

DEMO_DIR = Path(__file__).resolve().parent / "demo"
REVISIONS = 50


# --- the starter set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StarterPlaybook:
    slug: str  # also the source file's name, playbooks/demo/<slug>.md
    title: str
    category: str
    review_interval_days: int
    summaries: tuple[str, ...]  # one per revision, oldest first


@dataclass(frozen=True)
class StarterTemplate:
    name: str
    serves: str
    playbook: str  # slug of the playbook it belongs to
    source: str  # file in playbooks/demo/templates/: a "Subject: …" line, a blank line, the body


STARTER_PLAYBOOKS = (
    StarterPlaybook(
        "communication-standards",
        "Communication standards",
        Playbook.Category.COMMUNICATION,
        90,
        (
            "First version: tone, the structure of a reply and what we never promise.",
            "Added the response-time commitments per tier (first response 1 h / 4 h / 8 h) and the "
            "resolution targets per dispute category.",
            "Added instead-of/write phrasing examples from the CSAT review; amounts now always carry "
            "their collateral (USDC.e before 28 April 2026, pUSD after).",
        ),
    ),
    StarterPlaybook(
        "escalation-30-minute-rule",
        "Escalation pathway: the 30-minute rule",
        Playbook.Category.ESCALATION,
        60,
        (
            "First version: the 30-minute rule, when to escalate and what an escalation contains.",
            "Replaced the one-line paging rule with the three-level ladder and the automatic re-page "
            "every 30 minutes.",
            "Added the hand-off checklist and the around-the-clock rota rules after the weekend "
            "incident review.",
        ),
    ),
    StarterPlaybook(
        "dispute-response-market-resolution",
        "Dispute response: market resolution",
        Playbook.Category.DISPUTE_RESPONSE,
        60,
        (
            "First version: how oracle resolution works and what decides a resolution dispute.",
            "Added clarifications: they are part of the rules from their timestamp; how to handle "
            "“the clarification changed the market after I bought”.",
            "Added when to refer, the 50-50 and too-early outcomes; bond quoted in pUSD since the "
            "28 April 2026 cutover.",
        ),
    ),
    StarterPlaybook(
        "dispute-response-order-execution",
        "Dispute response: order execution",
        Playbook.Category.DISPUTE_RESPONSE,
        60,
        (
            "First version: order types, partial fills, finality and the evidence to ask for.",
            "CLOB V2: fees are operator-set at match time, open orders were cancelled at the "
            "cutover; activity now pulled as a wallet activity snapshot on the case.",
            "Added causes outside the order (closed-only, allowances, tick-size changes, halts) and "
            "what to do when the snapshot is empty.",
        ),
    ),
    StarterPlaybook(
        "dispute-response-platform-mechanics",
        "Dispute response: platform mechanics",
        Playbook.Category.DISPUTE_RESPONSE,
        90,
        (
            "First version: deposits, withdrawals and redemptions on both venues.",
            "Rewritten for the CLOB V2 cutover: pUSD replaces USDC.e from 28 April 2026; checks for "
            "“my balance dropped after the migration”.",
            "Added the wallet types table and how to help with a deposit sent to the signing key.",
        ),
    ),
    StarterPlaybook(
        "check-in-script-high-value-traders",
        "Check-in script: high-value traders",
        Playbook.Category.CHECK_IN,
        120,
        (
            "First version: cadence, agenda and what to log.",
            "Added the before-the-call checklist and the rule on non-public market information.",
            "Cadence table matches the tier defaults (7/14/30 days); product feedback now goes to the "
            "feedback log.",
        ),
    ),
)

STARTER_TEMPLATES = (
    StarterTemplate(
        "Resolution decision",
        ResponseTemplate.Serves.DISPUTE_MARKET_RESOLUTION,
        "dispute-response-market-resolution",
        "resolution-decision.txt",
    ),
    StarterTemplate(
        "Execution decision",
        ResponseTemplate.Serves.DISPUTE_ORDER_EXECUTION,
        "dispute-response-order-execution",
        "execution-decision.txt",
    ),
    StarterTemplate(
        "Platform mechanics decision",
        ResponseTemplate.Serves.DISPUTE_PLATFORM_MECHANICS,
        "dispute-response-platform-mechanics",
        "platform-mechanics-decision.txt",
    ),
    StarterTemplate(
        "Check-in recap",
        ResponseTemplate.Serves.CHECK_IN,
        "check-in-script-high-value-traders",
        "check-in-recap.txt",
    ),
    StarterTemplate(
        "Escalation notice",
        ResponseTemplate.Serves.ESCALATION,
        "escalation-30-minute-rule",
        "escalation-notice.txt",
    ),
    StarterTemplate(
        "Feedback follow-up",
        ResponseTemplate.Serves.FEEDBACK_FOLLOW_UP,
        "check-in-script-high-value-traders",
        "feedback-follow-up.txt",
    ),
)

_MARK = re.compile(r"^@r(\d+)(?:-(\d+))?(?: (.*))?$")


def starter_revision_text(slug: str, number: int) -> str:
    """Revision `number` of a starter playbook, from its source file."""
    lines: list[str] = []
    for line in (DEMO_DIR / f"{slug}.md").read_text(encoding="utf-8").split("\n"):
        mark = _MARK.match(line)
        if mark:
            first, last = int(mark[1]), int(mark[2]) if mark[2] else None
            if number < first or (last is not None and number > last):
                continue
            line = mark[3] or ""
        if not line.strip() and (not lines or not lines[-1].strip()):
            continue  # a dropped block leaves no double blank line
        lines.append(line)
    return "\n".join(lines).strip() + "\n"


def starter_template_source(file_name: str) -> tuple[str, str]:
    """(subject, body) of a starter template file."""
    text = (DEMO_DIR / "templates" / file_name).read_text(encoding="utf-8")
    first, _, body = text.partition("\n")
    return first.removeprefix("Subject:").strip(), body.strip() + "\n"


def seed_starter_set(*, rng: random.Random, specialists: list) -> tuple[int, int]:
    """The starter playbooks (published, owned by the demo specialists) and their templates,
    saved through the services. Returns (playbooks, templates)."""
    now = timezone.now()
    by_slug: dict[str, tuple[Playbook, dt.datetime]] = {}
    for index, spec in enumerate(STARTER_PLAYBOOKS):
        owner = specialists[index % len(specialists)]
        editor = specialists[(index + 1) % len(specialists)]
        playbook = playbook_create(
            by=owner,
            title=spec.title,
            category=spec.category,
            body=starter_revision_text(spec.slug, 1),
            summary=spec.summaries[0],
            slug=spec.slug,
            owner=owner,
            review_interval_days=spec.review_interval_days,
            status=Playbook.Status.PUBLISHED,
        )
        for number, summary in enumerate(spec.summaries[1:], start=2):
            playbook_revise(
                playbook=playbook,
                by=editor if number % 2 == 0 else owner,
                body=starter_revision_text(spec.slug, number),
                summary=summary,
                based_on=number - 1,
            )
        by_slug[spec.slug] = (playbook, _spread_history(rng, playbook.pk, spec, now))
    for spec in STARTER_TEMPLATES:
        playbook, written_at = by_slug[spec.playbook]
        subject, body = starter_template_source(spec.source)
        template = template_create(
            by=playbook.owner,
            name=spec.name,
            playbook=playbook,
            serves=spec.serves,
            subject=subject,
            body=body,
            summary=f"First version, written with “{playbook.title}”.",
        )
        at = written_at + dt.timedelta(hours=rng.randint(1, 6))
        TemplateRevision.objects.filter(template=template).update(created_at=at)
        ResponseTemplate.objects.filter(pk=template.pk).update(created_at=at, updated_at=at)
    return len(STARTER_PLAYBOOKS), len(STARTER_TEMPLATES)


def _spread_history(rng: random.Random, playbook_id: int, spec: StarterPlaybook, now) -> dt.datetime:
    """Move the revisions (stamped "now" by the services) back over the last months, newest a few
    weeks ago, and set the review date from the newest as the services do. Returns its time."""
    at = now - dt.timedelta(days=rng.randint(4, 30), hours=rng.randint(0, 10))
    times = [at]
    for _ in spec.summaries[1:]:
        times.append(times[-1] - dt.timedelta(days=rng.randint(18, 55), hours=rng.randint(0, 8)))
    times.reverse()
    for number, when in enumerate(times, start=1):
        PlaybookRevision.objects.filter(playbook_id=playbook_id, number=number).update(created_at=when)
    Playbook.objects.filter(pk=playbook_id).update(
        created_at=times[0],
        updated_at=times[-1],
        next_review_on=timezone.localdate(times[-1]) + dt.timedelta(days=spec.review_interval_days),
    )
    return times[-1]


# --- generated playbooks -----------------------------------------------------------------------

SUBJECTS = [
    ("Fee disputes", Playbook.Category.DISPUTE_RESPONSE),
    ("Partial fills and FAK orders", Playbook.Category.DISPUTE_RESPONSE),
    ("Tick-size and minimum-size rejections", Playbook.Category.DISPUTE_RESPONSE),
    ("Trades that failed after matching", Playbook.Category.DISPUTE_RESPONSE),
    ("Negative-risk conversions", Playbook.Category.DISPUTE_RESPONSE),
    ("50-50 resolutions", Playbook.Category.DISPUTE_RESPONSE),
    ("Too-early proposals", Playbook.Category.DISPUTE_RESPONSE),
    ("Clarification disputes", Playbook.Category.DISPUTE_RESPONSE),
    ("DVM votes", Playbook.Category.DISPUTE_RESPONSE),
    ("Withdrawal delays", Playbook.Category.DISPUTE_RESPONSE),
    ("Deposits to the signing key", Playbook.Category.DISPUTE_RESPONSE),
    ("pUSD migration balances", Playbook.Category.DISPUTE_RESPONSE),
    ("Redemption questions", Playbook.Category.DISPUTE_RESPONSE),
    ("Weekend on-call", Playbook.Category.ESCALATION),
    ("Platform incidents", Playbook.Category.ESCALATION),
    ("Threats to go public", Playbook.Category.ESCALATION),
    ("Suspected account compromise", Playbook.Category.ESCALATION),
    ("Quarterly business reviews", Playbook.Category.CHECK_IN),
    ("Onboarding calls", Playbook.Category.CHECK_IN),
    ("Win-back calls", Playbook.Category.CHECK_IN),
    ("Intercom macros", Playbook.Category.COMMUNICATION),
    ("Replies after a large loss", Playbook.Category.COMMUNICATION),
    ("Status-page wording", Playbook.Category.COMMUNICATION),
    ("API rate limits", Playbook.Category.OTHER),
    ("Geoblocked and closed-only accounts", Playbook.Category.OTHER),
    ("Allowance errors", Playbook.Category.OTHER),
]
AUDIENCES = [
    "Tier 1 accounts",
    "market makers",
    "API traders",
    "the US venue",
    "the international venue",
    "sports markets",
    "election markets",
    "crypto up/down markets",
    "weather markets",
    "new advanced users",
    "Asia-Pacific hours",
    "European hours",
]
FORMS = ["playbook", "runbook", "checklist", "reply guide", "triage notes", "FAQ"]
STATUS_WEIGHTS = [
    (Playbook.Status.PUBLISHED, 0.7),
    (Playbook.Status.DRAFT, 0.2),
    (Playbook.Status.ARCHIVED, 0.1),
]
INTERVALS = [30, 60, 90, 90, 180]
# A name from one demo incident, in about one playbook in a hundred: a rare word to search for.
RARE_EXAMPLE = (
    "The Tidewater Capital withdrawal in March is the example to follow: the transaction was "
    "confirmed on Polygon within minutes, the delay was at the receiving exchange, and one reply "
    "with the transaction link closed the case."
)

WORDS = {
    "evidence": [
        "order id",
        "transaction hash",
        "trade id",
        "profile wallet address",
        "screenshot of the order ticket",
        "API error message",
        "deposit transaction",
        "clarification timestamp",
    ],
    "event": ["order", "fill", "deposit", "withdrawal", "proposal", "dispute", "redemption", "cancellation"],
    "record": [
        "trade record",
        "activity snapshot",
        "oracle history",
        "fee schedule",
        "rules version",
        "wallet balance",
        "order status",
    ],
    "team": ["markets team", "engineering on call", "treasury team", "support lead", "compliance team"],
    "rule": ["market rules", "clarification", "rulebook section", "fee schedule"],
    "remedy": ["refund", "credit", "reversal", "goodwill payment"],
    "duration": ["30 minutes", "one hour", "four hours", "eight hours", "one business day"],
    "detail": ["recipient", "token", "amount", "chain", "block time"],
    "window": ["hour", "day", "week"],
    "template": [
        "Resolution decision",
        "Execution decision",
        "Platform mechanics decision",
        "Escalation notice",
    ],
}
SENTENCES = [
    "Check the {evidence} before you reply to the trader.",
    "Ask the trader for the {evidence} and the time of the {event}, with their time zone.",
    "If the {record} does not match what the trader saw, escalate to the {team} within 30 minutes.",
    "Quote the {rule} verbatim and name its version.",
    "Never promise a {remedy} before the decision is recorded on the case.",
    "Compare the {record} with what the app showed at the time of the {event}.",
    "Most cases about {topic} close once the trader sees the {record}.",
    "Note the {evidence} on the case so that nobody has to ask for it again.",
    "The {team} answers questions about {topic} within {duration}.",
    "Send the first reply within {duration}, even when the answer is not ready yet.",
    "Link the {record} in the case timeline before you decide.",
    "When the {record} shows the {event} after the cutoff, the rules decide, not the trader's expectation.",
    "Tell the trader which step comes next and when, in UTC or their own time zone.",
    "Open the transaction on Polygonscan and confirm the {detail}.",
    "A fill is final only once its trade is confirmed on Polygon.",
    "Use the {template} template and put the rationale into plain words.",
    "If the trader mentions going public, stay factual and escalate.",
    "Keep the reply under 200 words and sign it with your own name.",
    "Say whether the {event} was in USDC.e (before 28 April 2026) or in pUSD.",
    "Take a wallet activity snapshot covering the {window} around the {event}.",
    "Look up the profile wallet, not the signing key, before you pull any activity.",
    "Ask the {team} before you tell the trader anything about the {record}.",
    "Write the {event} time in UTC on the case, next to the {evidence}.",
    "Close the case only after the trader has the {record} and the rule it rests on.",
]
HEADINGS = [
    "Purpose",
    "When this applies",
    "Steps",
    "Evidence to collect",
    "What to tell the trader",
    "Escalate when",
    "Known pitfalls",
    "Checks before closing",
    "Targets",
    "Reference",
    "Open questions",
]
SITUATIONS = [
    "Fill above the limit",
    "Fee on a maker fill",
    "Deposit not credited",
    "Withdrawal pending over a day",
    "Proposal disputed",
    "Clarification after the trade",
    "Order rejected for size",
    "Trade failed after matching",
    "Trader threatens to go public",
    "Balance lower after the migration",
    "Position not redeemable",
    "Orders cancelled at a halt",
]
ACTIONS = [
    "Refund the difference",
    "Escalate to Level 2",
    "Take an activity snapshot",
    "Refer to the markets team",
    "Quote the rulebook section",
    "Ask for the transaction hash",
    "Check the fee schedule",
    "Explain the oracle stage",
]
OWNERS = ["On-call specialist", "Account owner", "Support lead", "Markets team", "Treasury team"]
TARGETS = ["30 min", "1 hour", "4 hours", "same day", "48 hours", "72 hours"]
REASONS = [
    "after the weekly case review",
    "after a trader's feedback",
    "to match the rulebook",
    "after the CSAT review",
    "after an escalation last week",
    "",
    "",
    "",
]
MIN_BODY, MAX_BODY = 3_000, 8_000


@dataclass
class _Plan:
    title: str
    topic: str
    slug: str
    category: str
    status: str
    owner: int
    interval: int
    times: list[dt.datetime]
    seed: int
    pk: int = 0
    authors: list[int] = field(default_factory=list)


def seed_playbooks(
    *, rng: random.Random, specialists: list, count: int, progress: Callable[[str], None] = lambda _: None
) -> dict[str, int]:
    """The starter set, then `count` generated playbooks of REVISIONS revisions each."""
    playbooks, templates = seed_starter_set(rng=rng, specialists=specialists)
    progress(f"{playbooks} starter playbooks, {templates} templates")
    if count > 0:
        _seed_generated(rng, specialists, count, progress)
    return {
        "playbooks": Playbook.objects.count(),
        "revisions": PlaybookRevision.objects.count(),
        "templates": ResponseTemplate.objects.count(),
    }


def _seed_generated(rng: random.Random, specialists: list, count: int, progress) -> None:
    now = timezone.now()
    ids = [s.pk for s in specialists]
    plans = _plans(rng, ids, count, now)
    before = Playbook.objects.aggregate(last=Max("pk"))["last"] or 0
    bulk_insert_rows(
        Playbook,
        [
            "title",
            "slug",
            "category",
            "owner",
            "status",
            "review_interval_days",
            "next_review_on",
            "revision_count",
            "current_body",
            "created_at",
            "updated_at",
        ],
        (
            (
                p.title,
                p.slug,
                p.category,
                p.owner,
                p.status,
                p.interval,
                timezone.localdate(p.times[-1]) + dt.timedelta(days=p.interval),
                REVISIONS,
                "",  # filled from the newest revision below
                p.times[0],
                p.times[-1],
            )
            for p in plans
        ),
    )
    new = Playbook.objects.filter(pk__gt=before)
    pks = dict(new.values_list("slug", "pk"))
    for plan in plans:
        plan.pk = pks[plan.slug]
    bulk_insert_rows(
        PlaybookRevision,
        ["playbook", "number", "body", "summary", "author", "created_at"],
        _revision_rows(plans),
    )
    newest = PlaybookRevision.objects.filter(playbook=OuterRef("pk"), number=OuterRef("revision_count"))
    new.update(
        current_revision=Subquery(newest.values("pk")[:1]),
        current_body=Subquery(newest.values("body")[:1]),
    )
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchVector

        # As playbooks.services._refresh_search, for all of them in one statement.
        new.update(
            search_vector=SearchVector("title", weight="A", config="english")
            + SearchVector("current_body", weight="B", config="english")
        )
    progress(f"{len(plans)} generated playbooks, {len(plans) * REVISIONS} revisions")


def _plans(rng: random.Random, specialists: list[int], count: int, now: dt.datetime) -> list[_Plan]:
    combos = [
        (s, a, f) for s in range(len(SUBJECTS)) for a in range(len(AUDIENCES)) for f in range(len(FORMS))
    ]
    order = rng.sample(combos, min(count, len(combos)))
    taken = set(Playbook.objects.values_list("slug", flat=True)) | RESERVED_SLUGS
    statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
    plans = []
    for n in range(count):
        s, a, f = order[n % len(order)]
        subject, category = SUBJECTS[s]
        title = f"{subject}: {FORMS[f]} for {AUDIENCES[a]}"
        if n >= len(order):
            title += f" ({n // len(order) + 1})"
        slug = base = slugify(title)[:90]
        suffix = 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        interval = rng.choice(INTERVALS)
        # Newest revision up to 1.25 intervals ago: about one playbook in five is past its review.
        newest = now - dt.timedelta(days=rng.uniform(0.2, interval * 1.25))
        span = dt.timedelta(days=rng.uniform(60, 700))
        times = sorted(newest - span * rng.random() for _ in range(REVISIONS - 2))
        owner = rng.choice(specialists)
        plan = _Plan(
            title=title,
            topic=subject.lower(),
            slug=slug,
            category=category,
            status=rng.choices(statuses, weights=weights)[0],
            owner=owner,
            interval=interval,
            times=[newest - span, *times, newest],
            seed=rng.getrandbits(64),
        )
        plan.authors = [owner if rng.random() < 0.7 else rng.choice(specialists) for _ in range(REVISIONS)]
        plans.append(plan)
    return plans


def _revision_rows(plans: list[_Plan]) -> Iterator[tuple]:
    """Rows for PlaybookRevision, one playbook at a time (the texts are never all in memory)."""
    for plan in plans:
        writer = _Writer(random.Random(plan.seed), plan.topic)  # noqa: S311 - demo data
        lines = writer.document(plan.title)
        yield (plan.pk, 1, "\n".join(lines) + "\n", "First version", plan.authors[0], plan.times[0])
        for number in range(2, REVISIONS + 1):
            summary = writer.edit(lines)
            yield (
                plan.pk,
                number,
                "\n".join(lines) + "\n",
                summary,
                plan.authors[number - 1],
                plan.times[number - 1],
            )


class _Writer:
    """Writes a playbook and then edits it a few lines at a time, saying what it changed."""

    def __init__(self, rng: random.Random, topic: str):
        self.rng = rng
        self.topic = topic

    def sentence(self, template: str | None = None) -> str:
        return re.sub(
            r"\{(\w+)\}",
            lambda m: self.topic if m[1] == "topic" else self.rng.choice(WORDS[m[1]]),
            template or self.rng.choice(SENTENCES),
        )

    def sentences(self, count: int) -> list[str]:
        """`count` sentences, no two from the same pattern."""
        return [self.sentence(template) for template in self.rng.sample(SENTENCES, count)]

    def paragraph(self) -> str:
        return " ".join(self.sentences(self.rng.randint(2, 4)))

    def table_row(self) -> str:
        rng = self.rng
        return f"| {rng.choice(SITUATIONS)} | {rng.choice(ACTIONS)} | {rng.choice(OWNERS)} | {rng.choice(TARGETS)} |"

    def section(self, heading: str) -> list[str]:
        rng = self.rng
        lines = [f"## {heading}", "", self.paragraph(), ""]
        kind = rng.random()
        if kind < 0.3:
            lines += [f"- {text}" for text in self.sentences(rng.randint(3, 6))]
        elif kind < 0.5:
            lines += [f"{i}. {text}" for i, text in enumerate(self.sentences(rng.randint(3, 7)), start=1)]
        elif kind < 0.7:
            lines += [f"- [{rng.choice(' x')}] {text}" for text in self.sentences(rng.randint(3, 6))]
        elif kind < 0.85:
            lines += ["| Situation | Action | Owner | Target |", "|:--|:--|:--|:--|"]
            lines += [self.table_row() for _ in range(rng.randint(3, 6))]
        else:
            lines += [f"> {self.sentence()}"]
        lines.append("")
        if rng.random() < 0.4:
            lines += [self.paragraph(), ""]
        return lines

    def document(self, title: str) -> list[str]:
        rng = self.rng
        target = rng.randint(MIN_BODY, MAX_BODY - 1_500)
        lines = [f"# {title}", "", self.paragraph(), ""]
        headings = iter(rng.sample(HEADINGS, len(HEADINGS)))
        size = sum(len(line) + 1 for line in lines)
        for heading in headings:
            section = self.section(heading)
            lines += section
            size += sum(len(line) + 1 for line in section)
            if size >= target:
                break
        if rng.random() < 0.01:
            lines += ["## Worked example", "", RARE_EXAMPLE, ""]
        while size < MIN_BODY:  # a short draw: longer sections until it is a real document
            extra = self.paragraph()
            lines += [extra, ""]
            size += len(extra) + 2
        return lines[:-1] if lines[-1] == "" else lines

    # Edits: each changes one to a few lines in place and returns what it did.

    def edit(self, lines: list[str]) -> str:
        """Change `lines` in place (never to the same text: a revision always changes something)."""
        rng = self.rng
        before = lines[:]
        size = sum(len(line) + 1 for line in lines)
        done = []
        edits = rng.choices([1, 2, 3], weights=[0.6, 0.3, 0.1])[0]
        while edits > 0 or lines == before:
            edits -= 1
            if size > MAX_BODY:
                action = self.remove_item
            elif size < MIN_BODY:
                action = rng.choice([self.add_item, self.extend_paragraph])
            else:
                action = rng.choice(
                    [
                        self.reword,
                        self.reword,
                        self.add_item,
                        self.remove_item,
                        self.toggle_task,
                        self.update_cell,
                    ]
                )
            what = action(lines) or self.reword(lines)
            if what not in done:
                done.append(what)
            size = sum(len(line) + 1 for line in lines)
        reason = rng.choice(REASONS)
        summary = "; ".join(done)
        return (f"{summary} {reason}" if reason else summary)[:300]

    def _section_of(self, lines: list[str], index: int) -> str:
        for line in reversed(lines[: index + 1]):
            if line.startswith("## "):
                return line[3:]
        return "the introduction"

    def _pick(self, lines: list[str], test) -> int | None:
        candidates = [i for i, line in enumerate(lines) if test(line)]
        return self.rng.choice(candidates) if candidates else None

    def reword(self, lines: list[str]) -> str | None:
        i = self._pick(
            lines,
            lambda line: (
                line and line[0] not in "#|" and not line.startswith("- [") and "Tidewater" not in line
            ),
        )
        if i is None:
            return None
        line = lines[i]
        prefix = re.match(r"^(- |\d+\. |> )?", line)[0]
        sentences = re.split(r"(?<=\.) ", line[len(prefix) :])
        sentences[self.rng.randrange(len(sentences))] = self.sentence()
        lines[i] = prefix + " ".join(sentences)
        return f"Reworded a point in “{self._section_of(lines, i)}”"

    def extend_paragraph(self, lines: list[str]) -> str | None:
        i = self._pick(lines, lambda line: line[:1].isalpha())
        if i is None:
            return None
        lines[i] = f"{lines[i]} {self.sentence()}"
        return f"Expanded “{self._section_of(lines, i)}”"

    def add_item(self, lines: list[str]) -> str | None:
        i = self._pick(
            lines, lambda line: line.startswith(("- ", "| ")) and not line.startswith("| Situation")
        )
        if i is None:
            return self.extend_paragraph(lines)
        if lines[i].startswith("| "):
            lines.insert(i + 1, self.table_row())
            return f"Added a row to the table in “{self._section_of(lines, i)}”"
        item = f"- [ ] {self.sentence()}" if lines[i].startswith("- [") else f"- {self.sentence()}"
        lines.insert(i + 1, item)
        return f"Added a point to “{self._section_of(lines, i)}”"

    def remove_item(self, lines: list[str]) -> str | None:
        def removable(index: int) -> bool:
            line = lines[index]
            if not line.startswith(("- ", "| ")) or line.startswith("| Situation"):
                return False
            neighbours = [lines[j] for j in (index - 1, index + 1) if 0 <= j < len(lines)]
            return any(n[:2] == line[:2] for n in neighbours)  # never the last item of a list

        candidates = [i for i in range(len(lines)) if removable(i)]
        if not candidates:
            return None
        i = self.rng.choice(candidates)
        section = self._section_of(lines, i)
        del lines[i]
        return f"Removed an outdated point from “{section}”"

    def toggle_task(self, lines: list[str]) -> str | None:
        i = self._pick(lines, lambda line: line.startswith("- ["))
        if i is None:
            return None
        ticked = lines[i].startswith("- [x]")
        lines[i] = ("- [ ]" if ticked else "- [x]") + lines[i][5:]
        return f"{'Reopened' if ticked else 'Ticked'} a task in “{self._section_of(lines, i)}”"

    def update_cell(self, lines: list[str]) -> str | None:
        i = self._pick(lines, lambda line: line.startswith("| ") and not line.startswith("| Situation"))
        if i is None:
            return None
        cells = lines[i].strip("|").split("|")
        column = self.rng.choice([1, 2, 3])
        cells[column] = f" {self.rng.choice([ACTIONS, OWNERS, TARGETS][column - 1])} "
        lines[i] = "|" + "|".join(cells) + "|"
        name = ("action", "owner", "target")[column - 1]
        return f"Changed the {name} for “{cells[0].strip()}”"
