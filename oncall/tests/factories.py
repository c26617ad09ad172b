"""Rotas, escalation policies and escalations for tests, written straight to the models (the
services are tested on their own)."""

import datetime as dt

from django.utils import timezone

from accounts.tests.factories import specialist_user
from oncall.models import Escalation, EscalationPolicy, EscalationStep, Rota, RotaLayer, RotaMember


def make_rota(
    name: str = "Support",
    *,
    layers: dict[str, list] | None = None,
    time_zone: str = "UTC",
    starts_on: dt.date = dt.date(2027, 3, 1),  # a Monday
    handoff_time: dt.time = dt.time(9, 0),
    rotation_days: int = 7,
    webhook_url: str = "",
) -> Rota:
    """A rota whose layers (name -> members in order; position by dict order) default to a
    primary of two new Specialists and a secondary of one."""
    rota = Rota.objects.create(
        name=name,
        time_zone=time_zone,
        starts_on=starts_on,
        handoff_time=handoff_time,
        rotation_days=rotation_days,
        webhook_url=webhook_url,
    )
    if layers is None:
        layers = {
            "Primary": [specialist_user(), specialist_user()],
            "Secondary": [specialist_user()],
        }
    for position, (layer_name, members) in enumerate(layers.items(), 1):
        layer = RotaLayer.objects.create(rota=rota, name=layer_name, position=position)
        for number, user in enumerate(members, 1):
            RotaMember.objects.create(layer=layer, user=user, position=number)
    return rota


def make_escalation_policy(
    rota: Rota, *, name: str = "Default", steps=((1, None, 30), (2, None, 15)), lead=None, **fields
) -> EscalationPolicy:
    """Steps as (layer position or None, person or None, wait minutes); with `lead`, a last step
    paging that person (10 minutes)."""
    policy = EscalationPolicy.objects.create(name=name, rota=rota, **fields)
    steps = list(steps) + ([(None, lead, 10)] if lead is not None else [])
    for position, (layer_position, person, wait) in enumerate(steps, 1):
        EscalationStep.objects.create(
            policy=policy, position=position, layer_position=layer_position, person=person, wait_minutes=wait
        )
    return policy


def make_escalation(
    policy: EscalationPolicy, *, account=None, case=None, conversation=None, **fields
) -> Escalation:
    """An open escalation due for its first page now (no pages yet)."""
    if account is None and case is None and conversation is None:
        from accounts.tests.factories import make_account

        account = make_account()
    now = timezone.now()
    defaults = {
        "severity": Escalation.Severity.SEV2,
        "summary": "Trader cannot withdraw",
        "raised_at": now,
        "next_page_at": now,
        "ack_deadline_at": now + dt.timedelta(minutes=30),
    }
    return Escalation.objects.create(
        policy=policy, account=account, case=case, conversation=conversation, **{**defaults, **fields}
    )
