"""The paging pass: every escalation nobody has acknowledged is paged step by step.

Round 0 pages the policy's first step as soon as the escalation is raised; each step waits its
minutes for an acknowledgement, then the next round pages the next step; after the last step,
the last step's people are paged again every `repeat_minutes` until someone acknowledges. A step
pages a rota layer (whoever is on call in it at that moment) or a named person; a step whose
layer has nobody on call (or only someone deactivated) pages nobody and the next step follows at
once. Deadlines count from the previous deadline, not from when the pass ran: a worker that was
down pages every step that came due meanwhile as soon as it is back (repeats of the last step
collapse into one).

Each round's pages are stored, with the escalation's new round and next page time, in one
transaction per batch; the unique constraint on (escalation, round, recipient, channel) and row
locks (SKIP LOCKED on PostgreSQL) keep two passes at once from paging a round twice. Sending is
oncall.services.delivery's job, right after the commit."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from oncall.models import Escalation, EscalationEvent, EscalationStep, OncallContact, Page
from oncall.rota import on_call_at, rota_specs
from portal.db import bulk_update_rows

BATCH = 500


@dataclass
class PagingReport:
    escalations: int = 0
    rounds: int = 0
    pages: int = 0

    def as_dict(self) -> dict:
        return {"escalations": self.escalations, "rounds": self.rounds, "pages": self.pages}


@dataclass
class Round:
    escalation: Escalation
    number: int
    step: EscalationStep
    user_ids: list[int]


def escalations_page_due(now: dt.datetime | None = None, *, batch: int = BATCH) -> PagingReport:
    """Store the pages of every round whose time has come (a batch at a time). Reads only
    escalations whose indexed `next_page_at` has passed. Safe to run twice at once and to retry."""
    now = now or timezone.now()
    report = PagingReport()
    while _page_batch(now, batch, report) == batch:
        pass
    return report


def _page_batch(now, batch: int, report: PagingReport) -> int:
    with transaction.atomic():
        due = Escalation.objects.filter(next_page_at__lte=now, status=Escalation.Status.TRIGGERED)
        # Lock the escalations only (their items are read alongside, through nullable joins).
        due = due.select_for_update(
            skip_locked=connection.features.has_select_for_update_skip_locked, of=("self",)
        )
        escalations = list(
            due.select_related("policy__rota", "account", "case__account", "conversation__account").order_by(
                "next_page_at", "pk"
            )[:batch]
        )
        if not escalations:
            return 0
        steps = defaultdict(list)
        for step in EscalationStep.objects.filter(policy__in={e.policy_id for e in escalations}).order_by(
            "policy", "position"
        ):
            steps[step.policy_id].append(step)
        specs = rota_specs({e.policy.rota for e in escalations}, since=now)
        # Everyone a step could page, active ones only (a deactivated person is nobody on call).
        named = {step.person_id for group in steps.values() for step in group if step.person_id}
        people = _people(named.union(*(spec.user_ids for spec in specs.values())))
        rounds = [
            r
            for e in escalations
            for r in _rounds_due(e, steps[e.policy_id], specs[e.policy.rota_id], people, now)
        ]
        pages, events = [], []
        for r in rounds:
            paged = [people[uid] for uid in r.user_ids]
            pages.extend(_pages_of(r, paged, now))
            events.append(_paged_event(r, paged, now))
        Page.objects.bulk_create(pages, ignore_conflicts=True)
        EscalationEvent.objects.bulk_create(events)
        bulk_update_rows(
            Escalation,
            ["round", "next_page_at", "updated_at"],
            [(e.round, e.next_page_at, now, e.pk) for e in escalations],
        )
        report.escalations += len(escalations)
        report.rounds += len(rounds)
        report.pages += len(pages)
        return len(escalations)


def _rounds_due(escalation: Escalation, steps: list[EscalationStep], spec, people: dict, now) -> list[Round]:
    """The rounds of `escalation` due at `now`, moving its round and next page time on."""
    rounds, last = [], len(steps) - 1
    if last < 0:  # a policy left without steps: nobody to page; look again later
        escalation.next_page_at = now + dt.timedelta(minutes=escalation.policy.repeat_minutes)
        return rounds
    at = escalation.next_page_at
    while at is not None and at <= now:
        number = escalation.round
        step = steps[min(number, last)]
        user_ids = [uid for uid in _recipients(step, spec, now) if uid in people]
        rounds.append(Round(escalation, number, step, user_ids))
        escalation.round += 1
        if number < last:  # the next step after this one's wait; at once when it paged nobody
            at = at + dt.timedelta(minutes=step.wait_minutes) if user_ids else at
        elif number == last:
            at = at + dt.timedelta(minutes=step.wait_minutes)
        else:  # a repeat: the next one `repeat_minutes` from now, however late this one was
            at = now + dt.timedelta(minutes=escalation.policy.repeat_minutes)
    escalation.next_page_at = at
    return rounds


def _recipients(step: EscalationStep, spec, now) -> list[int]:
    if step.person_id is not None:
        return [step.person_id]
    user_id = on_call_at(spec, step.layer_position, now)
    return [user_id] if user_id is not None else []


def _people(user_ids: set[int]) -> dict:
    """The active people among `user_ids`, with their own chat webhook (two queries)."""
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids, is_active=True)}
    hooks = dict(
        OncallContact.objects.filter(user_id__in=users)
        .exclude(webhook_url="")
        .values_list("user_id", "webhook_url")
    )
    for user in users.values():
        user.paging_webhook = hooks.get(user.pk, "")
    return users


def _pages_of(r: Round, people: list, now) -> list[Page]:
    escalation = r.escalation
    pages = []
    for person in people:
        common = {"escalation": escalation, "round": r.number, "step": r.step.position, "recipient": person}
        if person.email:
            pages.append(
                Page(
                    **common,
                    channel=Page.Channel.EMAIL,
                    address=person.email,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        hook = person.paging_webhook or escalation.policy.rota.webhook_url
        if hook:
            pages.append(
                Page(
                    **common, channel=Page.Channel.WEBHOOK, address=hook, created_at=now, next_attempt_at=now
                )
            )
    account = _account_of(escalation)
    if r.number == 0 and people and account is not None and account.external_id:
        # The team in Intercom sees it on the trader's contact: one note, with the first page.
        pages.append(
            Page(
                escalation=escalation,
                round=0,
                step=r.step.position,
                recipient=people[0],
                channel=Page.Channel.INTERCOM,
                address=account.external_id,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return pages


def _account_of(escalation: Escalation):
    if escalation.account_id:
        return escalation.account
    if escalation.case_id:
        return escalation.case.account
    return escalation.conversation.account


def _paged_event(r: Round, people: list, now) -> EscalationEvent:
    step = f"step {r.step.position}" + (" again" if r.number >= r.step.position else "")
    if people:
        names = ", ".join(person.display_name for person in people)
        summary = f"Paged {names} ({step})"
    else:
        summary = f"Nobody on call to page at {step}; going on to the next step"
    return EscalationEvent(
        escalation=r.escalation, kind=EscalationEvent.Kind.PAGED, actor=None, at=now, summary=summary[:300]
    )
