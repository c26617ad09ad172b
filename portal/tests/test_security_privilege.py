"""Privilege: each attack is run through the test client as the role that would try it, by the
links and forms the pages render (an attacker's own URL only where no page offers one)."""

import time
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task
from django_q.signing import SignedPackage

from accounts.models import AccountEvent, CheckIn
from accounts.tests.factories import make_account, make_check_in, specialist_user
from portal.models import User
from portal.roles import Role
from portal.tests.factories import UserFactory
from portal.tests.pages import form_on, link_to, submit

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # every UserFactory person's password


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def _html(response) -> str:
    return response.content.decode()


# --- 1. django-q2: schedules run any function; task results may quote what a task handled ------


@pytest.fixture
def schedules(db):
    call_command("setup_schedules", stdout=StringIO())


def _schedule_page(client):
    changelist = client.get(reverse("admin:django_q_schedule_changelist"))
    assert changelist.status_code == 200
    return changelist, client.get(link_to(changelist, "portal.housekeeping"))


def test_an_admin_sees_schedules_but_cannot_add_change_or_delete_one(client, portal_admin, schedules):
    client.force_login(portal_admin)
    changelist, page = _schedule_page(client)
    assert reverse("admin:django_q_schedule_add") not in _html(changelist)
    assert page.status_code == 200
    assert 'name="func"' not in _html(page)  # shown read-only
    schedule = Schedule.objects.get(name="portal.housekeeping")

    # The attack: post the change form anyway, pointing the schedule at a shell.
    forged = client.post(
        page.request["PATH_INFO"],
        {
            "name": "portal.housekeeping",
            "func": "subprocess.getoutput",
            "args": "'id > /tmp/owned'",
            "schedule_type": "I",
            "minutes": "1",
            "repeats": "-1",
            "next_run_0": "2026-01-01",
            "next_run_1": "00:00:00",
            "_save": "Save",
        },
    )
    assert forged.status_code == 403
    added = client.post(
        reverse("admin:django_q_schedule_add"),
        {"name": "owned", "func": "subprocess.getoutput", "schedule_type": "O", "repeats": "-1"},
    )
    assert added.status_code == 403
    deleted = client.post(reverse("admin:django_q_schedule_delete", args=[schedule.pk]), {"post": "yes"})
    assert deleted.status_code == 403
    schedule.refresh_from_db()
    assert schedule.func == "portal.tasks.housekeeping" and schedule.args is None
    assert not Schedule.objects.filter(func__startswith="subprocess").exists()


def test_a_superuser_still_edits_schedules(client, root, schedules):
    client.force_login(root)
    _, page = _schedule_page(client)
    assert 'name="func"' in _html(page)


def test_setup_roles_strips_schedule_rights_an_admin_group_or_person_was_given(portal_admin):
    rights = Permission.objects.filter(
        content_type__app_label="django_q", codename__in=["add_schedule", "change_schedule", "delete_failure"]
    )
    Group.objects.get(name=Role.ADMIN).permissions.add(*rights)
    portal_admin.user_permissions.add(*rights)  # granted through the old per-user field

    call_command("setup_roles", verbosity=0)

    person = User.objects.get(pk=portal_admin.pk)  # a fresh permission cache
    assert person.has_perm("django_q.view_schedule")
    for right in ("django_q.add_schedule", "django_q.change_schedule", "django_q.delete_failure"):
        assert not person.has_perm(right)
    assert not person.user_permissions.exists()


@pytest.fixture
def task_results(db):
    now = timezone.now()
    common = {"func": "portal.tasks.housekeeping", "started": now, "stopped": now}
    success = Task.objects.create(
        id="a" * 32,
        name="finished-task",
        args=("token-SECRET",),
        kwargs={"password": "pw-SECRET"},
        result="result-SECRET",
        success=True,
        **common,
    )
    failure = Task.objects.create(
        id="b" * 32,
        name="failed-task",
        args=("token-SECRET",),
        kwargs={},
        result="SMTP refused mail for ceo@whale.example with password pw-SECRET",
        success=False,
        **common,
    )
    return success, failure


@pytest.mark.parametrize(
    ("changelist", "name"),
    [
        ("admin:django_q_success_changelist", "finished-task"),
        ("admin:django_q_failure_changelist", "failed-task"),
    ],
)
def test_task_results_show_no_arguments_or_results_to_an_admin(
    client, portal_admin, root, task_results, changelist, name
):
    client.force_login(portal_admin)
    listing = client.get(reverse(changelist))
    page = client.get(link_to(listing, name))
    assert listing.status_code == 200 and page.status_code == 200
    for response in (listing, page):
        assert "SECRET" not in _html(response) and "ceo@whale.example" not in _html(response)
    assert "portal.tasks.housekeeping" in _html(page)  # what ran, and when, stays visible

    client.force_login(root)
    listing = client.get(reverse(changelist))
    assert "SECRET" in _html(client.get(link_to(listing, name)))


