"""Demo on-call set-up for `seed_demo`: a rota of the demo specialists and the default escalation
policy, so *Escalate* pages someone from the first minute."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from oncall.models import EscalationPolicy, EscalationStep, Rota, RotaLayer, RotaMember

DEMO_TIME_ZONE = "America/New_York"
HANDOFF = dt.time(9, 0)


def seed_oncall(*, specialists: list, lead) -> dict:
    """A weekly rota handing off on Mondays at 09:00 New York time (primary: the first half of
    the specialists, secondary: the rest, `specialist` first so the demo login is on call now)
    and the default policy: primary 30 minutes, secondary 15, then `lead` every 10 minutes."""
    if len(specialists) < 2:
        return {"rotas": 0, "policies": 0}
    # The shift running now starts the rotation, so its first members are on call today.
    now = timezone.now().astimezone(ZoneInfo(DEMO_TIME_ZONE))
    last_monday = now.date() - dt.timedelta(days=now.weekday())
    if now.replace(tzinfo=None) < dt.datetime.combine(last_monday, HANDOFF):
        last_monday -= dt.timedelta(days=7)
    rota = Rota.objects.create(
        name="Advanced support",
        time_zone=DEMO_TIME_ZONE,
        starts_on=last_monday,
        handoff_time=HANDOFF,
        rotation_days=7,
    )
    half = max(1, len(specialists) // 2)
    for position, (name, members) in enumerate(
        (("Primary", specialists[:half]), ("Secondary", specialists[half:])), 1
    ):
        layer = RotaLayer.objects.create(rota=rota, name=name, position=position)
        RotaMember.objects.bulk_create(
            RotaMember(layer=layer, user=user, position=number) for number, user in enumerate(members, 1)
        )
    policy = EscalationPolicy.objects.create(name="Default", rota=rota, is_default=True)
    EscalationStep.objects.bulk_create(
        [
            EscalationStep(policy=policy, position=1, layer_position=1, wait_minutes=30),
            EscalationStep(policy=policy, position=2, layer_position=2, wait_minutes=15),
            EscalationStep(policy=policy, position=3, person=lead, wait_minutes=10),
        ]
    )
    return {"rotas": 1, "policies": 1}
