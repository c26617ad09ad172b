"""The mirror is the same whether conversation states came by webhook, by the import, or by both,
in any order: the newest `updated_at` wins and an equal one changes nothing.

Four conversations go through their lives in the fake Intercom (created, an admin replied,
assigned, rated, closed; one is reopened, one snoozed, one is a lead's), each state a real
conversation object as the fake serves it. Every scenario below ends with the fake holding the
final states; its mirror is compared field by field (all but the row's id, its own timestamps and
`last_source`) with the mirror that webhooks delivered in order produce — and so are the accounts'
last-contact times, which the mirror moves."""

import copy
import datetime as dt
import random

import pytest
from django.utils import timezone

from accounts.models import Account
from accounts.tests.factories import make_account
from integrations.intercom.client import IntercomClient
from integrations.intercom.fake import SUPPORT_TEAM_ID
from integrations.models import IntercomAdmin
from portal.tests.factories import UserFactory
from support.importing import conversations_import
from support.models import Conversation, ImportWatermark
from support.services import conversation_sync

pytestmark = pytest.mark.django_db

T0 = 1_748_779_200  # 2025-06-01 12:00 UTC
ADA, GRACE = 991267002, 991267003
EXCLUDED = {"id", "created_at", "updated_at", "last_source"}
COMPARED = [f.attname for f in Conversation._meta.concrete_fields if f.name not in EXCLUDED]


def lifecycle(base: int, *, contact_id: str, reopen: bool = False, snooze: bool = False) -> list[dict]:
    """Successive states of one conversation (fake record fields + extras), updated_at going up."""
    stats = {"type": "conversation_statistics", "first_contact_reply_at": base, "count_reopens": 0}
    opened = {
        "updated_at": base,
        "state": "open",
        "read": False,
        "waiting_since": base,
        "priority": "none",
        "admin_assignee_id": 0,
        "team_assignee_id": 0,
        "teammate_ids": [],
    }
    states = [{"fields": opened, "extras": {"statistics": dict(stats, count_conversation_parts=1)}}]

    def then(minutes: int, fields: dict | None = None, **extras) -> None:
        previous = copy.deepcopy(states[-1])
        previous["fields"].update(fields or {}, updated_at=base + minutes * 60)
        for key, value in extras.items():
            previous["extras"][key] = (
                {**previous["extras"].get(key, {}), **value} if key == "statistics" else value
            )
        states.append(previous)

    replied = base + 5 * 60
    then(
        5,
        {"waiting_since": None, "read": True, "teammate_ids": [str(ADA)]},
        statistics={
            "first_admin_reply_at": replied,
            "last_admin_reply_at": replied,
            "time_to_admin_reply": 300,
            "count_conversation_parts": 2,
        },
    )
    then(
        12,
        {"admin_assignee_id": ADA, "team_assignee_id": int(SUPPORT_TEAM_ID), "priority": "high"},
        statistics={"first_assignment_at": base + 12 * 60, "count_assignments": 1},
        tags={
            "type": "tag.list",
            "tags": [
                {
                    "type": "tag",
                    "id": "81",
                    "name": "withdrawals",
                    "applied_at": base + 12 * 60,
                    "applied_by": {"type": "admin", "id": str(ADA)},
                }
            ],
        },
    )
    if snooze:
        then(20, {"state": "snoozed", "snoozed_until": base + 86400})
        then(1500, {"state": "open", "snoozed_until": None, "waiting_since": base + 1500 * 60})
        return states
    then(
        30,
        {"state": "closed"},
        statistics={"last_close_at": base + 30 * 60, "first_close_at": base + 30 * 60},
        sla_applied={"type": "conversation_sla_summary", "sla_name": "Advanced", "sla_status": "hit"},
    )
    then(
        45,
        conversation_rating={
            "rating": 5,
            "remark": "Fast and kind",
            "created_at": base + 30 * 60,
            "updated_at": base + 45 * 60,
            "contact": {"type": "contact", "id": contact_id},
            "teammate": {"type": "admin", "id": str(ADA)},
        },
    )
    if reopen:
        then(
            90,
            {"state": "open", "waiting_since": base + 90 * 60, "read": False},
            statistics={"last_contact_reply_at": base + 90 * 60, "count_reopens": 1},
        )
        then(
            120,
            {"state": "closed", "admin_assignee_id": GRACE, "waiting_since": None},
            statistics={"last_admin_reply_at": base + 110 * 60, "last_close_at": base + 120 * 60},
        )
    return states