def test_an_admin_cannot_resubmit_a_task(client, portal_admin, task_results):
    _, failure = task_results
    client.force_login(portal_admin)
    listing = client.get(reverse("admin:django_q_failure_changelist"))
    assert 'name="_selected_action"' not in _html(listing) and "resubmit_task" not in _html(listing)
    tasks = Task.objects.count()

    client.post(
        reverse("admin:django_q_failure_changelist"),
        {"action": "resubmit_task", "_selected_action": [failure.pk], "index": "0"},
    )

    assert Task.objects.filter(pk=failure.pk).exists() and Task.objects.count() == tasks
    assert not OrmQ.objects.exists()


def test_a_queued_tasks_arguments_are_hidden_from_an_admin(client, portal_admin, root, settings):
    queued = OrmQ.objects.create(
        key=settings.Q_CLUSTER["name"],
        payload=SignedPackage.dumps(
            {
                "id": "c" * 32,
                "name": "queued-task",
                "func": "portal.tasks.housekeeping",
                "args": ("token-SECRET",),
                "kwargs": {"password": "pw-SECRET"},
            }
        ),
        lock=timezone.now(),
    )
    client.force_login(portal_admin)
    listing = client.get(reverse("admin:django_q_ormq_changelist"))
    page = client.get(link_to(listing, str(queued.pk)))
    assert page.status_code == 200 and "queued-task" in _html(page)
    assert "SECRET" not in _html(listing) and "SECRET" not in _html(page)
    assert 'name="key"' not in _html(page)  # read-only

    client.force_login(root)
    assert "SECRET" in _html(
        client.get(link_to(client.get(reverse("admin:django_q_ormq_changelist")), str(queued.pk)))
    )


# --- 2. the user editor: Admins manage people through groups only -----------------------------


def _user_page(client, username: str):
    listing = client.get(reverse("admin:portal_user_changelist"))
    return client.get(link_to(listing, username))


def test_an_admin_cannot_make_themselves_superuser_or_change_their_own_groups(client, portal_admin):
    client.force_login(portal_admin)
    page = _user_page(client, "padmin")
    html = _html(page)
    for field in ("is_superuser", "user_permissions", "groups", "is_staff", "is_active"):
        assert f'name="{field}"' not in html, field
    every_right = Permission.objects.get(content_type__app_label="django_q", codename="add_schedule")

    response = submit(
        client,
        form_on(page, has_field="username"),
        first_name="Pat",
        is_superuser="on",
        user_permissions=[str(every_right.pk)],
        groups=[str(pk) for pk in Group.objects.values_list("pk", flat=True)],
        is_active=None,  # an unticked box: deactivate
        is_staff=None,
    )

    assert response.status_code == 302  # the rest of the form is saved
    person = User.objects.get(pk=portal_admin.pk)
    assert person.first_name == "Pat"
    assert not person.is_superuser and not person.user_permissions.exists()
    assert set(person.groups.values_list("name", flat=True)) == {Role.ADMIN}
    assert person.is_active and person.is_staff


def test_an_admin_gives_roles_through_groups_but_never_superuser(client, portal_admin, specialist):
    client.force_login(portal_admin)
    page = _user_page(client, "spec")
    assert 'name="groups"' in _html(page) and 'name="is_superuser"' not in _html(page)
    groups = Group.objects.filter(name__in=[Role.SPECIALIST, Role.LEADERSHIP])

    response = submit(
        client,
        form_on(page, has_field="username"),
        groups=[str(g.pk) for g in groups],
        is_superuser="on",
        user_permissions=[str(Permission.objects.get(codename="add_schedule").pk)],
    )

    assert response.status_code == 302
    specialist = User.objects.get(pk=specialist.pk)
    assert set(specialist.groups.values_list("name", flat=True)) == {Role.SPECIALIST, Role.LEADERSHIP}
    assert not specialist.is_superuser and not specialist.user_permissions.exists()


def test_an_admin_can_neither_edit_a_superuser_nor_reset_their_password(client, portal_admin, root):
    client.force_login(portal_admin)
    page = _user_page(client, "root")
    assert page.status_code == 200 and 'name="username"' not in _html(page)  # read-only

    forged = client.post(page.request["PATH_INFO"], {"username": "root", "email": "mine@example.com"})
    assert forged.status_code == 403
    password_page = reverse("admin:auth_user_password_change", args=[root.pk])
    assert client.get(password_page).status_code == 403
    reset = client.post(password_page, {"password1": "Taken-over-42!", "password2": "Taken-over-42!"})
    assert reset.status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.com" and root.check_password(PASSWORD)


