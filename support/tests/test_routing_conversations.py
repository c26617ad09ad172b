"""Routing of new Intercom conversations, end to end through the fake: a user starts a
conversation, the signed `conversation.user.created` webhook stores it, the rules decide once, and
the outbox assigns it in Intercom to the chosen specialist's teammate; a later webhook does not
route it again, a reassignment made in Intercom is respected, and a refusal is visible."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.tests.factories import make_account, specialist_user
from integrations.intercom.client import IntercomClient
from integrations.intercom.fake import ME_ADMIN_ID, SUPPORT_TEAM_ID
from integrations.intercom.sender import drain
from integrations.intercom.sender.delivery import Sender
from integrations.models import RateBudget, SyncJob
from integrations.tests.test_webhooks import SECRET, deliver, notification
from portal.services import user_set_working_hours
from support.models import Conversation, RoutingDecision, RoutingRule, RoutingTeam

pytestmark = pytest.mark.django_db

ADA, GRACE = "991267002", "991267003"  # the fake's teammates ada@ and grace@example.com


@pytest.fixture
def webhook(client, settings, django_capture_on_commit_callbacks):
    """Deliver a signed notification and commit (what it queues runs inline, as in production
    after the commit)."""
    settings.INTERCOM_CLIENT_SECRET = SECRET

    def send(payload):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(client, payload)

    return send


@pytest.fixture
def desk(intercom):
    """Ada owns the account and works all week; Grace is in the team; teammates mapped by e-mail."""
    ada = specialist_user(email="ada@example.com")
    grace = specialist_user(email="grace@example.com")
    for person in (ada, grace):
        user_set_working_hours(user=person, days=["00:00-24:00"] * 7)
    call_command("intercom_setup", stdout=io.StringIO())
    RateBudget.objects.all().delete()
    team = RoutingTeam.objects.create(name="Support", intercom_id=SUPPORT_TEAM_ID)
    team.members.set([grace])
    RoutingRule.objects.create(
        position=1, name="Owner first", when_unavailable=RoutingRule.WhenUnavailable.TEAM, team=team
    )
    account = make_account(owner=ada, external_id="whale-1", email="whale@example.com")
    SyncJob.objects.all().delete()  # the account's own contact update is not this test's
    contact = intercom.add_contact(role="user", external_id="whale-1", email="whale@example.com")
    return {"ada": ada, "grace": grace, "team": team, "account": account, "contact": contact}


def started(intercom, desk, text="My withdrawal is stuck") -> dict:
    """A conversation the user starts over the API, as Intercom then sends it in the webhook."""
    message = intercom.handle(
        "POST",
        "/conversations",
        {"Authorization": f"Bearer {intercom.token}"},
        f'{{"from": {{"type": "user", "id": "{desk["contact"]["id"]}"}}, "body": "{text}"}}'.encode(),
    )
    return intercom.get_conversation(message[1]["conversation_id"])


def test_a_new_conversation_is_routed_once_and_assigned_in_intercom(webhook, intercom, desk):
    conversation = started(intercom, desk)
    assert webhook(notification(conversation)).status_code == 200
    routed = RoutingDecision.objects.get(conversation__intercom_id=conversation["id"])
    assert routed.assignee == desk["ada"] and routed.rule_name == "Owner first"
    assert not drain().errors
    assert intercom.get_conversation(conversation["id"])["admin_assignee_id"] == int(ADA)

    again = {**intercom.get_conversation(conversation["id"]), "updated_at": conversation["updated_at"] + 60}
    assert webhook(notification(again, notif_id="notif_2")).status_code == 200
    assert RoutingDecision.objects.count() == 1
    assert not SyncJob.objects.filter(status=SyncJob.Status.PENDING).exists()


def test_an_unavailable_owner_sends_it_to_the_team_in_intercom_and_its_member(webhook, intercom, desk):
    user_set_working_hours(user=desk["ada"], days=[""] * 7)
    conversation = started(intercom, desk)
    webhook(notification(conversation))
    assert not drain().errors
    stored = intercom.get_conversation(conversation["id"])
    assert stored["team_assignee_id"] == int(SUPPORT_TEAM_ID) and stored["admin_assignee_id"] == int(GRACE)


def test_a_reassignment_made_in_intercom_before_the_push_is_respected(webhook, intercom, desk):
    conversation = started(intercom, desk)
    webhook(notification(conversation))
    intercom.handle(  # a person in Intercom gives it to Grace first
        "POST",
        f"/conversations/{conversation['id']}/parts",
        {"Authorization": f"Bearer {intercom.token}"},
        f'{{"message_type": "assignment", "type": "admin", "admin_id": "{ME_ADMIN_ID}", "assignee_id": "{GRACE}"}}'.encode(),
    )
    assert not drain().errors
    assert intercom.get_conversation(conversation["id"])["admin_assignee_id"] == int(GRACE)
    assert RoutingDecision.objects.get().assignee == desk["ada"]  # the portal's decision stays


def test_a_conversation_already_assigned_in_intercom_is_not_routed(webhook, intercom, desk):
    conversation = {**started(intercom, desk), "admin_assignee_id": int(GRACE)}
    webhook(notification(conversation))
    assert Conversation.objects.filter(intercom_id=conversation["id"]).exists()
    assert not RoutingDecision.objects.exists()


def test_a_specialist_without_a_teammate_fails_the_job_visibly_and_the_decision_stays(
    webhook, intercom, desk
):
    desk["ada"].intercom_admin.delete()
    conversation = started(intercom, desk)
    webhook(notification(conversation))
    report = drain()
    assert report.failed == 1 and "has no Intercom teammate" in report.errors[0]
    job = SyncJob.objects.get(kind=SyncJob.Kind.CONVERSATION_ASSIGN)
    assert job.status == SyncJob.Status.FAILED and "intercom_setup" in job.last_error
    assert RoutingDecision.objects.get().assignee == desk["ada"]
    assert intercom.get_conversation(conversation["id"])["admin_assignee_id"] == 0


def test_a_conversation_from_someone_the_portal_does_not_know_has_no_owner_to_give_it_to(
    webhook, intercom, desk
):
    stranger = intercom.add_contact(role="user", external_id="nobody-here", email="stranger@example.com")
    desk["contact"] = stranger
    conversation = started(intercom, desk)
    webhook(notification(conversation))
    routed = RoutingDecision.objects.get()
    assert routed.conversation.account is None
    assert routed.assignee == desk["grace"] and "the account's owner is not available" in routed.reason


def test_a_rule_with_thousands_of_words_still_routes(webhook, intercom, desk):
    RoutingRule.objects.filter(name="Owner first").update(
        words="\n".join(f"filler{n}" for n in range(5000)) + "\nwithdrawal"
    )
    conversation = started(intercom, desk, text="My withdrawal is stuck")
    assert webhook(notification(conversation)).status_code == 200
    # Only the first 1,000 words are read: "withdrawal" (the 5,001st) is not among them.
    routed = RoutingDecision.objects.get()
    assert routed.rule is None and "No rule matched" in routed.reason


def test_the_same_notification_twice_routes_once(webhook, intercom, desk):
    conversation = started(intercom, desk)
    assert webhook(notification(conversation)).status_code == 200
    assert webhook(notification(conversation)).status_code == 200
    assert RoutingDecision.objects.count() == 1
    assert SyncJob.objects.filter(kind=SyncJob.Kind.CONVERSATION_ASSIGN).count() == 1


def test_the_decision_shows_on_the_conversations_line_of_the_account_timeline(
    client, webhook, intercom, desk
):
    conversation = started(intercom, desk)
    webhook(notification(conversation))
    client.force_login(desk["ada"])
    page = client.get(reverse("accounts:detail", args=[desk["account"].pk])).content.decode()
    line = page[page.index('class="conversation"') :]
    line = line[: line.index("</li>")]
    assert "Routed " in line and "Rule “Owner first”: the account&#x27;s owner, available." in line


def test_a_rules_tags_priority_and_sla_policy_reach_intercom_and_the_clocks(webhook, intercom, desk):
    from support.models import SlaClock
    from support.tests.factories import make_policy

    chosen = make_policy("Whale desk", kinds=["case"], first_response_minutes=15)  # not for conversations
    RoutingRule.objects.filter(name="Owner first").update(
        add_tags=["Whale", "Routed"], priority="urgent", sla_policy=chosen
    )
    conversation = started(intercom, desk)
    webhook(notification(conversation))
    routed = RoutingDecision.objects.get()
    assert (routed.tags, routed.priority, routed.sla_policy) == (["Whale", "Routed"], "urgent", chosen)
    assert {clock.policy for clock in SlaClock.objects.filter(conversation=routed.conversation)} == {chosen}
    assert not drain().errors
    stored = intercom.get_conversation(conversation["id"])
    assert sorted(t["name"] for t in stored["tags"]["tags"]) == ["Routed", "Whale"]
    assert stored["admin_assignee_id"] == int(ADA)
    job = SyncJob.objects.get(kind=SyncJob.Kind.CONVERSATION_ASSIGN)
    calls = intercom.call_count
    with IntercomClient() as client:
        Sender(client).assign(job)  # delivered again (a retry after a lost answer): nothing twice
    assert [r.path for r in intercom.requests_log[calls:]] == [f"/conversations/{conversation['id']}"]
    assert len(intercom.get_conversation(conversation["id"])["tags"]["tags"]) == 2


def test_a_rule_that_only_tags_still_tags_in_intercom(webhook, intercom, desk):
    RoutingRule.objects.filter(name="Owner first").update(
        assign=RoutingRule.Assign.NOBODY, add_tags=["Triage"]
    )
    conversation = started(intercom, desk)
    webhook(notification(conversation))
    assert not drain().errors
    stored = intercom.get_conversation(conversation["id"])
    assert [t["name"] for t in stored["tags"]["tags"]] == ["Triage"] and stored["admin_assignee_id"] == 0


def test_demo_conversation_starts_one_in_the_fake_and_routes_it_end_to_end(intercom, desk):
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("demo_conversation", "--account", "whale-1", "--text", "Fill at the wrong price", stdout=out)
    routed = RoutingDecision.objects.get()
    assert routed.assignee == desk["ada"] and routed.conversation.account == desk["account"]
    assert "Routed: Rule “Owner first”" in out.getvalue()
    assert not drain().errors
    stored = intercom.get_conversation(routed.conversation.intercom_id)
    assert stored["admin_assignee_id"] == int(ADA) and "Fill at the wrong price" in stored["source"]["body"]
    with pytest.raises(CommandError, match="No account has the external id 'nobody'"):
        call_command("demo_conversation", "--account", "nobody")
    with pytest.raises(CommandError, match="--text is empty"):
        call_command("demo_conversation", "--text", "  ")
    intercom.app["id_code"] = "realworkspace"
    with pytest.raises(CommandError, match="real Intercom workspace"):
        call_command("demo_conversation")
    assert RoutingDecision.objects.count() == 1


def test_the_reconciliation_import_routes_a_conversation_the_webhook_missed_once(intercom, desk):
    from support.tasks import conversations_reconcile

    conversation = started(intercom, desk)
    intercom.flush_search_index()
    assert conversations_reconcile()["stored"] >= 1
    routed = RoutingDecision.objects.get()
    assert routed.conversation.intercom_id == conversation["id"] and routed.assignee == desk["ada"]
    assert not drain().errors
    assert intercom.get_conversation(conversation["id"])["admin_assignee_id"] == int(ADA)
    intercom.flush_search_index()
    conversations_reconcile()  # the assignment changed it in Intercom: stored again, not routed again
    assert RoutingDecision.objects.count() == 1
    assert SyncJob.objects.filter(kind=SyncJob.Kind.CONVERSATION_ASSIGN).count() == 1
