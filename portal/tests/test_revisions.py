"""Versioned text: every revision model follows one pattern, and revisions are numbered and added
one way (`portal.revisions.revision_add`)."""

import datetime as dt

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.test.utils import isolate_apps
from django.utils import timezone

from portal.revisions import Revision, revision_add


def test_every_versioned_text_is_a_revision_that_passes_the_pattern_check():
    revision_models = {m._meta.label: m for m in apps.get_models() if issubclass(m, Revision)}
    assert set(revision_models) == {
        "disputes.MarketRuleVersion",
        "disputes.RulebookSectionVersion",
        "playbooks.PlaybookRevision",
        "playbooks.TemplateRevision",
    }
    for model in revision_models.values():
        assert model.check() == [], model


@isolate_apps("portal")
def test_a_revision_model_that_strays_from_the_pattern_fails_the_check():
    class Draft(models.Model):
        latest = models.ForeignKey("self", null=True, on_delete=models.SET_NULL)

        def __str__(self):
            return str(self.pk)

    class DraftRevision(Revision):
        parent_field = "draft"
        current_field = "latest"
        counter_field = "revision_count"

        draft = models.ForeignKey(Draft, on_delete=models.CASCADE)

        class Meta:
            ordering = ["number"]

    class Unparented(Revision):
        parent_field = "nothing"
        current_field = "latest"

    problems = [error.msg for error in DraftRevision.check() if error.id == "portal.E101"]
    assert problems == [
        'Meta.ordering must be ["draft", "-number"].',
        'Meta needs UniqueConstraint(fields=["draft", "number"]).',
        "Draft has no field “revision_count”.",
    ]
    assert [error.msg for error in Unparented.check() if error.id == "portal.E101"] == [
        "parent_field “nothing” is not a foreign key of the model."
    ]


@pytest.mark.django_db
def test_revision_add_numbers_after_the_highest_and_makes_the_revision_current(specialist):
    from disputes.models import RulebookSection, RulebookSectionVersion

    section = RulebookSection.objects.create(venue="us", number="1", title="Scope", sort_key="0001")
    fields = {
        "title": "Scope",
        "effective_from": dt.date(2026, 1, 1),
        "origin": "edit",
        "recorded_at": timezone.now(),
        "recorded_by": specialist,
    }
    first = revision_add(RulebookSectionVersion, parent=section, body="One", content_hash="1", **fields)
    second = revision_add(RulebookSectionVersion, parent=section, body="Two", content_hash="2", **fields)
    assert (first.number, second.number) == (1, 2) and section.current_version == second
    # A number is never given twice: the (parent, number) constraint backs the parent's lock.
    with pytest.raises(IntegrityError), transaction.atomic():
        RulebookSectionVersion.objects.create(
            section=section, number=2, body="Dup", content_hash="3", **fields
        )


@pytest.mark.django_db
def test_revision_add_takes_the_number_from_the_parents_counter_where_it_keeps_one(specialist):
    from playbooks.models import PlaybookRevision
    from playbooks.tests.factories import make_playbook

    playbook = make_playbook(specialist)
    assert playbook.revision_count == 1
    revision = revision_add(
        PlaybookRevision,
        parent=playbook,
        body="New",
        summary="s",
        author=specialist,
        created_at=timezone.now(),
    )
    assert revision.number == 2 and playbook.revision_count == 2 and playbook.current_revision == revision
    # In memory only: the service saves the parent with whatever else it changes.
    playbook.refresh_from_db()
    assert playbook.revision_count == 1
