"""The paging pass: the first step at once, each next step at its deadline, the last step again
every few minutes until someone acknowledges; every round once however many passes run; a
worker that was down pages what came due meanwhile; a fixed number of queries."""

import datetime as dt

import pytest

from accounts.tests.factories import make_account, specialist_user
from oncall.models import Escalation, Page
from oncall.services.escalations import escalation_acknowledge, escalation_raise
from oncall.services.paging import escalations_page_due
from oncall.tests.factories import make_escalation, make_escalation_policy, make_rota
from support.tests.factories import pinned_time

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 6, 2, 0, tzinfo=dt.UTC)  # a Saturday, 02:00
M = dt.timedelta(minutes=1)


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


@pytest.fixture
def team(time):
    """Primary: Ada then Ben (weekly from Monday 1 March 09:00 UTC), secondary: Cy; Lee leads."""
    ada, ben, cy, lee = (specialist_user(username=name) for name in ("ada", "ben", "cy", "lee"))
    rota = make_rota(
        layers={"Primary": [ada, ben], "Secondary": [cy]}, webhook_url="https://chat.example/hook"
    )
    policy = make_escalation_policy(rota, steps=((1, None, 30), (2, None, 15)), lead=lee, is_default=True)
    return {"ada": ada, "ben": ben, "cy": cy, "lee": lee, "rota": rota, "policy": policy}


def paged() -> list[tuple]:
    return list(
        Page.objects.order_by("round", "recipient__username", "channel").values_list(
            "round", "step", "recipient__username", "channel"
        )
    )


def raise_one(team, **fields):
    account = make_account(owner=team["ada"], external_id=fields.pop("external_id", "user-77"))
    escalation, _ = escalation_raise(
        by=team["ada"], severity="sev1", summary="Whale stuck", account=account, **fields
    )
    return escalation


def test_the_first_step_is_paged_at_once_through_every_channel(team, time):
    escalation = raise_one(team)

    report = escalations_page_due()

    assert (report.escalations, report.rounds) == (1, 1)
    assert paged() == [(0, 1, "ada", "email"), (0, 1, "ada", "intercom"), (0, 1, "ada", "webhook")]
    webhook = Page.objects.get(channel="webhook")
    assert webhook.address == "https://chat.example/hook" and webhook.status == "pending"
    assert Page.objects.get(channel="intercom").address == "user-77"
    escalation.refresh_from_db()
    assert (escalation.round, escalation.next_page_at) == (1, T0 + 30 * M)
    assert (
        escalation.events.filter(kind="paged").get().summary == f"Paged {team['ada'].display_name} (step 1)"
    )


def test_each_step_follows_at_its_deadline_then_the_lead_again_and_again(team, time):
    escalation = raise_one(team)
    escalations_page_due()
    for minutes, expected_round in ((29, None), (30, 1), (44, None), (45, 2), (54, None), (55, 3), (65, 4)):
        time.now = T0 + minutes * M
        before = Page.objects.count()
        escalations_page_due()
        new = list(Page.objects.order_by("pk")[before:].values_list("round", "recipient__username"))
        if expected_round is None:
            assert new == [], minutes
        else:
            assert {r for r, _ in new} == {expected_round}, minutes
    by_round = {r: name for r, _, name, _ in paged()}
    assert by_round == {0: "ada", 1: "cy", 2: "lee", 3: "lee", 4: "lee"}
    escalation.refresh_from_db()
    assert escalation.next_page_at == T0 + 75 * M


def test_an_acknowledgement_stops_the_paging(team, time):
    escalation = raise_one(team)
    escalations_page_due()
    time.advance(minutes=10)
    escalation_acknowledge(escalation=escalation, by=team["ben"])
    time.advance(minutes=60)
    assert escalations_page_due().rounds == 0
    assert {r for r, *_ in paged()} == {0}