def test_the_admin_user_form_refuses_an_e_mail_another_person_has(client, portal_admin, specialist, leader):
    client.force_login(portal_admin)
    page = _user_page(client, "spec")

    response = submit(client, form_on(page, has_field="username"), email=leader.email.upper())

    assert response.status_code == 200
    assert "That e-mail is already used by another person." in _html(response)
    specialist.refresh_from_db()
    assert specialist.email == "spec@example.com"


# --- 3. e-mail: needs the password, is unique, and never picks the Intercom author --------------


def _preferences_form(client):
    page = client.get(link_to(client.get(reverse("home")), "Preferences and time zone"))
    return page, form_on(page, has_field="email")


def test_changing_ones_e_mail_needs_the_current_password(client, specialist):
    client.force_login(specialist)
    page, form = _preferences_form(client)
    assert 'name="current_password"' in _html(page)

    missing = submit(client, form, email="new-address@example.com")
    assert "Enter your current password to change your e-mail." in _html(missing)
    wrong = submit(client, form, email="new-address@example.com", current_password="guess")
    assert "Your current password was entered incorrectly" in _html(wrong)
    assert User.objects.get(pk=specialist.pk).email == "spec@example.com"

    renamed = submit(client, form, first_name="Sam")  # the same e-mail: no password needed
    assert renamed.status_code == 302 and User.objects.get(pk=specialist.pk).first_name == "Sam"
    changed = submit(client, form, email="new-address@example.com", current_password=PASSWORD)
    assert changed.status_code == 302
    assert User.objects.get(pk=specialist.pk).email == "new-address@example.com"


def test_a_specialist_cannot_take_their_leads_e_mail(client, specialist, leader):
    client.force_login(specialist)
    _, form = _preferences_form(client)
    for address in (leader.email, leader.email.upper()):
        response = submit(client, form, email=address, current_password=PASSWORD)
        assert response.status_code == 200
        assert "That e-mail is already used by another person." in _html(response)
    assert User.objects.get(pk=specialist.pk).email == "spec@example.com"


def _case_with_conversation(client, fake, specialist):
    """A decided market-resolution case whose account talks to us in an Intercom conversation,
    linked on the case page as a specialist does."""
    from disputes.tests.factories import make_decided_case
    from playbooks.tests.factories import make_template

    case = make_decided_case(by=specialist)
    account = case.account
    template = make_template(specialist)
    contact = fake.add_contact(role="user", external_id=account.external_id)
    conversation = fake.add_conversation(contact["id"], "Why was my market resolved No?")
    page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    linked = submit(
        client,
        form_on(page, action_contains="conversation"),
        intercom_conversation_id=str(conversation["id"]),
    )
    assert linked.status_code == 302
    return case, template, conversation


def _send_reply(client, case, template, text):
    page = client.get(reverse("disputes:case_detail", args=[case.reference]))
    page = client.get(link_to(page, template.name))
    form = form_on(page, has_field="body")
    assert ("send", "1") in form.buttons  # "Send to the user in Intercom"
    data = {**form.data, "body": [text], "send": ["1"]}
    assert client.post(form.action, data).status_code == 302


def _drain():
    from integrations.intercom.client import IntercomClient
    from integrations.intercom.sender import drain
    from integrations.ratelimit import SharedRateBudget

    client = IntercomClient(
        sleep=lambda s: None, budget=SharedRateBudget(sleep=time.sleep), backoff_base=0.01
    )
    report = drain(client=client)
    assert not report.errors, report.errors


def _reply_authors(fake, conversation_id) -> list[str]:
    parts = fake.get_conversation(conversation_id)["conversation_parts"]["conversation_parts"]
    return [
        p["author"]["id"] for p in parts if p["part_type"] == "comment" and p["author"]["type"] == "admin"
    ]


ME, ADA, GRACE = "991267001", "991267002", "991267003"  # the fake workspace's teammates


