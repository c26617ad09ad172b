"""A year of escalations under the default policy, paged as the paging pass pages them: round 0
to whoever the rota had on call in the first layer when it was raised, then each step after its
wait, then the last step again every `repeat_minutes`, until someone who was paged acknowledged
it (median about ten minutes, a tail past the 30-minute target; a few never acknowledged, so
resolving acknowledged them at that moment, as `escalation_resolve` does). All are resolved.
About a third were raised by an SLA breach (at the breach, about the breached item, with its
clock); the others by the specialist who owns the account, about a conversation, a case or an
account. The rota is moved to have started before the window (by whole rotations of both layers,
so who is on call now does not change)."""

import datetime as dt
import math
import random

from django.contrib.auth import get_user_model
from django.db.models import F
from django.db.models.functions import Coalesce

from accounts.models import Account
from disputes.models import DisputeCase
from oncall.models import Escalation, EscalationEvent, EscalationPolicy, Page, Rota
from oncall.rota import on_call_at, rota_specs
from reports.demo.moments import Window, after
from support.models import Conversation, SlaClock

CHUNK = 2000
BREACH_SHARE = 0.35
SEVERITIES = [Escalation.Severity.SEV1, Escalation.Severity.SEV2, Escalation.Severity.SEV3]
SUMMARIES = [
    "Whale cannot withdraw; funds stuck for hours",
    "Market maker's orders rejected since the last deploy",
    "Large disputed resolution, trader threatening to go public",
    "Deposit credited twice; needs a decision now",
    "API key revoked by mistake for a market maker",
    "Trader reports positions missing after the market closed",
]
NEVER_ACKNOWLEDGED = 0.03


def seed_history_escalations(
    *, rng: random.Random, window: Window, count: int, specialists: list, lead, progress
) -> dict:
    """`count` resolved escalations raised over the window, with their pages and history (none
    without the default policy)."""
    result = {"escalations": 0, "pages": 0, "escalation_events": 0}
    policy = EscalationPolicy.objects.filter(is_default=True).select_related("rota").first()
    if count <= 0 or policy is None or not specialists or not Account.objects.exists():
        return result
    steps = list(policy.steps.order_by("position"))
    _rota_before(policy.rota, window.start)
    spec = rota_specs([Rota.objects.get(pk=policy.rota_id)], since=window.start)[policy.rota_id]
    people = {u.pk: u for u in get_user_model().objects.filter(is_active=True)}
    specialist_ids = [s.pk for s in specialists]
    latest = window.now - dt.timedelta(hours=6)
    breaches = _breaches(rng, window, latest, round(count * BREACH_SHARE))
    manual = [_manual(rng, window, latest) for _ in range(count - len(breaches))]
    plans = sorted([*breaches, *_load(manual)], key=lambda plan: plan["at"])
    for start in range(0, len(plans), CHUNK):
        escalations, pages, events = [], [], []
        for plan in plans[start : start + CHUNK]:
            escalation = _raise(rng, plan, policy, steps, specialist_ids)
            escalations.append(escalation)
            for kind, actor, moment, summary, paged, number, step in _history(
                rng, escalation, steps, spec, policy, people
            ):
                events.append(
                    EscalationEvent(
                        escalation=escalation, kind=kind, actor_id=actor, at=moment, summary=summary[:300]
                    )
                )
                if paged:
                    pages.extend(_pages(escalation, paged, number, step, people, plan["account"], moment))
        Escalation.objects.bulk_create(escalations)
        for row in (*pages, *events):
            row.escalation_id = row.escalation.pk
        Page.objects.bulk_create(pages)
        EscalationEvent.objects.bulk_create(events)
        Escalation.objects.filter(pk__in=[e.pk for e in escalations]).update(
            created_at=F("raised_at"), updated_at=Coalesce("resolved_at", "raised_at")
        )
        result["escalations"] += len(escalations)
        result["pages"] += len(pages)
        result["escalation_events"] += len(events)
        progress(f"{result['escalations']}/{count} escalations")
    return result


