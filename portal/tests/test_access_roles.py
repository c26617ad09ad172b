"""Role × page: what each role gets on every page. Every named page must appear here."""

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.roles import Role
from portal.tests.urlwalk import walk_urls

S, L, P, A = Role.SPECIALIST, Role.LEADERSHIP, Role.PRODUCT, Role.ADMIN


@dataclass(frozen=True)
class Page:
    expected: dict  # role -> status
    method: str = "get"
    args: tuple = ()  # names of objects in the `world` fixture
    data: dict = field(default_factory=dict)


def everyone(status):
    return {S: status, L: status, P: status, A: status}


READ_PORTFOLIO = {S: 200, L: 200, P: 403, A: 200}
WRITE_PORTFOLIO = {S: 200, L: 403, P: 403, A: 200}


READ_PLAYBOOKS = everyone(200)


def writers(status):
    return {S: status, L: 403, P: 403, A: status}


def admins(status):
    return {S: 403, L: 403, P: 403, A: status}


READ_SLA = {S: 200, L: 200, P: 403, A: 200}
READ_WEEKS = {S: 403, L: 200, P: 403, A: 200}
READ_ONCALL = {S: 200, L: 200, P: 403, A: 200}
SPECIALISTS_ONLY = {S: 302, L: 403, P: 403, A: 403}


