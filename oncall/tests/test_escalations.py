"""Escalations raised, linked, acknowledged and resolved through the services: one open per item,
an append-only history with who and when, and a clear message for every refusal."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import make_account, specialist_user
from oncall.models import Escalation, EscalationEvent
from oncall.services.escalations import escalation_acknowledge, escalation_raise, escalation_resolve
from oncall.tests.factories import make_escalation_policy, make_rota
from support.tests.factories import pinned_time

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2027, 3, 2, 3, 0, tzinfo=dt.UTC)  # a Tuesday, 03:00: nights count too
M = dt.timedelta(minutes=1)


@pytest.fixture
def time(monkeypatch):
    return pinned_time(monkeypatch, T0)


@pytest.fixture
def policy(time):
    return make_escalation_policy(make_rota(), is_default=True)


def history(escalation) -> list[tuple]:
    return list(escalation.events.order_by("at", "pk").values_list("kind", "actor__username", "at"))


def test_a_raise_is_due_for_paging_now_with_a_30_minute_deadline(policy, specialist, time):
    account = make_account(owner=specialist)
    escalation, created = escalation_raise(
        by=specialist, severity="sev1", summary="Withdrawal stuck", account=account
    )

    assert created
    assert (escalation.status, escalation.policy, escalation.raised_by) == ("triggered", policy, specialist)
    assert (escalation.next_page_at, escalation.ack_deadline_at) == (T0, T0 + 30 * M)
    assert history(escalation) == [("raised", "spec", T0)]


def test_a_second_raise_on_the_same_item_adds_to_the_open_one(policy, specialist, time):
    account = make_account(owner=specialist)
    first, _ = escalation_raise(by=specialist, severity="sev2", summary="Withdrawal stuck", account=account)
    time.advance(minutes=3)
    colleague = specialist_user(username="colleague")
    again, created = escalation_raise(by=colleague, severity="sev1", summary="Still stuck", account=account)

    assert (again, created) == (first, False)
    assert Escalation.objects.count() == 1
    assert history(first)[-1] == ("linked", "colleague", T0 + 3 * M)
    assert "SEV1: Still stuck" in first.events.get(kind="linked").summary


def test_after_resolving_a_new_raise_opens_a_new_escalation(policy, specialist, time):
    account = make_account(owner=specialist)
    first, _ = escalation_raise(by=specialist, severity="sev2", summary="Stuck", account=account)
    escalation_resolve(escalation=first, by=specialist)
    second, created = escalation_raise(by=specialist, severity="sev2", summary="Stuck again", account=account)
    assert created and second != first


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"summary": ""}, "Say in a line what needs a person now."),
        ({"summary": "x" * 301}, "Keep the summary to 300 characters (it has 301)."),
        ({"severity": "sev9"}, "Choose a severity: SEV1, SEV2 or SEV3."),
        ({"account": None}, "An escalation is about exactly one case, conversation or account."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(policy, specialist, fields, message):
    values = {"by": specialist, "severity": "sev2", "summary": "Stuck", "account": make_account(), **fields}
    with pytest.raises(ValidationError) as refused:
        escalation_raise(**values)
    assert message in refused.value.messages
    assert not Escalation.objects.exists() and not EscalationEvent.objects.exists()


def test_two_items_at_once_are_refused(policy, specialist):
    from disputes.tests.factories import make_decided_case

    case = make_decided_case(by=specialist)
    with pytest.raises(ValidationError, match="exactly one case, conversation or account"):
        escalation_raise(by=specialist, severity="sev2", summary="x", account=case.account, case=case)


def test_only_a_specialist_raises_and_a_default_policy_is_needed(specialist, leader, time):
    account = make_account()
    with pytest.raises(ValidationError, match="No escalation policy is set up"):
        escalation_raise(by=specialist, severity="sev2", summary="Stuck", account=account)
    make_escalation_policy(make_rota(), is_default=True)
    with pytest.raises(ValidationError, match="Only a Specialist can raise"):
        escalation_raise(by=leader, severity="sev2", summary="Stuck", account=account)


def test_anyone_on_the_team_may_acknowledge_and_the_history_says_who(policy, specialist, time):
    escalation, _ = escalation_raise(by=specialist, severity="sev1", summary="Stuck", account=make_account())
    time.advance(minutes=12)
    night_owl = specialist_user(username="owl")

    escalation_acknowledge(escalation=escalation, by=night_owl)

    escalation.refresh_from_db()
    assert (escalation.status, escalation.acknowledged_by, escalation.acknowledged_at) == (
        "acknowledged",
        night_owl,
        T0 + 12 * M,
    )
    assert escalation.next_page_at is None  # paging stops
    assert history(escalation)[-1] == ("acknowledged", "owl", T0 + 12 * M)
    assert "12 min after it was raised" in escalation.events.get(kind="acknowledged").summary


def test_a_second_acknowledgement_is_refused_naming_who_had_it(policy, specialist, time):
    escalation, _ = escalation_raise(by=specialist, severity="sev1", summary="Stuck", account=make_account())
    escalation_acknowledge(escalation=escalation, by=specialist)
    with pytest.raises(ValidationError, match=r"already acknowledged by .* at 02 Mar 03:00 UTC"):
        escalation_acknowledge(escalation=escalation, by=specialist_user())
    assert escalation.events.filter(kind="acknowledged").count() == 1


def test_resolving_an_unacknowledged_escalation_acknowledges_it_too(policy, specialist, leader, time):
    escalation, _ = escalation_raise(by=specialist, severity="sev3", summary="Stuck", account=make_account())
    time.advance(minutes=40)
    escalation_resolve(escalation=escalation, by=specialist, note="Funds released")

    escalation.refresh_from_db()
    assert (escalation.status, escalation.acknowledged_at, escalation.resolved_at) == (
        "resolved",
        T0 + 40 * M,
        T0 + 40 * M,
    )
    assert [kind for kind, *_ in history(escalation)] == ["raised", "acknowledged", "resolved"]
    assert escalation.events.get(kind="resolved").summary == "Resolved: Funds released"
    with pytest.raises(ValidationError, match="already resolved"):
        escalation_resolve(escalation=escalation, by=specialist)
    with pytest.raises(ValidationError, match="already resolved"):
        escalation_acknowledge(escalation=escalation, by=specialist)
    with pytest.raises(ValidationError, match="Only a Specialist"):
        escalation_resolve(escalation=escalation, by=leader)


def test_a_step_pages_a_layer_or_a_person_and_the_first_waits_at_most_30_minutes(time):
    from oncall.models import EscalationStep

    policy = make_escalation_policy(make_rota(), steps=())
    nobody = EscalationStep(policy=policy, position=1, wait_minutes=10)
    with pytest.raises(ValidationError, match="A step pages either a rota layer or a named person"):
        nobody.full_clean()
    slow = EscalationStep(policy=policy, position=1, layer_position=1, wait_minutes=45)
    with pytest.raises(ValidationError, match="The first acknowledgement deadline is at most 30 minutes"):
        slow.full_clean()
    EscalationStep(
        policy=policy, position=2, layer_position=2, wait_minutes=45
    ).full_clean()  # later steps may wait longer


def test_a_policy_without_steps_cannot_be_raised_against(specialist, time):
    make_escalation_policy(make_rota(), steps=(), is_default=True)
    with pytest.raises(ValidationError, match="has no steps"):
        escalation_raise(by=specialist, severity="sev2", summary="Stuck", account=make_account())
