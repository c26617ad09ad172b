"""Portfolio coverage: are the advanced users contacted as often as their tier promises?"""

import datetime as dt

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Floor
from django.db.models.lookups import GreaterThanOrEqual
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, CheckIn, Tier
from accounts.selectors import due_state_filter
from portal.columns import Column
from portal.roles import Role
from reports.aggregates import seconds_between
from reports.metrics.base import Breakdown, Cell, Drill, Family, Figure, ReportContext, Section, ratio
from reports.metrics.dimensions import people_names, person_name, sorted_by_name, tier_names
from reports.periods import Period
from reports.rows import RowList, RowQuery, one_of, positive_id, register_rows

ON_TIME_DEFINITION = (
    "Checked in on time % = of the accounts active now that already existed at the period's end (or "
    "now, for a period still running), those whose last check-in before that instant — or their "
    "creation, when never checked in — lies within their cadence (the account's own, else its "
    "tier's). The previous period is read the same way at its own end. Snoozes are not kept in "
    "history, so a snoozed account counts by its cadence here; accounts paused or offboarded since "
    "are left out of both periods."
)
OVERDUE_DEFINITION = (
    "Overdue now = active accounts whose next check-in was due before this moment (the portfolio "
    "page's “overdue”: the last check-in plus the cadence, pushed back by a snooze). It is the "
    "portfolio as it stands now, whatever the period, so there is no comparison."
)
ACTIVE_DEFINITION = "Accounts active now that existed at the period's end: the base of the on-time share."
ROLES = (Role.LEADERSHIP, Role.ADMIN, Role.SPECIALIST)
DAY_SECONDS = 86400.0


def _mine(accounts, specialist):
    return accounts if specialist is None else accounts.filter(owner=specialist)


def instant_of(period: Period, now: dt.datetime) -> dt.datetime:
    """The moment a period's coverage is read at: its end, or now while it is still running."""
    return min(period.end, now)


def cadences() -> list[int]:
    """Every cadence in use (the tiers' and the accounts' own): two small queries."""
    overrides = Account.objects.filter(cadence_override_days__isnull=False).order_by().distinct()
    return sorted(
        {
            *Tier.objects.values_list("default_cadence_days", flat=True),
            *overrides.values_list("cadence_override_days", flat=True),
        }
    )


def last_check_in_before(instant: dt.datetime) -> Case:
    """An account's last check-in before `instant`, NULL if none. The account keeps its latest
    (`last_check_in_at`, kept by accounts.services from the check-ins themselves): when that is
    before the instant — every account checked in, for "now" — it is the answer; otherwise the
    check-ins are read, one seek in the account-time index."""
    return Case(
        When(last_check_in_at__lt=instant, then=F("last_check_in_at")),
        default=Subquery(
            CheckIn.objects.filter(account=OuterRef("pk"), occurred_at__lt=instant)
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        ),
        output_field=DateTimeField(),
    )


def on_time_at(instant: dt.datetime, days_in_use: list[int]) -> Q:
    """An account whose last check-in before `instant` (else, never checked in, its creation) is
    no older than its cadence: it was not yet due again then. The cadence's cut-off is a CASE over
    the cadences in use, each a fixed instant, so no date arithmetic runs in SQL."""
    last = last_check_in_before(instant)
    if not days_in_use:
        return Q(pk__in=[])  # no cadence in use: no account at all
    since = Case(
        *(
            When(
                Q(cadence_override_days=days)
                | Q(cadence_override_days__isnull=True, tier__default_cadence_days=days),
                then=Value(instant - dt.timedelta(days=days)),
            )
            for days in days_in_use
        ),
        output_field=DateTimeField(),
    )
    # The last check-in, else the creation: the subquery appears once in the SQL, so each
    # account's seek runs once (PostgreSQL ran it twice when the test named it on two sides).
    return Q(GreaterThanOrEqual(Coalesce(last, F("created_at")), since))


def _groups(ctx: ReportContext, now: dt.datetime) -> list[dict]:
    """Active accounts counted per (tier, owner): in the portfolio at each period's instant, on
    time then, and overdue now. One query; every figure and breakdown sums these rows."""
    instants = {"now": instant_of(ctx.period, now), "before": instant_of(ctx.previous, now)}
    counts, days_in_use = {}, cadences()
    for when, instant in instants.items():
        existed = Q(created_at__lt=instant)
        counts[f"active_{when}"] = Count("pk", filter=existed)
        counts[f"on_time_{when}"] = Count("pk", filter=existed & on_time_at(instant, days_in_use))
    counts["overdue"] = Count("pk", filter=due_state_filter("overdue", now))
    accounts = _mine(Account.objects.filter(status=Account.Status.ACTIVE), ctx.specialist)
    return list(accounts.values("tier_id", "owner_id").annotate(**counts).order_by())


def _sum(groups, key, dimension=None, value=None) -> int:
    return sum(row[key] for row in groups if dimension is None or row[dimension] == value)


def build(ctx: ReportContext) -> Section:
    groups = _groups(ctx, timezone.now())
    section = Section(key="coverage", title="Portfolio coverage", figures=_headline(groups))
    if not ctx.figures_only:
        section.breakdowns = _breakdowns(groups, ctx)
    return section


def headline(ctx: ReportContext) -> list[Figure]:
    return _headline(_groups(ctx, timezone.now()))


