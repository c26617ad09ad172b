"""Playbook and template pages: who sees what, editing with conflicts, history and diffs,
previews from real data, replies on a case and scripts on a check-in."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import CheckIn
from accounts.tests.factories import make_account, specialist_user
from disputes.models import CaseEvent, DisputeCase
from disputes.tests.factories import RULE, make_decided_case
from playbooks.models import Playbook, TemplateUse
from playbooks.services import playbook_revise
from playbooks.tests.factories import make_playbook, make_template
from portal.tests.pages import form_on, submit

pytestmark = pytest.mark.django_db


def messages_shown(client, response) -> list[str]:
    """The messages the page a redirect leads to shows (reading them clears them)."""
    assert response.status_code == 302
    return [str(message) for message in client.get(response.url).context["messages"]]


def test_list_search_filters_and_constant_queries(client, specialist, django_assert_max_num_queries):
    for n in range(30):
        make_playbook(
            specialist, title=f"Playbook {n:02d}", body=f"Body {n} about fees" if n % 2 else f"Body {n}"
        )
    client.force_login(specialist)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("playbooks:list"))
    assert page.status_code == 200 and "Playbook 00" in page.content.decode()
    with django_assert_max_num_queries(12):
        client.get(reverse("playbooks:list"), {"per_page": 100})
    found = client.get(reverse("playbooks:list"), {"q": "fees"}).content.decode()
    assert "Playbook 01" in found and "Playbook 02" not in found
    Playbook.objects.filter(title="Playbook 03").update(
        next_review_on=timezone.localdate() - dt.timedelta(days=2)
    )
    stale = client.get(reverse("playbooks:list"), {"stale": "true"}).content.decode()
    assert "Playbook 03" in stale and "Playbook 04" not in stale
    assert client.get(reverse("playbooks:list"), {"category": "bogus"}).status_code == 400


def test_readers_see_published_playbooks_only(client, specialist, product_person, leader):
    published = make_playbook(specialist, title="Published")
    draft = make_playbook(specialist, title="Draft one", status="draft")
    for reader in (product_person, leader):
        client.force_login(reader)
        listing = client.get(reverse("playbooks:list")).content.decode()
        assert "Published" in listing and "Draft one" not in listing
        assert client.get(reverse("playbooks:detail", args=[draft.slug])).status_code == 404
        assert client.get(reverse("playbooks:detail", args=[published.slug])).status_code == 200
        assert client.get(reverse("playbooks:edit", args=[published.slug])).status_code == 403


def test_detail_renders_safe_markdown_with_contents(client, specialist):
    playbook = make_playbook(
        specialist,
        body="# Title\n\n## Step one\n- [x] done\n\n<script>alert(1)</script>\n[x](javascript:alert(1))",
    )
    client.force_login(specialist)
    page = client.get(reverse("playbooks:detail", args=[playbook.slug])).content.decode()
    assert 'id="step-one"' in page and 'href="#step-one"' in page
    assert 'type="checkbox"' in page and "<script>alert" not in page
    assert 'href="javascript' not in page  # the link is refused and shows as text


def test_a_stale_edit_shows_their_change_and_keeps_my_text(client, specialist):
    colleague = specialist_user(username="colleague")
    playbook = make_playbook(specialist, body="Line one\nLine two\n")
    client.force_login(specialist)
    url = reverse("playbooks:edit", args=[playbook.slug])
    form = client.get(url).context["form"]
    playbook_revise(
        playbook=playbook, by=colleague, body="Line one\nLine two changed\n", summary="Theirs", based_on=1
    )
    data = {**form.initial, "body": "Line one\nMy addition\n", "summary": "Mine"}
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 409
    assert "saved revision 2 while you were editing" in page and "My addition" in page and "<ins>" in page
    playbook.refresh_from_db()
    assert playbook.current_body == "Line one\nLine two changed\n"
    data["based_on"] = 2
    assert client.post(url, data).status_code == 302
    playbook.refresh_from_db()
    assert playbook.revision_count == 3 and "My addition" in playbook.current_body


def test_edit_bad_input_is_400_and_saves_nothing(client, specialist):
    playbook = make_playbook(specialist)
    client.force_login(specialist)
    url = reverse("playbooks:edit", args=[playbook.slug])
    base = dict(client.get(url).context["form"].initial)
    for changes in (
        {"body": ""},
        {"body": "x" * (200 * 1024 + 1)},
        {"summary": ""},
        {"based_on": "abc"},
        {"owner": "999999999999999999999"},
    ):
        response = client.post(url, {**base, "summary": "s", **changes})
        assert response.status_code == 400, changes
    playbook.refresh_from_db()
    assert playbook.revision_count == 1


def test_new_playbook_refuses_reserved_and_duplicate_slugs(client, specialist):
    make_playbook(specialist, slug="fees")
    client.force_login(specialist)
    data = {"title": "T", "category": "other", "review_interval_days": 90, "body": "B", "summary": "s"}
    for slug, message in (("templates", "name of a page"), ("fees", "already uses")):
        response = client.post(reverse("playbooks:new"), {**data, "slug": slug})
        assert response.status_code == 400 and message in response.content.decode()
    response = client.post(reverse("playbooks:new"), data)
    assert response.status_code == 302 and Playbook.objects.filter(slug="t").exists()


def test_history_diff_and_revert(client, specialist):
    playbook = make_playbook(specialist, body="alpha\nbeta\n")
    playbook_revise(playbook=playbook, by=specialist, body="alpha\ngamma\n", summary="beta→gamma", based_on=1)
    client.force_login(specialist)
    history = client.get(reverse("playbooks:history", args=[playbook.slug])).content.decode()
    assert "beta→gamma" in history and "Revert to this" in history
    diff = client.get(reverse("playbooks:diff", args=[playbook.slug]), {"from": 1, "to": 2}).content.decode()
    assert "gamma" in diff and ("<ins" in diff or "<del" in diff)
    assert client.get(reverse("playbooks:diff", args=[playbook.slug]), {"from": "x"}).status_code == 400
    assert (
        client.get(reverse("playbooks:diff", args=[playbook.slug]), {"from": 1, "to": 99}).status_code == 404
    )
    page = client.get(reverse("playbooks:history", args=[playbook.slug]))
    response = submit(client, form_on(page, action_contains="/revert/1/"))
    assert response.status_code == 302 and response.url == reverse("playbooks:history", args=[playbook.slug])
    assert messages_shown(client, response) == ["Revision 1 is the current text again (saved as revision 3)."]
    playbook.refresh_from_db()
    assert playbook.current_body == "alpha\nbeta\n" and playbook.revision_count == 3
    assert playbook.current_revision.reverted_from.number == 1
    page = client.get(reverse("playbooks:history", args=[playbook.slug]))
    assert "/revert/3/" not in page.content.decode()  # the current text has no button
    response = submit(client, form_on(page, action_contains="/revert/2/"))
    assert messages_shown(client, response) == ["Revision 2 is the current text again (saved as revision 4)."]
    # Only a hand-made URL can ask for the current text; it is refused with a message.
    response = client.post(reverse("playbooks:revert", args=[playbook.slug, 4]))
    assert response.url == reverse("playbooks:history", args=[playbook.slug])
    assert messages_shown(client, response) == ["That revision is already the current text."]
    assert client.post(reverse("playbooks:revert", args=[playbook.slug, 99])).status_code == 404
    assert client.get(reverse("playbooks:revert", args=[playbook.slug, 1])).status_code == 405


def test_publish_archive_and_review(client, specialist):
    playbook = make_playbook(specialist, status="draft")
    client.force_login(specialist)
    url = reverse("playbooks:status", args=[playbook.slug])
    client.post(url, {"status": "published"})
    playbook.refresh_from_db()
    assert playbook.status == "published"
    client.post(url, {"status": "archived"})
    playbook.refresh_from_db()
    assert playbook.status == "archived"
    response = client.post(url, {"status": "exploded"}, follow=True)
    assert "Choose publish" in response.content.decode()


def test_template_editor_refuses_unknown_placeholders_and_shows_a_preview(client, specialist):
    playbook = make_playbook(specialist)
    client.force_login(specialist)
    data = {
        "name": "N",
        "playbook": playbook.pk,
        "serves": "check_in",
        "subject": "",
        "body": "Hi {{ account.secret }}",
        "summary": "s",
        "is_active": "on",
    }
    response = client.post(reverse("playbooks:template_new"), data)
    assert response.status_code == 400 and "Unknown placeholder account.secret" in response.content.decode()
    response = client.post(reverse("playbooks:template_new"), {**data, "body": "Hi {{ account.first_name }}"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Hi Dana" in page and "{{ account.display_name }}" in page  # sample preview and placeholder help


def test_preview_with_a_real_account_or_case_and_escaped_output(client, specialist, product_person):
    account = make_account(owner=specialist, display_name="<b>Eve</b> Stone")
    template = make_template(
        specialist,
        serves="check_in",
        subject="",
        body="Hi {{ account.display_name }} — {{ specialist.name }}",
    )
    client.force_login(specialist)
    url = reverse("playbooks:template_preview", args=[template.pk])
    page = client.get(url, {"account": account.email}).content.decode()
    assert "Hi &lt;b&gt;Eve&lt;/b&gt; Stone" in page and "<b>Eve</b>" not in page
    missing = client.get(url, {"account": "nobody@example.com"})
    assert missing.status_code == 400 and "No account matches" in missing.content.decode()
    client.force_login(product_person)  # Product may read templates but never an account's details
    assert "No account matches" in client.get(url, {"account": account.email}).content.decode()


def test_case_page_drafts_a_reply_and_keeps_it_with_the_template_version(client, specialist):
    case = make_decided_case(by=specialist)
    template = make_template(specialist)
    make_template(specialist, name="Fees reply", serves="platform_mechanics")
    client.force_login(specialist)
    page = client.get(
        reverse("disputes:case_detail", args=[case.reference]), {"reply": template.pk}
    ).content.decode()
    assert "Fees reply" not in page  # another category's template is not offered
    assert "Hi Dana" in page and "We decided: Denied." in page and RULE in page
    response = client.post(
        reverse("disputes:case_reply", args=[case.reference]),
        {"template": template.pk, "subject": f"About {case.reference}", "body": "Hi Dana, edited."},
    )
    assert response.status_code == 302
    use = TemplateUse.objects.get()
    assert use.revision == template.current_revision and use.edited and use.subject_ref == case.reference
    event = case.events.get(kind=CaseEvent.Kind.REPLY)
    assert "r1 (edited)" in event.summary and "Hi Dana, edited." in event.note
    bad = client.post(
        reverse("disputes:case_reply", args=[case.reference]), {"template": 999999, "body": "x"}
    )
    assert bad.status_code == 400 and "not offered" in bad.content.decode()
    empty = client.post(
        reverse("disputes:case_reply", args=[case.reference]), {"template": template.pk, "body": ""}
    )
    assert empty.status_code == 400 and TemplateUse.objects.count() == 1


def test_a_reply_is_sent_to_the_cases_intercom_conversation_through_the_outbox(client, specialist, settings):
    from integrations.models import SyncJob

    settings.INTERCOM_ENABLED = True
    case = make_decided_case(by=specialist)
    template = make_template(specialist)
    url = reverse("disputes:case_reply", args=[case.reference])
    client.force_login(specialist)

    page = client.get(reverse("disputes:case_detail", args=[case.reference]), {"reply": template.pk})
    assert "not linked to an Intercom conversation" in page.content.decode()
    refused = client.post(url, {"template": template.pk, "body": "Hi Dana.", "send": "1"})
    assert refused.status_code == 400 and "be sent from here" in refused.content.decode()
    assert (
        not TemplateUse.objects.exists()
        and not SyncJob.objects.filter(kind=SyncJob.Kind.CONVERSATION_REPLY).exists()
    )

    DisputeCase.objects.filter(pk=case.pk).update(intercom_conversation_id="215470000000042")
    page = client.get(reverse("disputes:case_detail", args=[case.reference]), {"reply": template.pk})
    assert "Send to the user in Intercom" in page.content.decode()
    response = client.post(url, {"template": template.pk, "body": "Hi Dana, sent.", "send": "1"}, follow=True)
    assert "on its way to the user" in response.content.decode()
    use = TemplateUse.objects.get()
    job = SyncJob.objects.get(kind=SyncJob.Kind.CONVERSATION_REPLY)
    assert job.key == f"reply:{use.pk}" and job.status == "pending"
    assert job.payload == {
        "conversation_id": "215470000000042",
        "body": "Hi Dana, sent.",
        "author_id": specialist.pk,
        "author_email": specialist.email,
        "external_id": case.account.external_id,
    }
    event = case.events.get(kind=CaseEvent.Kind.REPLY)
    assert event.summary.startswith("Reply queued for Intercom conversation 215470000000042")
    html = page.content.decode()
    assert html.index('name="send" value="0"') < html.index(
        'name="send" value="1"'
    )  # Enter keeps, never sends

    client.post(url, {"template": template.pk, "body": "Kept only.", "send": "0"})
    assert (
        TemplateUse.objects.count() == 2
        and SyncJob.objects.filter(kind=SyncJob.Kind.CONVERSATION_REPLY).count() == 1
    )


def test_check_in_form_offers_scripts_and_keeps_the_one_used(client, specialist):
    account = make_account(owner=specialist, display_name="Dana Whitfield")
    script = make_template(
        specialist,
        name="Monthly call",
        serves="check_in",
        subject="",
        body="Hi {{ account.first_name }}, checking in.",
    )
    client.force_login(specialist)
    page = client.get(reverse("accounts:detail", args=[account.pk]), {"script": script.pk}).content.decode()
    assert "Monthly call" in page and "Hi Dana, checking in." in page
    response = client.post(
        reverse("accounts:check_in_new", args=[account.pk]),
        {
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "kind": "scheduled",
            "channel": "intercom",
            "sentiment": "positive",
            "summary": "Talked through fees.",
            "script": script.pk,
        },
    )
    assert response.status_code == 302
    check_in = CheckIn.objects.get(account=account)
    use = TemplateUse.objects.get(subject_kind="check_in")
    assert use.subject_ref == str(check_in.pk) and use.rendered_body == "Hi Dana, checking in."


def test_my_day_lists_stale_playbooks_for_their_owner(client, specialist):
    playbook = make_playbook(specialist, title="Old standards")
    Playbook.objects.filter(pk=playbook.pk).update(next_review_on=timezone.localdate() - dt.timedelta(days=3))
    client.force_login(specialist)
    assert "Old standards" in client.get(reverse("home")).content.decode()


def test_template_stale_edit_history_and_revert_pages(client, specialist):
    from playbooks.services import template_revise

    colleague = specialist_user(username="colleague")
    template = make_template(specialist, serves="check_in", subject="", body="Hi {{ account.first_name }}")
    client.force_login(specialist)
    url = reverse("playbooks:template_edit", args=[template.pk])
    form = client.get(url).context["form"]
    template_revise(
        template=template,
        by=colleague,
        subject="",
        body="Hello {{ account.first_name }}",
        summary="Theirs",
        based_on=1,
    )
    data = {
        **form.initial,
        "playbook": template.playbook_id,
        "is_active": "on",
        "body": "Hey {{ account.first_name }}",
        "summary": "Mine",
    }
    response = client.post(url, data)
    assert response.status_code == 409 and "Hey {{ account.first_name }}" in response.content.decode()
    history = client.get(
        reverse("playbooks:template_history", args=[template.pk]), {"from": 1, "to": 2}
    ).content.decode()
    assert "Theirs" in history and "Hello" in history
    page = client.get(reverse("playbooks:template_history", args=[template.pk]))
    response = submit(client, form_on(page, action_contains="/revert/1/"))
    assert response.status_code == 302
    assert response.url == reverse("playbooks:template_history", args=[template.pk])
    assert messages_shown(client, response) == ["Revision 1 is current again (saved as revision 3)."]
    template.refresh_from_db()
    assert template.revision_count == 3 and template.current_revision.body == "Hi {{ account.first_name }}"
    assert template.current_revision.reverted_from.number == 1
    response = client.post(reverse("playbooks:template_revert", args=[template.pk, 3]))
    assert messages_shown(client, response) == ["That revision is already the current text."]
    assert client.post(reverse("playbooks:template_revert", args=[template.pk, 99])).status_code == 404
