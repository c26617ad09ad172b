"""The conversation import at scale (issue: reconciliation import): 50,000 conversations in the
fake Intercom, across the contacts of 2,000 seeded accounts, read through the search API and
stored in the mirror from scratch.

Targets: the import ≤ 300 s; the account page's query count is the same for an account with 5
and with 100 conversations. Reports conversations/s, calls made, a second run over the same
window (everything unchanged), and the page's query counts."""

import copy
import datetime as dt
import os
import random
import time

from django.conf import settings
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.timing import seed_demo

ACCOUNTS = int(os.environ.get("BENCH_CONVERSATION_ACCOUNTS", "2000"))
CONVERSATIONS = int(os.environ.get("BENCH_CONVERSATIONS", "50000"))
TARGET_SECONDS = 300
DAYS = 90


def run(report):
    from accounts.models import Account
    from integrations.intercom.client import IntercomClient
    from integrations.intercom.fake import FakeIntercom
    from integrations.models import IntercomAdmin, RateBudget
    from portal.models import User
    from support.importing import conversations_import
    from support.models import Conversation

    class RatedFake(FakeIntercom):
        """The fake, serving what its API cannot produce: statistics, ratings, SLA (record["extras"])."""

        def _conversation_json(self, record, *, with_parts, plaintext=False):
            data = super()._conversation_json(record, with_parts=with_parts, plaintext=plaintext)
            data.update(copy.deepcopy(record.get("extras") or {}))
            return data

    seed_demo(report, accounts=ACCOUNTS, markets=0, disputes=0, conversations=0)

    specialist = User.objects.get(username="specialist")
    accounts = list(Account.objects.order_by("pk").values_list("pk", "external_id", "email", "owner_id"))
    own = [a for a in accounts if a[3] == specialist.pk]
    small, busy = own[0], own[1]  # the account pages measured: 5 and 100 conversations
    for number, admin_id in enumerate(("991267002", "991267003")):
        IntercomAdmin.objects.update_or_create(
            intercom_id=admin_id,
            defaults={
                "name": f"Admin {number}",
                "portal_user": User.objects.filter(username=f"specialist{number + 2}").first(),
                "synced_at": timezone.now(),
            },
        )

    with RatedFake(search_delay_seconds=0) as fake:
        settings.INTERCOM_ENABLED = True
        settings.INTERCOM_ACCESS_TOKEN = fake.token
        settings.INTERCOM_BASE_URL = fake.url
        RateBudget.objects.all().delete()

        started = time.perf_counter()
        contact_of = {}
        for pk, external_id, email, _owner in accounts:
            contact_of[pk] = fake.add_contact(role="user", external_id=external_id, email=email)["id"]
        leads = [fake.add_contact(role="lead", email=f"lead{n}@visitor.example")["id"] for n in range(200)]
        now = int(time.time())
        rng = random.Random(20261126)
        plan = [contact_of[small[0]]] * 5 + [contact_of[busy[0]]] * 100
        others = [contact_of[a[0]] for a in accounts if a[0] not in (small[0], busy[0])]
        # Most conversations come from accounts, some far busier than others; a tenth from leads.
        weights = [rng.lognormvariate(0, 1) for _ in others]
        rest = CONVERSATIONS - len(plan)
        from_leads = rest // 10
        plan += rng.choices(others, weights=weights, k=rest - from_leads) + rng.choices(leads, k=from_leads)
        rng.shuffle(plan)
        for contact_id in plan:
            _add_conversation(fake, rng, contact_id, now)
        report.figure(
            "fake Intercom seeded",
            f"{len(fake.contacts())} contacts, {len(plan)} conversations in {time.perf_counter() - started:.1f} s",
        )

        since = timezone.now() - dt.timedelta(days=DAYS + 1)
        calls_before = fake.call_count
        with IntercomClient() as client:
            timed = _TimedClient(client)
            result = conversations_import(client=timed, since=since, watermark_name="bench")
        rate = result.fetched / result.seconds if result.seconds else 0
        verdict = "met" if result.seconds <= TARGET_SECONDS and result.stored == len(plan) else "NOT met"
        report.figure(
            "import from scratch",
            f"{result.seconds:.1f} s, {rate:.0f} conversations/s [target ≤ {TARGET_SECONDS} s: {verdict}]",
        )
        report.figure(
            "  fetched / stored / unchanged / older / failed",
            f"{result.fetched} / {result.stored} / {result.unchanged} / {result.older_skipped} / {result.failed}",
        )
        report.figure("  calls (pages of 150)", f"{fake.call_count - calls_before} ({result.pages} pages)")
        report.figure(
            "  of which reading the search / storing",
            f"{timed.seconds:.1f} s / {result.seconds - timed.seconds:.1f} s",
        )
        linked = Conversation.objects.filter(account__isnull=False).count()
        report.figure("  mirror rows (linked to an account)", f"{Conversation.objects.count()} ({linked})")
        report.figure("  watermark", f"{result.watermark:%Y-%m-%d %H:%M:%S}")

        with IntercomClient() as client:
            timed = _TimedClient(client)
            again = conversations_import(client=timed, since=since, watermark_name="bench")
        report.figure(
            "second run over the same window",
            f"{again.seconds:.1f} s ({timed.seconds:.1f} s reading the search), "
            f"{again.unchanged} unchanged, {again.stored} stored",
        )

    client = Client()
    client.force_login(specialist)
    counts = []
    for pk, _external, _email, _owner in (small, busy):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            status = client.get(f"/accounts/{pk}/").status_code
        mirrored = Conversation.objects.filter(account_id=pk).count()
        counts.append(len(queries))
        report.figure(
            f"/accounts/<id>/ with {mirrored} conversations", f"{len(queries)} queries; HTTP {status}"
        )
    report.figure("account page query count constant", "yes" if len(set(counts)) == 1 else f"NO {counts}")