def test_two_passes_at_once_page_each_round_once(team, time):
    escalation = raise_one(team)
    escalations_page_due()
    # A second worker that read the escalation before the first committed pages the same round.
    Escalation.objects.filter(pk=escalation.pk).update(round=0, next_page_at=T0)
    escalations_page_due()
    assert paged() == [(0, 1, "ada", "email"), (0, 1, "ada", "intercom"), (0, 1, "ada", "webhook")]
    assert escalations_page_due().rounds == 0


def test_a_worker_back_after_an_hour_pages_every_step_that_came_due(team, time):
    raise_one(team)
    escalations_page_due()
    time.now = T0 + 60 * M  # down since T0 + 1: steps 2 (at 30) and 3 (at 45) and a repeat (at 55) are due

    report = escalations_page_due()

    assert report.rounds == 3
    assert [(r, name) for r, _, name, channel in paged() if channel == "email"] == [
        (0, "ada"),
        (1, "cy"),
        (2, "lee"),
        (3, "lee"),
    ]
    assert Escalation.objects.get().next_page_at == T0 + 70 * M  # repeats collapse into one


def test_a_layer_with_nobody_on_call_goes_on_to_the_next_step_at_once(team, time):
    type(team["ada"]).objects.filter(pk=team["ada"].pk).update(is_active=False)
    escalation = raise_one(team)

    escalations_page_due()

    assert {(r, name) for r, _, name, _ in paged()} == {(1, "cy")}
    summaries = list(escalation.events.filter(kind="paged").values_list("summary", flat=True))
    assert summaries[0].startswith("Nobody on call to page at step 1")
    assert summaries[1] == f"Paged {team['cy'].display_name} (step 2)"


def test_the_pass_reads_only_what_is_due_and_costs_the_same_for_many(
    team, time, django_assert_max_num_queries
):
    for n in range(3):
        make_escalation(team["policy"], account=make_account(external_id=f"few-{n}"))
    with django_assert_max_num_queries(14) as few:
        escalations_page_due()
    for n in range(40):
        make_escalation(team["policy"], account=make_account(external_id=f"many-{n}"))
    # The same reads; only the inserts split (SQLite binds at most 999 values a statement).
    with django_assert_max_num_queries(len(few.captured_queries) + 2):
        assert escalations_page_due().escalations == 40
    with django_assert_max_num_queries(3):  # nothing due: one read (and its savepoint, begin and end)
        assert escalations_page_due().escalations == 0


@pytest.mark.django_db(transaction=True)
def test_two_passes_running_together_page_each_round_once(monkeypatch, specialist):  # roles ready
    import threading

    from django.db import connection

    pinned_time(monkeypatch, T0)
    rota = make_rota(layers={"Primary": [specialist_user()], "Secondary": [specialist_user()]})
    policy = make_escalation_policy(rota)
    escalations = [make_escalation(policy, account=make_account(external_id=f"race-{n}")) for n in range(30)]
    reports, errors = [], []

    def worker():
        try:
            reports.append(escalations_page_due(batch=7))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert sum(report.rounds for report in reports) == 30  # each escalation's round 0, by one of them
    assert set(Escalation.objects.values_list("round", flat=True)) == {1}
    for escalation in escalations:
        assert escalation.events.filter(kind="paged").count() == 1
        assert set(escalation.pages.values_list("round", "channel")) == {(0, "email"), (0, "intercom")}


def test_a_pass_that_dies_midway_leaves_nothing_half_done_and_the_next_pages_it(team, time, monkeypatch):
    from oncall.services import paging

    escalation = raise_one(team)

    def dies(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(paging, "bulk_update_rows", dies)  # after the pages are written, before commit
    with pytest.raises(RuntimeError):
        escalations_page_due()
    assert not Page.objects.exists() and not escalation.events.filter(kind="paged").exists()
    monkeypatch.undo()
    pinned_time(monkeypatch, T0)

    assert escalations_page_due().rounds == 1
    assert {(r, name) for r, _, name, _ in paged()} == {(0, "ada")}