PAGES = {
    "home": Page(everyone(200)),
    "search": Page(everyone(200)),
    "preferences": Page(everyone(200)),
    "working_hours": Page(everyone(302), method="post"),
    "away": Page(everyone(302), method="post"),
    "password_change": Page(everyone(200)),
    "password_change_done": Page(everyone(200)),
    "healthz": Page(everyone(200)),
    "healthz_ready": Page(everyone(200)),
    # For Prometheus (a token or an allowed network), never a person's session.
    "metrics": Page(everyone(403)),
    "admin:index": Page({S: 302, L: 302, P: 302, A: 200}),
    "admin:portal_user_changelist": Page({S: 302, L: 302, P: 302, A: 200}),
    "admin:django_q_schedule_changelist": Page({S: 302, L: 302, P: 302, A: 200}),
    "admin:accounts_tier_changelist": Page({S: 302, L: 302, P: 302, A: 200}),
    "admin:feedback_productarea_changelist": Page({S: 302, L: 302, P: 302, A: 200}),
    "admin:feedback_feedbackitem_changelist": Page({S: 302, L: 302, P: 302, A: 200}),
    "accounts:list": Page(READ_PORTFOLIO),
    "accounts:detail": Page(READ_PORTFOLIO, args=("account",)),
    "accounts:new": Page(WRITE_PORTFOLIO),
    "accounts:edit": Page(WRITE_PORTFOLIO, args=("account",)),
    "accounts:check_in_new": Page(writers(400), method="post", args=("account",)),
    "accounts:check_in_edit": Page(WRITE_PORTFOLIO, args=("check_in",)),
    "accounts:check_in_delete": Page(writers(302), method="post", args=("check_in",)),
    "accounts:follow_up_done": Page(writers(302), method="post", args=("check_in",)),
    "accounts:snooze": Page(writers(400), method="post", args=("account",)),
    "accounts:wallet_new": Page(writers(400), method="post", args=("account",)),
    "accounts:wallet_remove": Page(writers(302), method="post", args=("account", "wallet")),
    "accounts:reassign": Page(writers(302), method="post"),
    "accounts:reassign_portfolio": Page(WRITE_PORTFOLIO),
    "accounts:import": Page(WRITE_PORTFOLIO),
    "accounts:import_example": Page(WRITE_PORTFOLIO),
    "accounts:import_detail": Page(WRITE_PORTFOLIO, args=("account_import",)),
    "disputes:market_list": Page(READ_PORTFOLIO),
    "disputes:market_import": Page(writers(400), method="post"),
    "disputes:market_new": Page(WRITE_PORTFOLIO),
    "disputes:market_detail": Page(READ_PORTFOLIO, args=("market",)),
    "disputes:market_clarify": Page(writers(400), method="post", args=("market",)),
    "disputes:market_diff": Page(READ_PORTFOLIO, args=("market",), data={"from": 1, "to": 1}),
    "disputes:market_rules_edit": Page(WRITE_PORTFOLIO, args=("market",)),
    "disputes:rulebook": Page(READ_PORTFOLIO),
    "disputes:case_list": Page(READ_PORTFOLIO),
    "disputes:case_new": Page(WRITE_PORTFOLIO),
    "disputes:case_detail": Page(READ_PORTFOLIO, args=("case",)),
    "disputes:case_transition": Page(writers(400), method="post", args=("case",)),
    "disputes:case_decide": Page(writers(400), method="post", args=("case",)),
    "disputes:case_note": Page(writers(400), method="post", args=("case",)),
    "disputes:case_approve": Page(writers(302), method="post", args=("case", "decision")),
    "disputes:case_print": Page(READ_PORTFOLIO, args=("case",)),
    "disputes:case_reply": Page(writers(400), method="post", args=("case",)),
    "disputes:case_conversation": Page(writers(302), method="post", args=("case",)),
    "playbooks:list": Page(READ_PLAYBOOKS),
    "playbooks:new": Page(writers(200)),
    "playbooks:detail": Page(READ_PLAYBOOKS, args=("playbook",)),
    "playbooks:edit": Page(writers(200), args=("playbook",)),
    "playbooks:history": Page(READ_PLAYBOOKS, args=("playbook",)),
    "playbooks:diff": Page(READ_PLAYBOOKS, args=("playbook",), data={"from": 1, "to": 2}),
    "playbooks:revert": Page(writers(302), method="post", args=("playbook", "first_revision")),
    "playbooks:status": Page(writers(302), method="post", args=("playbook",), data={"status": "reviewed"}),
    "playbooks:template_list": Page(READ_PLAYBOOKS),
    "playbooks:template_new": Page(writers(200)),
    "playbooks:template_preview": Page(READ_PLAYBOOKS, args=("template",)),
    "playbooks:template_edit": Page(writers(200), args=("template",)),
    "playbooks:template_history": Page(READ_PLAYBOOKS, args=("template",)),
    "playbooks:template_revert": Page(writers(302), method="post", args=("template", "first_revision")),
    "disputes:case_evidence": Page(writers(400), method="post", args=("case",)),
    "disputes:evidence_file": Page(READ_PORTFOLIO, args=("case", "evidence_file")),
    "disputes:case_snapshot": Page(writers(400), method="post", args=("case",)),
    "disputes:approvals": Page(READ_PORTFOLIO),
    "disputes:decision_search": Page(READ_PORTFOLIO),
    "disputes:market_cases_bulk": Page(writers(302), method="post", args=("market",)),
    "disputes:heads_up_told": Page(writers(302), method="post", args=("heads_up",)),
    "disputes:market_holders_refresh": Page(writers(302), method="post", args=("market",)),
    "disputes:rulebook_section": Page(READ_PORTFOLIO, args=("rulebook_section",)),
    "disputes:rulebook_section_new": Page({S: 403, L: 403, P: 403, A: 200}),
    "disputes:rulebook_section_edit": Page({S: 403, L: 403, P: 403, A: 200}, args=("rulebook_section",)),
    "feedback:list": Page(everyone(200)),
    "feedback:board": Page(everyone(200)),
    "feedback:new": Page(writers(200)),
    "feedback:detail": Page(everyone(200), args=("feedback",)),
    "feedback:triage": Page({S: 403, L: 403, P: 400, A: 400}, method="post", args=("feedback",)),
    "feedback:comment": Page({S: 400, L: 403, P: 400, A: 400}, method="post", args=("feedback",)),
    "feedback:link": Page(writers(400), method="post", args=("feedback",)),
    "feedback:unlink": Page(writers(302), method="post", args=("feedback", "feedback_source")),
    "feedback:merge": Page({S: 400, L: 403, P: 400, A: 400}, method="post", args=("feedback",)),
    "feedback:unmerge": Page({S: 403, L: 403, P: 403, A: 302}, method="post", args=("feedback",)),
    "feedback:follow_up_done": Page(writers(302), method="post", args=("follow_up",)),
    "feedback:areas": Page({S: 403, L: 403, P: 200, A: 200}),
    "feedback:area_update": Page({S: 403, L: 403, P: 400, A: 400}, method="post", args=("product_area",)),
    "integrations:sync": Page(writers(200)),
    "integrations:sync_retry": Page(writers(302), method="post", args=("sync_job",)),
    "integrations:sync_retry_all": Page(writers(302), method="post"),
    "support:queue": Page(READ_SLA),
    "support:sla": Page(READ_SLA),
    "support:sla_which": Page(READ_SLA),
    "support:sla_calendar_new": Page(admins(200)),
    "support:sla_calendar_edit": Page(admins(200), args=("sla_calendar",)),
    "support:sla_calendar_public_holidays": Page(admins(400), method="post", args=("sla_calendar",)),
    "support:sla_calendar_ical": Page(admins(400), method="post", args=("sla_calendar",)),
    "support:sla_calendar_delete": Page(admins(200), args=("sla_calendar",)),
    "support:sla_policy_new": Page(admins(200)),
    "support:sla_policy_edit": Page(admins(200), args=("sla_policy",)),
    "support:sla_policy_move": Page(admins(302), method="post", args=("sla_policy",)),
    "support:routing": Page(admins(200)),
    "support:routing_rule_new": Page(admins(200)),
    "support:routing_teams": Page(admins(200)),
    "support:routing_team_new": Page(admins(200)),
    "support:routing_team_edit": Page(admins(200), args=("routing_team",)),
    "support:routing_team_delete": Page(admins(200), args=("routing_team",)),
    "support:routing_rule_edit": Page(admins(200), args=("routing_rule",)),
    "support:routing_rule_delete": Page(admins(200), args=("routing_rule",)),
    "support:routing_rule_move": Page(admins(302), method="post", args=("routing_rule",)),
    "support:routing_rule_active": Page(admins(302), method="post", args=("routing_rule",)),
    "support:sla_policy_delete": Page(admins(200), args=("sla_policy",)),
    "oncall:overview": Page(READ_ONCALL),
    "oncall:rota_new": Page(admins(200)),
    "oncall:rota_edit": Page(admins(200), args=("rota",)),
    "oncall:override_new": Page(admins(200), args=("rota",)),
    "oncall:override_delete": Page(admins(302), method="post", args=("rota_override",)),
    # Only a Specialist on the rota writes a hand-off note; an empty one is refused (400).
    "oncall:handoff_note_new": Page({S: 400, L: 403, P: 403, A: 403}, method="post", args=("rota",)),
    "oncall:escalations": Page(READ_ONCALL),
    "oncall:escalation_detail": Page(READ_ONCALL, args=("escalation",)),
    # Raised from an item's page; without one the form has nothing to escalate (404).
    "oncall:escalation_raise": Page({S: 404, L: 403, P: 403, A: 403}),
    "oncall:escalation_acknowledge": Page(SPECIALISTS_ONLY, method="post", args=("escalation",)),
    "oncall:escalation_resolve": Page(SPECIALISTS_ONLY, method="post", args=("escalation",)),
    "oncall:ack": Page({S: 200, L: 403, P: 403, A: 403}, args=("ack_token",)),
    # Everyone reads reports: Leadership and Admins all of them, a Specialist their own figures
    # beside the team's, Product the feedback loop only; a list of conversations is not Product's
    # (reports/tests/test_views.py: the feedback lists are).
    "reports:report": Page(everyone(200)),
    "reports:rows": Page({S: 200, L: 200, P: 403, A: 200}, args=("report_rows",)),
    # Frozen weeks: the team's figures, for Leadership and Admins; recompute and the e-mail's
    # recipients are Admins'.
    "reports:weeks": Page(READ_WEEKS),
    "reports:week": Page(READ_WEEKS, args=("week",)),
    "reports:week_csv": Page(READ_WEEKS, args=("week",)),
    "reports:week_json": Page(READ_WEEKS, args=("week",)),
    "reports:week_recompute": Page(admins(200), args=("week",)),
    "reports:week_recipient_add": Page(admins(302), method="post", data={"email": "board@example.com"}),
    "reports:week_recipient_remove": Page(admins(302), method="post", args=("week_recipient",)),
    "reports:week_mail_retry": Page(admins(302), method="post", args=("weekly_mail",)),
    # A machine endpoint: whoever is signed in, an unsigned notification is refused.
    "integrations:intercom_webhook": Page(everyone(401), method="post"),
}
# Pages outside the role table: signed-out flows and POST-only sign-out; the admin's own pages
# are guarded as a whole by PortalAdminSite.has_permission (sampled above, tested in test_roles).
NOT_ROLE_PAGES = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