def test_a_reply_is_written_as_the_mapped_teammate_never_by_a_typed_e_mail(
    client, intercom, specialist, leader
):
    from integrations.models import IntercomAdmin, RateBudget

    call_command("intercom_setup", stdout=StringIO())
    RateBudget.objects.all().delete()
    # Ada is the lead's teammate in Intercom (ada@example.com); the mapping is not made yet.
    assert not IntercomAdmin.objects.filter(intercom_id=ADA).exclude(portal_user=None).exists()
    client.force_login(specialist)
    case, template, conversation = _case_with_conversation(client, intercom, specialist)

    # Even with the lead's Intercom address forced onto the specialist in the database, a
    # specialist without a teammate writes as the app's own admin, never as Ada.
    User.objects.filter(pk=specialist.pk).update(email="ADA@example.com")
    _send_reply(client, case, template, "Hi Dana, first.")
    _drain()
    assert _reply_authors(intercom, conversation["id"]) == [ME]

    # With the map made (Ada is the lead, Grace the specialist) the reply is Grace's, whatever
    # e-mail the specialist has; and a mapping refresh never moves Ada to the specialist.
    IntercomAdmin.objects.filter(intercom_id=ADA).update(portal_user=leader)
    IntercomAdmin.objects.filter(intercom_id=GRACE).update(portal_user=specialist)
    call_command("intercom_setup", stdout=StringIO())
    assert IntercomAdmin.objects.get(intercom_id=ADA).portal_user == leader
    _send_reply(client, case, template, "Hi Dana, second.")
    _drain()
    assert _reply_authors(intercom, conversation["id"]) == [ME, GRACE]


# --- 4. check-ins: only the author, the account's owner and Admins change them -----------------


@pytest.fixture
def colleagues_check_in(specialist):
    owner = specialist_user(username="owner")
    account = make_account(owner=owner, display_name="Owned Elsewhere")
    return make_check_in(account, by=owner, days_ago=1, summary="Agreed a fee review in March.")


def test_a_specialist_cannot_rewrite_or_delete_a_colleagues_check_in(client, specialist, colleagues_check_in):
    check_in = colleagues_check_in
    client.force_login(specialist)
    page = client.get(reverse("accounts:detail", args=[check_in.account_id]))
    edit_url = reverse("accounts:check_in_edit", args=[check_in.pk])
    assert page.status_code == 200 and edit_url not in _html(page)

    assert client.get(edit_url).status_code == 403
    rewritten = client.post(
        edit_url,
        {
            "occurred_at": timezone.localtime(check_in.occurred_at).strftime("%Y-%m-%dT%H:%M"),
            "kind": "scheduled",
            "channel": "intercom",
            "sentiment": "negative",
            "summary": "Customer threatened to leave.",
        },
    )
    assert rewritten.status_code == 403
    deleted = client.post(reverse("accounts:check_in_delete", args=[check_in.pk]))
    assert deleted.status_code == 403
    check_in.refresh_from_db()
    assert check_in.summary == "Agreed a fee review in March." and check_in.sentiment == "neutral"
    assert not AccountEvent.objects.filter(kind=AccountEvent.Kind.CHECK_IN_EDITED).exists()


@pytest.mark.parametrize("who", ["owner", "author", "admin"])
def test_the_author_the_owner_and_admins_edit_and_the_timeline_keeps_before_and_after(
    client, who, portal_admin, colleagues_check_in
):
    check_in = colleagues_check_in
    owner = check_in.account.owner
    if who == "author":  # logged by a colleague covering the account
        author = specialist_user(username="cover")
        check_in = make_check_in(
            check_in.account, by=author, days_ago=2, summary="Agreed a fee review in March."
        )
        editor = author
    else:
        editor = owner if who == "owner" else portal_admin
    client.force_login(editor)
    account_page = client.get(reverse("accounts:detail", args=[check_in.account_id]))
    edit_page = client.get(link_to_edit(account_page, check_in))

    response = submit(
        client,
        form_on(edit_page, has_field="summary"),
        summary="Agreed a fee review in April.",
        sentiment="positive",
    )

    assert response.status_code == 302
    event = AccountEvent.objects.get(kind=AccountEvent.Kind.CHECK_IN_EDITED)
    assert event.actor == editor and event.details["check_in"] == check_in.pk
    assert event.details["changes"] == {
        "summary": ["Agreed a fee review in March.", "Agreed a fee review in April."],
        "sentiment": ["Neutral", "Positive"],
    }
    timeline = _html(client.get(reverse("accounts:detail", args=[check_in.account_id])))
    assert "Agreed a fee review in March." in timeline  # the old text stays readable
    assert "<del>Neutral</del>" in timeline and "<ins>Positive</ins>" in timeline


def link_to_edit(page, check_in: CheckIn) -> str:
    """The Edit link the timeline renders for this check-in."""
    from portal.tests.pages import links, resolve

    target = reverse("accounts:check_in_edit", args=[check_in.pk])
    [link] = [link for link in links(page) if link.text == "Edit" and link.href == target]
    return resolve(page, link.href)


def test_saving_an_unchanged_check_in_records_nothing(client, specialist):
    check_in = make_check_in(make_account(owner=specialist), days_ago=1)
    client.force_login(specialist)
    edit_page = client.get(reverse("accounts:check_in_edit", args=[check_in.pk]))
    assert submit(client, form_on(edit_page, has_field="summary")).status_code == 302
    assert not AccountEvent.objects.filter(kind=AccountEvent.Kind.CHECK_IN_EDITED).exists()