def _rota_before(rota: Rota, start: dt.datetime) -> None:
    """Move the rota's first hand-off back before `start` by whole rotations of every layer."""
    sizes = [layer.members.count() for layer in rota.layers.all()] or [1]
    cycle = math.lcm(*[max(1, n) for n in sizes]) * rota.rotation_days
    starts_on = rota.starts_on
    while dt.datetime.combine(starts_on, rota.handoff_time, tzinfo=dt.UTC) > start - dt.timedelta(days=2):
        starts_on -= dt.timedelta(days=cycle)
    if starts_on != rota.starts_on:
        Rota.objects.filter(pk=rota.pk).update(starts_on=starts_on)


def _breaches(rng: random.Random, window: Window, latest: dt.datetime, count: int) -> list[dict]:
    """Breached first-response and resolution clocks of the window, raised at their breach."""
    ids = list(
        SlaClock.objects.filter(
            breached_at__gte=window.start,
            breached_at__lt=latest,
            metric__in=[SlaClock.Metric.FIRST_RESPONSE, SlaClock.Metric.RESOLUTION],
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    chosen = sorted(rng.sample(ids, min(count, len(ids))))
    plans = []
    for clock in (
        SlaClock.objects.filter(pk__in=chosen)
        .select_related("conversation__account", "case__account")
        .order_by("pk")
    ):
        item = {"conversation": clock.conversation} if clock.conversation_id else {"case": clock.case}
        what = clock.conversation.title if clock.conversation_id else clock.case.reference
        plans.append(
            {
                "at": clock.breached_at,
                "clock": clock,
                "item": item,
                "account": next(iter(item.values())).account,
                "summary": f"SLA breached: {clock.get_metric_display().lower()} on {what}",
            }
        )
    return plans


def _manual(rng: random.Random, window: Window, latest: dt.datetime) -> dict:
    """A conversation, case or account to raise an escalation about (the rows are loaded later)."""
    roll = rng.random()
    kind = "conversation" if roll < 0.45 else "case" if roll < 0.8 else "account"
    return {
        "kind": kind,
        "roll": rng.random(),
        "delay": rng.lognormvariate(math.log(90), 1.0),
        "at": window.moments(rng, 1, until=latest)[0],
        "latest": latest,
        "summary": rng.choice(SUMMARIES),
    }


def _load(plans: list[dict]) -> list[dict]:
    """Give each manual plan its item, raised while the item was open (an account any time)."""
    window_start = min((p["at"] for p in plans), default=None)
    pools = {
        "conversation": list(
            Conversation.objects.filter(created_at_intercom__gte=window_start, account__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if plans
        else [],
        "case": list(
            DisputeCase.objects.filter(created_at__gte=window_start)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if plans
        else [],
    }
    for plan in plans:
        pool = pools.get(plan["kind"])
        plan["pk"] = pool[int(plan["roll"] * len(pool))] if pool else None
    rows = {
        "conversation": Conversation.objects.select_related("account").in_bulk(
            [p["pk"] for p in plans if p["kind"] == "conversation" and p["pk"]]
        ),
        "case": DisputeCase.objects.select_related("account").in_bulk(
            [p["pk"] for p in plans if p["kind"] == "case" and p["pk"]]
        ),
    }
    accounts = list(Account.objects.order_by("pk"))
    for plan in plans:
        row = rows.get(plan["kind"], {}).get(plan["pk"])
        if row is not None:
            opened = row.created_at_intercom if plan["kind"] == "conversation" else row.created_at
            ended = row.closed_at if plan["kind"] == "conversation" else row.decided_at or row.closed_at
            at = after(opened, plan["delay"])
            if at < min(ended or plan["latest"], plan["latest"]):
                plan.update(at=at, item={plan["kind"]: row}, account=row.account, clock=None)
                continue
        account = accounts[int(plan["roll"] * len(accounts))]
        plan.update(item={"account": account}, account=account, clock=None)
    return plans


def _raise(rng: random.Random, plan: dict, policy, steps, specialist_ids: list[int]) -> Escalation:
    at, clock, account = plan["at"], plan["clock"], plan["account"]
    owner = account.owner_id if account is not None and account.owner_id in specialist_ids else None
    return Escalation(
        severity=Escalation.Severity.SEV2 if clock else rng.choices(SEVERITIES, weights=[12, 38, 50])[0],
        summary=plan["summary"][:300],
        status=Escalation.Status.RESOLVED,
        source=Escalation.Source.SLA_BREACH if clock else Escalation.Source.MANUAL,
        sla_clock=clock,
        policy=policy,
        raised_by_id=None if clock else owner or rng.choice(specialist_ids),
        raised_at=at,
        ack_deadline_at=after(at, steps[0].wait_minutes),
        **plan["item"],
    )


def _history(rng: random.Random, escalation: Escalation, steps, spec, policy, people: dict):
    """(kind, actor id, at, summary, people paged) in time order; sets the escalation's round,
    acknowledgement and resolution."""
    raised = escalation.raised_at
    never = rng.random() < NEVER_ACKNOWLEDGED
    wait = rng.uniform(35, 180) if never else max(0.5, rng.lognormvariate(math.log(10), 0.75))
    acknowledged = after(raised, wait)
    how = "by an SLA breach" if escalation.source == Escalation.Source.SLA_BREACH else ""
    events = [
        (
            EscalationEvent.Kind.RAISED,
            escalation.raised_by_id,
            raised,
            f"Raised {escalation.get_severity_display()}{' ' + how if how else ''}: {escalation.summary}",
            [],
            None,
            None,
        )
    ]
    paged: list[int] = []
    at, number, last = raised, 0, len(steps) - 1
    while at < acknowledged:
        step = steps[min(number, last)]
        ids = [step.person_id] if step.person_id else [on_call_at(spec, step.layer_position, at)]
        ids = [uid for uid in ids if uid in people]
        names = ", ".join(people[uid].display_name for uid in ids)
        label = f"step {step.position}" + (" again" if number >= step.position else "")
        summary = (
            f"Paged {names} ({label})"
            if ids
            else f"Nobody on call to page at {label}; going on to the next step"
        )
        events.append((EscalationEvent.Kind.PAGED, None, at, summary, ids, number, step.position))
        paged.extend(uid for uid in ids if uid not in paged)
        number += 1
        if number - 1 < last:
            at = after(at, step.wait_minutes) if ids else at
        elif number - 1 == last:
            at = after(at, step.wait_minutes)
        else:
            at = after(at, policy.repeat_minutes)
    escalation.round = number
    # Whoever was paged last picks it up, mostly (the first person, when it was quick).
    who = (
        paged[-1] if paged and (wait > steps[0].wait_minutes or rng.random() < 0.2) else (paged or [None])[0]
    )
    resolved = acknowledged if never else after(acknowledged, rng.lognormvariate(math.log(120), 1.0))
    escalation.acknowledged_by_id, escalation.acknowledged_at = who, acknowledged
    escalation.resolved_by_id, escalation.resolved_at = who, resolved
    minutes = (acknowledged - raised).total_seconds() / 60
    events.append(
        (
            EscalationEvent.Kind.ACKNOWLEDGED,
            who,
            acknowledged,
            f"Acknowledged {minutes:.0f} min after it was raised",
            [],
            None,
            None,
        )
    )
    events.append((EscalationEvent.Kind.RESOLVED, who, resolved, "Resolved", [], None, None))
    return events


def _pages(
    escalation: Escalation, paged: list[int], number: int, step: int, people: dict, account, at
) -> list[Page]:
    """The round's e-mails (and with the first round, the note on the trader's Intercom
    contact), each sent seconds after it was stored."""
    sent = at + dt.timedelta(seconds=3)
    common = {
        "escalation": escalation,
        "round": number,
        "step": step,
        "created_at": at,
        "status": Page.Status.SENT,
        "attempts": 1,
        "sent_at": sent,
    }
    pages = [
        Page(**common, recipient_id=uid, channel=Page.Channel.EMAIL, address=people[uid].email)
        for uid in paged
        if people[uid].email
    ]
    if number == 0 and account is not None and account.external_id:
        pages.append(
            Page(**common, recipient_id=paged[0], channel=Page.Channel.INTERCOM, address=account.external_id)
        )
    return pages