@pytest.fixture
def world(people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import AccountImport
    from accounts.tests.factories import make_account, make_check_in
    from disputes.models import Decision
    from disputes.services import market_create_manual, rulebook_section_save
    from disputes.services.cases import dispute_file
    from disputes.services.evidence import evidence_add
    from feedback.models import FollowUp, ProductArea
    from feedback.services import feedback_create
    from integrations.models import SyncJob
    from playbooks.services import playbook_create, playbook_revise, template_create, template_revise
    from support.models import RoutingRule, RoutingTeam
    from support.tests.factories import make_calendar, make_policy

    owner = people[S]
    account = make_account(owner=owner, wallets=["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"])
    check_in = make_check_in(account, follow_up="Send the fee schedule", follow_up_due=timezone.now().date())
    account_import = AccountImport.objects.create(
        created_by=owner, file="imports/x.csv", original_name="x.csv"
    )
    market = market_create_manual(
        by=owner, question="Will it rain?", rules_text="Yes if it rains.", outcomes=["Yes", "No"]
    )
    section, _ = rulebook_section_save(
        by=people[A],
        venue="us",
        number="1",
        title="Scope",
        body="Rules.",
        effective_from=timezone.now().date(),
    )
    case = dispute_file(by=owner, account=account, category="order_execution", claim="Partial fill.")
    evidence = evidence_add(
        case=case,
        by=owner,
        kind="file",
        upload=SimpleUploadedFile("fill.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64),
    )
    decision = Decision.objects.create(
        case=case,
        outcome="denied",
        rationale="r",
        state="proposed",
        proposed_by=people[A],
        proposed_at=timezone.now(),
    )
    playbook = playbook_create(
        by=owner,
        title="Escalations",
        category="escalation",
        body="# Escalate\nWithin 30 minutes.",
        status="published",
    )
    playbook_revise(
        playbook=playbook,
        by=owner,
        body="# Escalate\nWithin 30 minutes, always.",
        summary="Tighter",
        based_on=1,
    )
    template = template_create(
        by=owner,
        name="Resolution denied",
        playbook=playbook,
        serves="market_resolution",
        subject="",
        body="Hi {{ account.first_name }}",
    )
    template_revise(
        template=template,
        by=owner,
        subject="",
        body="Hello {{ account.first_name }}",
        summary="Warmer",
        based_on=1,
    )
    feedback_item = feedback_create(by=owner, title="Show fees first", category="fees", account=account)
    follow_up = FollowUp.objects.create(
        item=feedback_item, account=account, owner=owner, outcome="shipped", created_at=timezone.now()
    )
    from oncall.models import Page as OncallPage
    from oncall.models import RotaOverride
    from oncall.tests.factories import make_escalation, make_escalation_policy, make_rota
    from oncall.tokens import ack_token

    rota = make_rota("Role table rota")
    layer = rota.layers.get(position=1)
    rota_override = RotaOverride.objects.create(
        layer=layer,
        user=layer.members.first().user,
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(hours=4),
        reason="swap",
        created_by=people[A],
    )
    escalation = make_escalation(make_escalation_policy(rota, is_default=True), account=account)
    page = OncallPage.objects.create(
        escalation=escalation, round=0, step=1, recipient=owner, channel="email", created_at=timezone.now()
    )
    sla_calendar = make_calendar("Role table hours")

    sla_policy = make_policy("Role table cases", calendar=sla_calendar, kinds=["case"])
    return {
        "report_rows": "rated-conversations",
        "rota": rota.pk,
        "rota_override": rota_override.pk,
        "escalation": escalation.pk,
        "ack_token": ack_token(escalation_id=escalation.pk, page_id=page.pk),
        "sla_calendar": sla_calendar.pk,
        "sla_policy": sla_policy.pk,
        "routing_rule": RoutingRule.objects.create(position=1, name="Role table", assign="nobody").pk,
        "routing_team": RoutingTeam.objects.create(name="Role table").pk,
        **_weeks_world(),
        "feedback": feedback_item.pk,
        "feedback_source": feedback_item.sources.get().pk,
        "follow_up": follow_up.pk,
        "product_area": ProductArea.objects.create(name="Fees").pk,
        "playbook": playbook.slug,
        "template": template.pk,
        "first_revision": 1,
        "case": case.reference,
        "decision": decision.pk,
        "evidence_file": evidence.pk,
        "market": market.pk,
        "heads_up": _heads_up(market, owner).pk,
        "rulebook_section": section.pk,
        "account": account.pk,
        "check_in": check_in.pk,
        "wallet": account.wallets.get().pk,
        "account_import": account_import.pk,
        "sync_job": SyncJob.objects.create(
            kind=SyncJob.Kind.CONTACT_UPSERT, key="account:0", payload={}, status="dead"
        ).pk,
    }


def test_every_page_has_a_row_in_the_role_table():
    names = {u.name for u in walk_urls() if u.name and not u.name.startswith("admin:")}
    missing = names - PAGES.keys() - NOT_ROLE_PAGES
    assert not missing, f"add these pages to the role table: {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [S, L, P, A])
@pytest.mark.parametrize("url_name", sorted(PAGES))
def test_role_gets_expected_status(client, people, world, role, url_name):
    page = PAGES[url_name]
    client.force_login(people[role])
    url = reverse(url_name, args=[world[name] for name in page.args])
    response = getattr(client, page.method)(url, page.data)
    assert response.status_code == page.expected[role], f"{role} {page.method.upper()} {url}"


@pytest.mark.django_db
def test_signed_in_person_without_a_role_is_refused_my_day(client):
    from portal.tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "ask an Admin" in response.content.decode()


def _heads_up(market, owner):
    from disputes.models import HeadsUp, MarketSignal

    signal = MarketSignal.objects.create(
        market=market, kind="disputed", key="uma:1", summary="disputed", detected_at=timezone.now()
    )
    return HeadsUp.objects.create(
        signal=signal, owner=owner, holdings=[], accounts=0, created_at=timezone.now()
    )


def _weeks_world() -> dict:
    from reports.models import MetricSnapshot, WeeklyMail, WeeklyMailRecipient

    monday = dt.date(2026, 11, 23)
    now = timezone.now()
    MetricSnapshot.objects.create(
        week=monday, time_zone="UTC", starts_at=now, ends_at=now, definitions_version="x",
        sections=[], headline={}, items=0, made_at=now,
    )  # fmt: skip
    return {
        "week": monday.isoformat(),
        "week_recipient": WeeklyMailRecipient.objects.create(email="cfo@example.com", added_at=now).pk,
        "weekly_mail": WeeklyMail.objects.create(
            week=monday, email="cfo@example.com", next_attempt_at=now
        ).pk,
    }
