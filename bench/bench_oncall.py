"""The escalation minute pass at scale: 10,000 open escalations (on conversations, cases and
accounts from `seed_demo --open-items`), a rota of the seeded specialists and a three-step policy.

Targets: the pass (oncall.tasks.escalations_page: paging and sending) ≤ 1 s when nothing is due,
≤ 2 s when 500 escalations reach a step, paging through the local test doubles: Django's
in-memory e-mail outbox and a chat webhook served on a loopback port. Each round makes the next
500 escalations due (their deadline just passed), as time moving on would."""

import datetime as dt
import os
import time

from django.conf import settings
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.prodcheck.topology import ChatHook, serve_chat_hook
from bench.timing import measure, seed_demo, summary

OPEN = int(os.environ.get("BENCH_ONCALL_ESCALATIONS", "10000"))
DUE = int(os.environ.get("BENCH_ONCALL_DUE", "500"))
ROUNDS = 3
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))


def run(report):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seed_demo(
        report, accounts=2000, markets=200, disputes=0, conversations=0, feedback=0, **{"open-items": OPEN}
    )
    server, hook_url = serve_chat_hook()
    try:
        _run(report, hook_url)
    finally:
        server.shutdown()


def _run(report, hook_url):
    from oncall.models import Escalation, Page
    from oncall.services.paging import escalations_page_due
    from oncall.tasks import escalations_page

    now = timezone.now()
    _escalations(hook_url, now)
    report.figure("  open escalations", f"{Escalation.objects.filter(status='triggered').count()}")

    stats = measure(escalations_page, repeat=REPEAT)
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        escalations_page()
    verdict = "met" if stats["median_ms"] <= 1000 else "MISSED"
    report.figure("pass, nothing due", f"{summary(stats)}; {len(queries)} queries [target ≤ 1 s: {verdict}]")

    ids = list(Escalation.objects.order_by("pk").values_list("pk", flat=True))
    for round_ in range(ROUNDS):
        chosen = ids[round_ * DUE : (round_ + 1) * DUE]
        Escalation.objects.filter(pk__in=chosen).update(
            next_page_at=timezone.now() - dt.timedelta(seconds=30)
        )
        before_pages, before_hook = Page.objects.count(), len(ChatHook.received)
        started = time.perf_counter()
        paging = escalations_page_due().as_dict()
        paged = time.perf_counter()
        delivery = escalations_page()  # the task: what is left to page (nothing) and the sending
        ms, paging_ms = (time.perf_counter() - started) * 1000, (paged - started) * 1000
        verdict = "met" if ms <= 2000 else "MISSED"
        report.figure(
            f"pass, {len(chosen)} steps due",
            f"{ms:.0f} ms ({paging_ms:.0f} ms storing {paging['rounds']} rounds, "
            f"{Page.objects.count() - before_pages} pages; {ms - paging_ms:.0f} ms sending "
            f"{delivery['sent']}, {len(ChatHook.received) - before_hook} of them webhook posts; {delivery['failed']} failed) "
            f"[target ≤ 2 s: {verdict}]",
        )


def _escalations(hook_url, now):
    """OPEN open escalations, their first page long sent, the next step due in the future."""
    from disputes.models import DisputeCase
    from oncall.models import Escalation, EscalationPolicy, EscalationStep, Rota, RotaLayer, RotaMember
    from portal.models import User
    from support.models import Conversation

    people = list(User.objects.filter(username__startswith="specialist").order_by("pk"))
    rota = Rota.objects.create(
        name="Bench", starts_on=now.date() - dt.timedelta(days=30), webhook_url=hook_url
    )
    for position, members in enumerate((people[: len(people) // 2], people[len(people) // 2 :]), 1):
        layer = RotaLayer.objects.create(rota=rota, name=f"Layer {position}", position=position)
        RotaMember.objects.bulk_create(
            RotaMember(layer=layer, user=u, position=n) for n, u in enumerate(members, 1)
        )
    EscalationPolicy.objects.update(is_default=False)  # the demo's own default steps aside
    policy = EscalationPolicy.objects.create(name="Bench", rota=rota, is_default=True)
    EscalationStep.objects.bulk_create(
        [
            EscalationStep(policy=policy, position=1, layer_position=1, wait_minutes=30),
            EscalationStep(policy=policy, position=2, layer_position=2, wait_minutes=15),
            EscalationStep(policy=policy, position=3, person=people[0], wait_minutes=10),
        ]
    )
    items = [
        ("conversation", pk) for pk in Conversation.objects.values_list("pk", flat=True)[: OPEN * 3 // 4]
    ]
    items += [
        ("case", pk) for pk in DisputeCase.objects.open().values_list("pk", flat=True)[: OPEN - len(items)]
    ]
    later = now + dt.timedelta(days=1)
    Escalation.objects.bulk_create(
        (
            Escalation(
                severity="sev2",
                summary=f"Bench escalation {n}",
                policy=policy,
                raised_at=now - dt.timedelta(minutes=5),
                round=1,
                next_page_at=later,
                ack_deadline_at=now + dt.timedelta(minutes=25),
                **{f"{kind}_id": pk},
            )
            for n, (kind, pk) in enumerate(items)
        ),
        batch_size=1000,
    )