class World:
    def __init__(self, fake):
        self.fake = fake
        self.accounts = [
            make_account(external_id="user-ann", email="ann@example.com"),
            make_account(external_id="user-bob", email="Bob@Example.com"),
        ]
        user = UserFactory(username="ada")
        IntercomAdmin.objects.create(
            intercom_id=str(ADA),
            name="Ada",
            email="ada@example.com",
            portal_user=user,
            synced_at=timezone.now(),
        )
        contacts = [
            fake.add_contact(role="user", external_id="user-ann", email="ann@elsewhere.example"),
            fake.add_contact(role="user", email="bob@example.com"),  # matched by e-mail only
            fake.add_contact(role="lead", email="visitor@example.net"),  # no account
        ]
        plans = [
            (contacts[0], {}),
            (contacts[0], {"reopen": True}),
            (contacts[1], {"snooze": True}),
            (contacts[2], {}),
        ]
        self.specs: dict[str, list[dict]] = {}
        self.states: dict[str, list[dict]] = {}  # the conversation objects, oldest first
        for n, (contact, options) in enumerate(plans):
            base = T0 + n * 7 * 60
            conversation = fake.add_conversation(
                contact["id"], f"Help {n}", title=f"Case {n}", created_at=base, updated_at=base
            )
            specs = lifecycle(base, contact_id=contact["id"], **options)
            self.specs[conversation["id"]] = specs
            self.states[conversation["id"]] = [self.serve(conversation["id"], k) for k in range(len(specs))]
        self.last_contact = dict(Account.objects.values_list("pk", "last_contact_at"))

    def serve(self, conversation_id: str, k: int) -> dict:
        """Make the fake hold state k of the conversation; returns it as retrieved."""
        spec = self.specs[conversation_id][k]
        return self.fake.conversation_set(conversation_id, extras=spec["extras"], **spec["fields"])

    def serve_final(self) -> None:
        for conversation_id, specs in self.specs.items():
            self.serve(conversation_id, len(specs) - 1)

    def all_states(self) -> list[dict]:
        return [state for states in self.states.values() for state in states]

    def wipe(self) -> None:
        Conversation.objects.all().delete()
        ImportWatermark.objects.all().delete()
        for pk, moment in self.last_contact.items():
            Account.objects.filter(pk=pk).update(last_contact_at=moment)
        self.serve_final()


def webhooks(states) -> None:
    for state in states:
        conversation_sync(data=copy.deepcopy(state), source="webhook")


def import_all() -> None:
    with IntercomClient(sleep=lambda seconds: None) as client:
        report = conversations_import(client=client, since=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), per_page=2)
    assert report.failed == 0


def in_order(world):
    webhooks(sorted(world.all_states(), key=lambda s: s["updated_at"]))


def shuffled(seed):
    def play(world):
        states = world.all_states() * (1 + seed % 2)  # odd seeds: every webhook delivered twice
        random.Random(seed).shuffle(states)
        webhooks(states)

    return play


def reversed_order(world):
    webhooks(sorted(world.all_states(), key=lambda s: s["updated_at"], reverse=True))


def import_only(world):
    import_all()


def import_twice(world):
    import_all()
    import_all()


def early_webhooks_then_import(world):
    webhooks(state for states in world.states.values() for state in states[: len(states) // 2])
    import_all()


def import_then_stale_webhooks(world):
    import_all()
    stale = world.all_states()
    random.Random(7).shuffle(stale)
    webhooks(stale)


def import_intermediate_then_webhooks_then_import(world):
    for conversation_id in world.specs:
        world.serve(conversation_id, 1)  # the search still shows an early state
    import_all()
    webhooks(reversed([s for states in world.states.values() for s in states[2:]]))
    world.serve_final()
    import_all()


def some_by_webhook_some_by_import(world):
    first, *_ = world.states
    webhooks(reversed(world.states[first]))  # one conversation entirely by webhooks, newest first
    import_all()  # the rest (and that one again) by the import
    webhooks([world.states[first][0]])


SCENARIOS = {
    "webhooks in reverse order": reversed_order,
    **{f"webhooks shuffled, seed {seed}": shuffled(seed) for seed in range(1, 6)},
    "import of the final states only": import_only,
    "import twice": import_twice,
    "early webhooks, then import": early_webhooks_then_import,
    "import, then every webhook late and shuffled": import_then_stale_webhooks,
    "import of an early state, webhooks, import again": import_intermediate_then_webhooks_then_import,
    "one conversation by webhooks, the rest by import": some_by_webhook_some_by_import,
}


def snapshot() -> dict:
    rows = {row["intercom_id"]: row for row in Conversation.objects.values(*COMPARED)}
    contact = dict(Account.objects.values_list("pk", "last_contact_at"))
    return {"conversations": rows, "last_contact_at": contact}


@pytest.fixture
def world(intercom):
    return World(intercom)


@pytest.fixture
def expected(world):
    in_order(world)
    reference = snapshot()
    world.wipe()
    return reference


def test_the_reference_mirror_holds_every_final_state(world, expected):
    rows = expected["conversations"]
    assert len(rows) == 4
    finals = {cid: states[-1] for cid, states in world.states.items()}
    for conversation_id, final in finals.items():
        row = rows[conversation_id]
        assert row["updated_at_intercom"].timestamp() == final["updated_at"]
        assert row["state"] == final["state"]
    ann, bob = world.accounts
    by_account = sorted((r["account_id"] or 0, r["state"], r["rating"]) for r in rows.values())
    assert by_account == [
        (0, "closed", 5),
        (ann.pk, "closed", 5),
        (ann.pk, "closed", 5),
        (bob.pk, "open", None),
    ]
    reopened = next(r for r in rows.values() if r["reopened_count"])
    assert reopened["assignee_id"] is None  # reassigned to Grace, who is no portal user
    assert {r["tags"][0] for r in rows.values()} == {"withdrawals"}
    assert expected["last_contact_at"][ann.pk] is not None


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_mirror_is_identical_however_the_states_arrived(world, expected, scenario):
    SCENARIOS[scenario](world)

    actual = snapshot()

    assert actual["conversations"].keys() == expected["conversations"].keys()
    for conversation_id, row in expected["conversations"].items():
        differences = {
            name: (actual["conversations"][conversation_id][name], value)
            for name, value in row.items()
            if actual["conversations"][conversation_id][name] != value
        }
        assert not differences, f"{conversation_id}: {differences}"
    assert actual["last_contact_at"] == expected["last_contact_at"]
