"""Playbook and template writes: revisions, stale edits, reverts, limits and validation."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import specialist_user
from playbooks import selectors, services
from playbooks.models import Playbook, PlaybookRevision, TemplateRevision
from playbooks.tests.factories import BODY, make_playbook, make_template

pytestmark = pytest.mark.django_db


def test_create_saves_the_first_revision_and_a_review_date(specialist):
    before = timezone.localdate()  # the service reads its own "today": a midnight may fall between
    playbook = make_playbook(specialist, review_interval_days=30)
    assert playbook.slug == "escalation-pathway" and playbook.revision_count == 1
    assert playbook.current_revision.body == BODY and playbook.current_body == BODY
    assert before <= playbook.next_review_on - dt.timedelta(days=30) <= timezone.localdate()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"body": "   "}, "body", "can’t be empty"),
        ({"body": "x" * (200 * 1024 + 1)}, "body", "the limit is 200 KB"),
        ({"body": "nul \x00 here"}, "body", "NUL"),
        ({"slug": "templates"}, "slug", "name of a page"),
        ({"slug": "new"}, "slug", "name of a page"),
        ({"slug": "Bad Slug!"}, "slug", "lowercase letters"),
        ({"title": ""}, "title", "Give the playbook a title"),
        ({"category": "nonsense"}, "category", "Choose a category"),
        ({"review_interval_days": 0}, "review_interval_days", "1 to 730"),
    ],
)
def test_bad_playbooks_are_refused_with_a_message(specialist, changes, field, message):
    data = {"title": "Fees", "category": "other", "body": "Text", **changes}
    with pytest.raises(ValidationError) as error:
        services.playbook_create(by=specialist, **data)
    assert message in " ".join(error.value.message_dict[field])
    assert not Playbook.objects.exists()


def test_a_duplicate_slug_is_refused(specialist):
    make_playbook(specialist, slug="fees")
    with pytest.raises(ValidationError, match="already uses"):
        make_playbook(specialist, title="Other", slug="fees")
    assert make_playbook(specialist, title="Fees").slug == "fees-2"  # a suggested slug steps aside


def test_each_edit_is_a_new_revision_and_nothing_is_lost(specialist):
    playbook = make_playbook(specialist)
    services.playbook_revise(
        playbook=playbook, by=specialist, body=BODY + "\nMore.", summary="More", based_on=1
    )
    playbook.refresh_from_db()
    assert playbook.revision_count == 2 and playbook.current_body.endswith("More.")
    assert list(playbook.revisions.values_list("number", flat=True).order_by("number")) == [1, 2]
    assert (
        services.playbook_revise(
            playbook=playbook, by=specialist, body=BODY + "\nMore.", summary="x", based_on=2
        )
        is None
    )


def test_a_stale_edit_is_refused_and_names_the_other_revision(specialist):
    colleague = specialist_user(username="colleague", first_name="Ada", last_name="Byron")
    playbook = make_playbook(specialist)
    services.playbook_revise(playbook=playbook, by=colleague, body="Theirs", summary="Theirs", based_on=1)
    with pytest.raises(services.StaleEdit) as stale:
        services.playbook_revise(playbook=playbook, by=specialist, body="Mine", summary="Mine", based_on=1)
    assert stale.value.current.number == 2 and "Ada Byron saved revision 2" in stale.value.messages[0]
    playbook.refresh_from_db()
    assert playbook.current_body == "Theirs" and playbook.revision_count == 2


def test_an_edit_needs_a_summary(specialist):
    playbook = make_playbook(specialist)
    with pytest.raises(ValidationError, match="what changed"):
        services.playbook_revise(playbook=playbook, by=specialist, body="New", summary=" ", based_on=1)


def test_revert_adds_a_revision_and_refuses_another_playbooks(specialist):
    playbook = make_playbook(specialist)
    other = make_playbook(specialist, title="Other")
    services.playbook_revise(playbook=playbook, by=specialist, body="Second", summary="2", based_on=1)
    first = playbook.revisions.get(number=1)
    reverted = services.playbook_revert(playbook=playbook, by=specialist, revision=first)
    assert reverted.number == 3 and reverted.body == BODY and reverted.reverted_from == first
    with pytest.raises(ValidationError, match="another playbook"):
        services.playbook_revert(playbook=playbook, by=specialist, revision=other.revisions.get())
    with pytest.raises(ValidationError, match="already the current"):
        services.playbook_revert(playbook=playbook, by=specialist, revision=reverted)
    assert PlaybookRevision.objects.filter(playbook=playbook).count() == 3


def test_stale_playbooks_are_listed_for_their_owner(specialist):
    fresh = make_playbook(specialist, title="Fresh")
    stale = make_playbook(specialist, title="Stale")
    archived = make_playbook(specialist, title="Archived", status="archived")
    Playbook.objects.filter(pk__in=[stale.pk, archived.pk]).update(
        next_review_on=timezone.localdate() - dt.timedelta(days=1)
    )
    assert selectors.stale_for_owner(specialist) == [stale]
    services.playbook_mark_reviewed(playbook=stale, by=specialist)
    assert selectors.stale_for_owner(specialist) == []
    assert fresh.status == "published"


def test_stale_means_past_its_review_date_and_not_archived_for_rows_and_queries(specialist):
    today = timezone.localdate()
    expected = {
        ("published", -1): True,
        ("draft", -1): True,
        ("archived", -1): False,
        ("published", 0): False,  # due today is not yet stale
        ("published", 1): False,
    }
    pks = {}
    for status, days in expected:
        pks[status, days] = make_playbook(specialist, title=f"{status} {days}", status=status).pk
        Playbook.objects.filter(pk=pks[status, days]).update(next_review_on=today + dt.timedelta(days=days))

    stale = set(Playbook.objects.stale().values_list("pk", flat=True))
    up_to_date = set(Playbook.objects.up_to_date().values_list("pk", flat=True))
    for key, is_stale in expected.items():
        assert Playbook.objects.get(pk=pks[key]).is_stale is is_stale, key
        assert (pks[key] in stale) is is_stale and (pks[key] in up_to_date) is not is_stale, key


def test_search_finds_words_in_the_current_text_only(specialist):
    playbook = make_playbook(specialist, title="Fees", body="Maker rebates explained.")
    services.playbook_revise(
        playbook=playbook, by=specialist, body="Taker fees explained.", summary="s", based_on=1
    )
    make_playbook(specialist, title="Withdrawals", body="Bridging takes time.")
    found = list(selectors.playbook_search(Playbook.objects.all(), "taker fees"))
    assert found == [playbook]
    assert list(selectors.playbook_search(Playbook.objects.all(), "rebates")) == []
    if connection.vendor == "postgresql":
        playbook.refresh_from_db()
        assert playbook.search_vector  # stored, and ranked by it
        ranked = selectors.playbook_search(Playbook.objects.all(), "explained")
        assert "rank" in ranked.query.annotations


# --- templates --------------------------------------------------------------------------------


def test_templates_are_validated_when_saved(specialist):
    playbook = make_playbook(specialist)
    bad = [
        ("{{ account.password }}", "Unknown placeholder account.password"),
        ("{{ account.__class__ }}", ""),
        ("{% include 'x' %}", ""),
        ("Hi {{ account.first_name }", "Line 1"),
        ("{{ nonsense }}", "nonsense"),
    ]
    for body, message in bad:
        with pytest.raises(ValidationError) as error:
            services.template_create(
                by=specialist, name=f"T {body}", playbook=playbook, serves="check_in", subject="", body=body
            )
        assert message in " ".join(error.value.message_dict["body"])
    with pytest.raises(ValidationError) as error:
        services.template_create(
            by=specialist,
            name="Subject",
            playbook=playbook,
            serves="check_in",
            subject="{{ case.secret }}",
            body="Hi",
        )
    assert "subject" in error.value.message_dict


def test_template_revisions_stale_edits_and_revert(specialist):
    template = make_template(specialist)
    services.template_revise(
        template=template,
        by=specialist,
        subject="S",
        body="Hello {{ account.first_name }}",
        summary="Warmer",
        based_on=1,
    )
    with pytest.raises(services.StaleEdit):
        services.template_revise(
            template=template, by=specialist, subject="S", body="Hey", summary="x", based_on=1
        )
    with pytest.raises(ValidationError, match="exists already"):
        make_template(specialist, name="resolution UPHELD")
    first = template.revisions.get(number=1)
    reverted = services.template_revert(template=template, by=specialist, revision=first)
    assert reverted.number == 3 and reverted.body == first.body
    other = make_template(specialist, name="Other")
    with pytest.raises(ValidationError, match="another template"):
        services.template_revert(template=template, by=specialist, revision=other.current_revision)
    assert TemplateRevision.objects.filter(template=template).count() == 3


def test_a_template_use_keeps_the_text_and_whether_it_was_edited(specialist):
    template = make_template(specialist)
    use = services.template_use_record(
        revision=template.current_revision,
        by=specialist,
        subject_kind="dispute_case",
        subject_ref="DSP-2026-00001",
        drafted_body="Hi Dana",
        used_body="Hi Dana, sorry for the wait",
    )
    assert use.edited and use.rendered_body == "Hi Dana, sorry for the wait"
    with pytest.raises(ValidationError, match="empty"):
        services.template_use_record(
            revision=template.current_revision,
            by=specialist,
            subject_kind="check_in",
            subject_ref="1",
            drafted_body="x",
            used_body=" ",
        )
