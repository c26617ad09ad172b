"""How markets and the rulebook plug into the portal: navigation and header search."""

import datetime as dt

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.health import ComponentScore, HealthComponent, register_health_component
from disputes import selectors
from portal.myday import Panel, register_panel
from portal.navigation import NavItem, register_nav_item
from portal.roles import Role
from portal.search import SearchResult, register_search_provider

register_nav_item(
    NavItem(
        label="Disputes",
        url_name="disputes:case_list",
        roles=selectors.RULE_READERS,
        order=15,
        primary_for=(Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN),
    )
)
register_nav_item(
    NavItem(label="Markets", url_name="disputes:market_list", roles=selectors.RULE_READERS, order=20)
)
register_nav_item(
    NavItem(label="Rulebook", url_name="disputes:rulebook", roles=selectors.RULE_READERS, order=25)
)


class MarketSearch:
    key = "markets"
    label = "Markets"
    hint = "Polymarket link, slug, Gamma id or condition id"
    roles = selectors.RULE_READERS

    def search(self, *, user, query, limit):
        q = query.strip()
        exact_lookup = bool(selectors.CONDITION_ID.match(q) or q.isdigit() or selectors.URL_SLUG.search(q))
        if len(q) < 3 and not q.isdigit():
            return []
        matches = list(selectors.market_list(query=q).order_by("-end_date")[:limit])
        exact = exact_lookup and len(matches) == 1
        return [
            SearchResult(
                title=m.question,
                url=reverse("disputes:market_detail", args=[m.pk]),
                detail=f"{m.get_venue_display()} · {m.slug or 'entered by hand'}",
                exact=exact or m.slug == q,
            )
            for m in matches
        ]


register_search_provider(MarketSearch())


class CaseSearch:
    key = "cases"
    label = "Dispute cases"
    hint = "reference (DSP-…) or transaction hash"
    roles = selectors.RULE_READERS

    def search(self, *, user, query, limit):
        query = query.strip()
        if not (selectors.CASE_REFERENCE.match(query) or selectors.TX_HASH.match(query)):
            return []
        return [
            SearchResult(
                title=f"{case.reference} · {case.account.display_name}",
                url=reverse("disputes:case_detail", args=[case.reference]),
                detail=case.get_status_display(),
                exact=True,
            )
            for case in selectors.case_list(query=query).order_by("-year", "-number")[:limit]
        ]


register_search_provider(CaseSearch())


def _open_disputes(facts, now):
    """Open dispute cases weigh on an account's health: none 100, one 60, two 30, more 0."""
    from disputes.models import DisputeCase

    counts = dict(
        DisputeCase.objects.open()
        .filter(account_id__in=[f.id for f in facts])
        .values_list("account_id")
        .annotate(n=Count("id"))
    )
    scores = {}
    for f in facts:
        n = counts.get(f.id, 0)
        scores[f.id] = ComponentScore(
            {0: 100, 1: 60, 2: 30}.get(n, 0), f"{n} open dispute case{'s' if n != 1 else ''}"
        )
    return scores


register_health_component(HealthComponent("disputes", "Open disputes", 20, _open_disputes))


def open_cases_query(user):
    """The person's 25 most urgent open cases (the partial index case_open_assignee_due_idx)."""
    from disputes.models import DisputeCase

    return (
        DisputeCase.objects.open()
        .filter(assignee=user)
        .select_related("account")
        .order_by("resolution_due")[:25]
    )


def open_cases_panel(*, user):
    now = timezone.now()
    cases = list(open_cases_query(user))
    return {"cases": cases, "now": now} if cases else None


def approvals_panel(*, user):
    from disputes.models import Decision

    waiting = list(
        Decision.objects.filter(state=Decision.State.PROPOSED)
        .exclude(proposed_by=user)
        .select_related("case", "proposed_by")
        .order_by("proposed_at")[:25]
    )
    return {"decisions": waiting} if waiting else None


def heads_ups_panel(*, user):
    """The resolution radar's heads-ups to this owner from the last two weeks, newest first
    (bounded: the panel reads the owner's own, through its index)."""
    from disputes.models import HeadsUp

    recent = (
        HeadsUp.objects.filter(owner=user, told_at=None, created_at__gte=timezone.now() - HEADS_UP_SHOWN_FOR)
        .select_related("signal__market")
        .order_by("-created_at")[:20]
    )
    heads_ups = list(recent)
    if not heads_ups:
        return None
    from accounts.models import Channel
    from disputes.radar.told import proactive_message

    for heads_up in heads_ups:
        heads_up.message = proactive_message(heads_up)
    return {"heads_ups": heads_ups, "channels": Channel.choices}


HEADS_UP_SHOWN_FOR = dt.timedelta(days=14)


def refused_replies_panel(*, user):
    refused = selectors.replies_refused_for(user)
    return {"replies": refused} if refused else None


register_panel(
    Panel(
        key="disputes-heads-ups",
        title="Heads-up: markets your accounts hold",
        template="disputes/myday/_heads_ups.html",
        roles=(Role.SPECIALIST,),
        build=heads_ups_panel,
        order=3,
    )
)
register_panel(
    Panel(
        key="disputes-replies-refused",
        title="Replies Intercom refused",
        template="disputes/myday/_replies_refused.html",
        roles=(Role.SPECIALIST,),
        build=refused_replies_panel,
        order=4,
    )
)
register_panel(
    Panel(
        key="disputes-open",
        title="My open cases",
        template="disputes/myday/_open_cases.html",
        roles=(Role.SPECIALIST,),
        build=open_cases_panel,
        order=5,
    )
)
register_panel(
    Panel(
        key="disputes-approvals",
        title="Decisions awaiting approval",
        template="disputes/myday/_approvals.html",
        roles=(Role.SPECIALIST,),
        build=approvals_panel,
        order=6,
    )
)

from disputes import template_context  # noqa: E402, F401 - the "case" source for template previews
