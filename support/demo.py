"""Demo conversations for `seed_demo`: what the mirror holds after Intercom's conversations were
imported (stored through `conversation_sync`, as the import and the webhooks store them), so the
account timelines, last contact and the ratings in account health have something to show."""

import datetime as dt

from django.utils import timezone

from support.services import conversation_sync

FIRST_ID = 215_470_000_000_001  # the shape of Intercom's conversation ids

TOPICS = [
    "Withdrawal still pending after 3 hours",
    "Why did this market resolve No?",
    "Limit order filled at a worse price than shown",
    "Deposit not showing in my balance",
    "Fees charged on a fee-free market",
    "Proxy wallet address changed?",
    "Can't redeem winning shares",
    "API rate limits for market making",
    "Position missing after the market closed",
    "Question about the clarification on this market",
]
REMARKS = {
    5: ["Quick and clear, thanks.", "Exactly what I needed.", ""],
    4: ["Good answer, took a while.", ""],
    3: ["Fine, but I still don't agree with the rule.", ""],
    2: ["Slow reply.", "Didn't answer my question."],
    1: ["Still waiting on my funds.", "Unhelpful."],
}


def _ts(moment: dt.datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def conversation_object(
    *,
    intercom_id: str,
    contact_id: str,
    external_id: str = "",
    email: str = "",
    title: str | None = None,
    state: str = "open",
    created_at: dt.datetime | None = None,
    updated_at: dt.datetime | None = None,
    waiting_since: dt.datetime | None = None,
    admin_assignee_id: int = 0,
    team_assignee_id: int = 0,
    rating: int | None = None,
    rating_remark: str = "",
    rated_at: dt.datetime | None = None,
    priority: str = "none",
    tags: list[str] = (),
    statistics: dict | None = None,
    **extra,
) -> dict:
    """An Intercom conversation object as API 2.16 returns it (admin/team assignee 0 when
    unassigned): what the demo stores through `conversation_sync`, and what tests build on."""
    now = timezone.now()
    created_at = created_at or now - dt.timedelta(hours=2)
    updated_at = updated_at or max(created_at, rated_at or created_at) + dt.timedelta(minutes=1)
    conversation_id = str(intercom_id)
    stats = {
        "type": "conversation_statistics",
        "first_contact_reply_at": _ts(created_at),
        "first_admin_reply_at": _ts(created_at + dt.timedelta(minutes=5)),
        "last_contact_reply_at": _ts(waiting_since or created_at),
        "last_admin_reply_at": _ts(created_at + dt.timedelta(minutes=5)),
        "last_close_at": _ts(updated_at) if state == "closed" else None,
        "count_reopens": 0,
        "count_assignments": 1 if admin_assignee_id else 0,
        "count_conversation_parts": 3,
        **(statistics or {}),
    }
    data = {
        "type": "conversation",
        "id": conversation_id,
        "title": title,
        "created_at": _ts(created_at),
        "updated_at": _ts(updated_at),
        "waiting_since": _ts(waiting_since),
        "snoozed_until": None,
        "state": state,
        "open": state == "open",
        "read": True,
        "priority": priority,
        "admin_assignee_id": admin_assignee_id,
        "team_assignee_id": team_assignee_id,
        "contacts": {
            "type": "contact.list",
            "contacts": [{"type": "contact", "id": contact_id, "external_id": external_id or None}],
        },
        "tags": {
            "type": "tag.list",
            "tags": [{"type": "tag", "id": str(n), "name": name} for n, name in enumerate(tags, 1)],
        },
        "conversation_rating": (
            {
                "rating": rating,
                "remark": rating_remark,
                "created_at": _ts(rated_at or updated_at),
                "updated_at": _ts(rated_at or updated_at),
                "contact": {"type": "contact", "id": contact_id, "external_id": external_id or None},
                "teammate": {"type": "admin", "id": str(admin_assignee_id)} if admin_assignee_id else None,
            }
            if rating is not None
            else None
        ),
        "sla_applied": None,
        "statistics": stats,
        "source": {
            "type": "conversation",
            "id": f"src-{conversation_id}",
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": "<p>Hello, I have a question.</p>",
            "author": {"type": "user", "id": contact_id, "name": "", "email": email},
        },
    }
    data.update(extra)
    return data


def seed_conversations(*, rng, count: int, progress=None) -> dict:
    """`count` conversations over the last 90 days with the seeded accounts: most closed (half
    of those rated, mostly well), some open and waiting, a few snoozed."""
    from accounts.models import Account
    from accounts.services import health_refresh_deferred

    accounts = list(Account.objects.order_by("pk").values_list("external_id", "email"))
    if not accounts or count <= 0:
        return {"conversations": 0, "rated": 0}
    now = timezone.now()
    rated = 0
    with health_refresh_deferred():
        for n in range(count):
            external_id, email = rng.choice(accounts)
            created = now - dt.timedelta(minutes=rng.randint(20, 90 * 24 * 60))
            replied = created + dt.timedelta(minutes=rng.randint(2, 180))
            state = rng.choices(["closed", "open", "snoozed"], weights=[70, 25, 5])[0]
            rating = (
                rng.choice([5, 5, 5, 4, 4, 3, 2, 1]) if state == "closed" and rng.random() < 0.5 else None
            )
            rated += rating is not None
            closed = min(now, replied + dt.timedelta(minutes=rng.randint(5, 2 * 24 * 60)))
            user_wrote = min(now, replied + dt.timedelta(minutes=rng.randint(1, 600)))  # open: waits since
            conversation_sync(
                data=conversation_object(
                    intercom_id=str(FIRST_ID + n),
                    contact_id=f"6762f0ad{n:016x}",
                    external_id=external_id,
                    email=email,
                    title=rng.choice(TOPICS),
                    state=state,
                    created_at=created,
                    updated_at=closed if state == "closed" else user_wrote,
                    waiting_since=user_wrote if state == "open" else None,
                    rating=rating,
                    rating_remark=rng.choice(REMARKS[rating]) if rating else "",
                    rated_at=closed if rating else None,
                    priority=rng.choice(["none", "none", "priority"]),
                    statistics={
                        "first_admin_reply_at": _ts(replied),
                        "last_admin_reply_at": _ts(replied),
                        "last_close_at": _ts(closed) if state == "closed" else None,
                    },
                ),
                source="import",
            )
            if progress and n and n % 1000 == 0:
                progress(f"{n}/{count}")
    return {"conversations": count, "rated": rated}


OPEN_CHUNK = 2000
TEAMMATE_IDS = 991_260_000  # the demo specialists' Intercom teammate ids count up from here


def seed_open_conversations(*, rng, count: int, specialists: list, progress=None) -> int:
    """`count` open conversations from the last 14 days waiting on the support team, for the SLA
    queue at scale (`seed_demo --open-items`): most waiting on a first reply or on our next one,
    some paused (the last word ours, or snoozed); three in four assigned to a specialist's
    Intercom teammate. Stored a chunk at a time as the import stores them, SLA clocks included."""
    from accounts.models import Account
    from accounts.services import health_refresh_deferred
    from support.importing import conversations_insert

    accounts = list(Account.objects.order_by("pk").values_list("external_id", "email"))
    if not accounts or count <= 0:
        return 0
    teammates = _demo_teammates(specialists)
    now = timezone.now()
    first_id = FIRST_ID + 10_000_000  # after the ids of `seed_conversations`
    with health_refresh_deferred():
        for start in range(0, count, OPEN_CHUNK):
            items = [
                _open_conversation(rng, now, first_id + n, rng.choice(accounts), teammates)
                for n in range(start, min(count, start + OPEN_CHUNK))
            ]
            conversations_insert(items)
            if progress:
                progress(f"{start + len(items)}/{count}")
    return count


def _demo_teammates(specialists: list) -> list[int]:
    from integrations.models import IntercomAdmin

    ids = []
    for n, person in enumerate(specialists):
        admin, _ = IntercomAdmin.objects.update_or_create(
            portal_user=person,
            defaults={
                "intercom_id": str(TEAMMATE_IDS + n),
                "name": person.get_full_name() or person.username,
                "email": person.email,
                "synced_at": timezone.now(),
            },
        )
        ids.append(int(admin.intercom_id))
    return ids


def _open_conversation(rng, now, number: int, account: tuple[str, str], teammates: list[int]) -> dict:
    external_id, email = account
    created = now - dt.timedelta(minutes=rng.uniform(5, 14 * 24 * 60))
    shape = rng.choices(
        ["unanswered", "user_wrote_again", "our_word_last", "snoozed"], weights=[45, 30, 20, 5]
    )[0]
    replied = created + (now - created) * rng.uniform(0.05, 0.5)
    user_wrote = replied + (now - replied) * rng.uniform(0.1, 0.9)
    answered = shape != "unanswered"
    return conversation_object(
        intercom_id=str(number),
        contact_id=f"6762f0ad{number % 10**16:016x}",
        external_id=external_id,
        email=email,
        title=rng.choice(TOPICS),
        state="snoozed" if shape == "snoozed" else "open",
        created_at=created,
        updated_at=user_wrote if answered else created,
        waiting_since={"unanswered": created, "user_wrote_again": user_wrote}.get(shape),
        admin_assignee_id=rng.choice(teammates) if teammates and rng.random() < 0.75 else 0,
        priority=rng.choice(["none", "none", "none", "priority"]),
        statistics={
            "first_admin_reply_at": _ts(replied) if answered else None,
            "last_admin_reply_at": _ts(replied) if answered else None,
            "last_contact_reply_at": _ts(user_wrote if shape == "user_wrote_again" else created),
        },
    )