def _add_conversation(fake, rng, contact_id, now):
    from integrations.intercom.fake import SUPPORT_TEAM_ID

    """One conversation in a realistic end state: mostly closed (a third of those rated), some
    open or snoozed; assigned, replied to, with an SLA; updated in the last 90 days."""
    updated = now - rng.randint(0, DAYS * 86400)
    created = updated - rng.randint(60, 7 * 86400)
    state = rng.choices(["closed", "open", "snoozed"], weights=[70, 22, 8])[0]
    assigned = rng.random() < 0.85
    conversation = fake.add_conversation(
        contact_id,
        "Hello, my withdrawal is stuck.",
        title=rng.choice(["Withdrawal stuck", "API limits", "Market resolution", "Fees question", None]),
        state=state,
        priority=rng.choice(["none", "none", "low", "medium", "high", "urgent"]),
        admin_assignee_id=int(rng.choice(["991267002", "991267003"])) if assigned else 0,
        team_assignee_id=int(SUPPORT_TEAM_ID) if assigned else 0,
        created_at=created,
        updated_at=updated,
    )
    replied = created + rng.randint(30, 4 * 3600)
    stats = {
        "type": "conversation_statistics",
        "time_to_admin_reply": replied - created,
        "first_contact_reply_at": created,
        "first_admin_reply_at": min(replied, updated),
        "last_admin_reply_at": min(replied + 600, updated),
        "last_contact_reply_at": min(replied + 300, updated),
        "count_reopens": rng.choice([0, 0, 0, 1, 2]),
        "count_assignments": 1 if assigned else 0,
        "count_conversation_parts": rng.randint(2, 30),
    }
    extras = {
        "statistics": stats,
        "sla_applied": {
            "type": "conversation_sla_summary",
            "sla_name": "Advanced users",
            "sla_status": rng.choice(["hit", "hit", "hit", "missed", "active"]),
        },
    }
    if state == "closed":
        stats["last_close_at"] = updated
        if rng.random() < 0.35:
            extras["conversation_rating"] = {
                "rating": rng.choices([1, 2, 3, 4, 5], weights=[5, 5, 10, 30, 50])[0],
                "remark": rng.choice(["", "Quick and helpful", "Took too long"]),
                "created_at": updated,
                "updated_at": updated,
                "contact": {"type": "contact", "id": contact_id},
            }
    with fake._lock:
        record = fake._conversations[conversation["id"]]
        record["extras"] = extras
        fake._index_now(fake._conversation_index, record["id"], record)


class _TimedClient:
    """The client, timing its calls: how much of the import is the fake's search."""

    def __init__(self, client):
        self.client = client
        self.seconds = 0.0

    @property
    def calls(self):
        return self.client.calls

    def request(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.client.request(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