def _headline(groups) -> list[Figure]:
    active, active_before = _sum(groups, "active_now"), _sum(groups, "active_before")
    return [
        Figure(
            key="on_time",
            label="Checked in on time",
            unit="percent",
            value=ratio(_sum(groups, "on_time_now"), active),
            previous=ratio(_sum(groups, "on_time_before"), active_before),
            definition=ON_TIME_DEFINITION,
            better="up",
            sample=active,
            sample_label="accounts",
            drill=Drill("coverage-accounts").with_filters(state="late"),
        ),
        Figure(
            key="overdue",
            label="Overdue now",
            unit="count",
            value=_sum(groups, "overdue"),
            previous=None,
            definition=OVERDUE_DEFINITION,
            better="down",
            drill=Drill("overdue-accounts"),
        ),
    ]


def _breakdowns(groups, ctx: ReportContext) -> list[Breakdown]:
    tiers = tier_names()
    dimensions = [("tier", "tier_id", "Tier", tiers, list(tiers))]
    if ctx.specialist is None:
        owners = {row["owner_id"] for row in groups}
        people = people_names(owners)
        dimensions.append(("owner", "owner_id", "Owner", people, sorted_by_name(people, owners)))
    breakdowns = []
    for name, column, heading, names, order in dimensions:
        rows = []
        for value in order:
            if not any(row[column] == value for row in groups):
                continue
            active = _sum(groups, "active_now", column, value)
            late = Drill("coverage-accounts").with_filters(state="late", **{name: value})
            rows.append(
                (
                    names.get(value, str(value)),
                    [
                        Cell(active, "count", Drill("coverage-accounts").with_filters(**{name: value})),
                        Cell(ratio(_sum(groups, "on_time_now", column, value), active), "percent", late),
                        Cell(
                            ratio(
                                _sum(groups, "on_time_before", column, value),
                                _sum(groups, "active_before", column, value),
                            ),
                            "percent",
                        ),
                        Cell(
                            _sum(groups, "overdue", column, value),
                            "count",
                            Drill("overdue-accounts").with_filters(**{name: value}),
                        ),
                    ],
                )
            )
        breakdowns.append(
            Breakdown(
                key=f"coverage-{name}",
                title=f"Coverage by {heading.lower()}",
                dimension=heading,
                columns=["Accounts", "On time", "On time before", "Overdue now"],
                rows=rows,
                definition=f"{ON_TIME_DEFINITION} {OVERDUE_DEFINITION}",
            )
        )
    return breakdowns


FAMILY = Family(key="coverage", title="Portfolio coverage", roles=ROLES, build=build, order=60)


# The rows behind the figures.

ACCOUNT_COLUMNS = (
    Column("account", "Account", "display_name"),
    Column("tier", "Tier", "tier__name", order_by=("tier__rank", "display_name")),
    Column("owner", "Owner", "owner_name"),
    Column("last_check_in", "Last check-in", "last_check_in_at"),
    Column("next_due", "Next due", "next_check_in_due"),
    Column("days_overdue", "Days overdue", "days_overdue", numeric=True),
)


def _account_filters(accounts, query: RowQuery):
    accounts = _mine(accounts, query.specialist)
    if "tier" in query.filters:
        accounts = accounts.filter(tier_id=query.filters["tier"])
    if "owner" in query.filters:
        accounts = accounts.filter(owner_id=query.filters["owner"])
    return accounts


def _with_columns(accounts, now: dt.datetime):
    overdue_days = Floor(
        seconds_between("next_check_in_due", Value(now, output_field=DateTimeField())) / DAY_SECONDS
    )
    return accounts.annotate(
        owner_name=person_name("owner"),
        days_overdue=Cast(overdue_days, IntegerField()),
    )


def overdue_accounts(query: RowQuery):
    """Overdue now, whatever the period (the figure is the portfolio as it stands)."""
    now = timezone.now()
    accounts = Account.objects.filter(due_state_filter("overdue", now), status=Account.Status.ACTIVE)
    accounts = _account_filters(accounts, query)
    return _with_columns(accounts, now).order_by("next_check_in_due", "pk")


def coverage_accounts(query: RowQuery):
    """The accounts the on-time share is computed over, at the period's instant; `state` keeps
    the on-time or the late ones."""
    now = timezone.now()
    instant = instant_of(query.period, now)
    accounts = Account.objects.filter(status=Account.Status.ACTIVE, created_at__lt=instant)
    accounts = _account_filters(accounts, query)
    state = query.filters.get("state")
    if state is not None:
        on_time = on_time_at(instant, cadences())
        accounts = accounts.filter(on_time if state == "on-time" else ~on_time)
    return _with_columns(accounts, now).order_by("next_check_in_due", "display_name", "pk")


def _account_url(account) -> str:
    return reverse("accounts:detail", args=[account.pk])


FILTERS = {"tier": positive_id("Tier"), "owner": positive_id("Owner")}

register_rows(
    RowList(
        key="overdue-accounts",
        title="Overdue accounts",
        definition=OVERDUE_DEFINITION,
        columns=ACCOUNT_COLUMNS,
        rows=overdue_accounts,
        roles=ROLES,
        filters=FILTERS,
        item_url=_account_url,
    )
)
register_rows(
    RowList(
        key="coverage-accounts",
        title="Accounts and their check-in cadence",
        definition=ON_TIME_DEFINITION,
        columns=ACCOUNT_COLUMNS,
        rows=coverage_accounts,
        roles=ROLES,
        filters={**FILTERS, "state": one_of("State", ("on-time", "late"))},
        item_url=_account_url,
    )
)
