"""Demo playbooks (`seed_demo`): the starter set and `--playbooks N`."""

import datetime as dt
import re
from itertools import pairwise

import pytest
from django.core.management import CommandError
from django.db import connection
from django.utils import timezone

from playbooks.demo import (
    REVISIONS,
    STARTER_PLAYBOOKS,
    STARTER_TEMPLATES,
    starter_revision_text,
    starter_template_source,
)
from playbooks.markdown import render_markdown
from playbooks.models import Playbook, PlaybookRevision, ResponseTemplate
from playbooks.rendering import example_context, render_template, validate_template
from playbooks.selectors import playbook_search
from portal.roles import Role
from portal.tests.seeding import seed as seed_demo

pytestmark = pytest.mark.django_db
NOTHING_ELSE = ("--accounts", "0", "--markets", "0", "--disputes", "0")
STARTER_SLUGS = {spec.slug for spec in STARTER_PLAYBOOKS}


def seed(*args):
    return seed_demo(*NOTHING_ELSE, *args)


def test_the_starter_set_is_always_seeded_published_and_revised():
    output = seed()
    assert f"playbooks: {len(STARTER_PLAYBOOKS)} (" in output
    assert f"response templates: {len(STARTER_TEMPLATES)}" in output
    playbooks = {p.slug: p for p in Playbook.objects.select_related("owner", "current_revision")}
    assert set(playbooks) == STARTER_SLUGS
    for spec in STARTER_PLAYBOOKS:
        playbook = playbooks[spec.slug]
        assert playbook.title == spec.title and playbook.category == spec.category
        assert playbook.status == Playbook.Status.PUBLISHED
        assert playbook.owner.groups.filter(name=Role.SPECIALIST).exists()
        revisions = list(playbook.revisions.order_by("number"))
        assert 2 <= len(revisions) <= 3 and playbook.revision_count == len(revisions)
        assert [r.summary for r in revisions] == list(spec.summaries)
        assert len({r.body for r in revisions}) == len(revisions)  # every revision changed the text
        assert [r.created_at for r in revisions] == sorted(r.created_at for r in revisions)
        assert playbook.current_revision == revisions[-1] and playbook.current_body == revisions[-1].body
        assert playbook.next_review_on == timezone.localdate(revisions[-1].created_at) + dt.timedelta(
            days=playbook.review_interval_days
        )
        assert not playbook.is_stale  # the starter set is not due for review
    templates = ResponseTemplate.objects.select_related("playbook", "current_revision")
    assert {t.serves for t in templates} == set(ResponseTemplate.Serves.values)
    assert all(t.revision_count == 1 and t.playbook.slug in STARTER_SLUGS for t in templates)


@pytest.mark.parametrize("spec", STARTER_TEMPLATES, ids=lambda spec: spec.name)
def test_starter_templates_validate_and_render(spec):
    subject, body = starter_template_source(spec.source)
    assert validate_template(subject) == [] and validate_template(body) == []
    context = example_context()
    rendered = render_template(body, context)
    assert render_template(subject, context).strip()
    assert context["specialist"]["name"] in rendered and context["account"]["first_name"] in rendered
    assert "{{" not in rendered and "{%" not in rendered
    if spec.serves in ("market_resolution", "order_execution", "platform_mechanics"):
        for citation in context["citations"]:
            assert citation["excerpt"] in rendered and citation["source"] in rendered
        assert context["decision"]["rationale"] in rendered
        # A decision without a remedy or citations still reads well: the defaults take over.
        bare = {**context, "decision": {**context["decision"], "remedy": ""}, "citations": []}
        text = render_template(body, bare)
        assert "What happens now: " in text and "What happens now: \n" not in text
        assert "\n- “" not in text  # no citation lines, and no heading for them either
        assert "rests on" not in text and "rules that apply" not in text
    assert len(rendered) < 1_500  # concise


@pytest.mark.parametrize("spec", STARTER_PLAYBOOKS, ids=lambda spec: spec.slug)
def test_every_starter_revision_renders_with_a_table_of_contents(spec):
    for number in range(1, len(spec.summaries) + 1):
        text = starter_revision_text(spec.slug, number)
        assert not any(line.startswith("@r") for line in text.splitlines())
        assert "\n\n\n" not in text
        rendered = render_markdown(text)
        assert rendered.toc[0].level == 1 and rendered.toc[0].text == spec.title
        assert len([entry for entry in rendered.toc if entry.level == 2]) >= 4


def test_the_starter_set_has_lists_a_task_list_and_tables():
    html = "".join(
        str(render_markdown(starter_revision_text(s.slug, len(s.summaries))).html) for s in STARTER_PLAYBOOKS
    )
    assert "<table>" in html and "task-list-item-checkbox" in html and "<ol>" in html and "<ul>" in html


def test_generated_playbooks_have_fifty_revisions_ending_in_the_current_text():
    output = seed("--playbooks", "5")
    generated = list(Playbook.objects.exclude(slug__in=STARTER_SLUGS).select_related("current_revision"))
    assert len(generated) == 5 and REVISIONS == 50
    total = PlaybookRevision.objects.count()
    assert f"playbooks: {len(STARTER_PLAYBOOKS) + 5} ({total} revisions)" in output
    today = timezone.localdate()
    for playbook in generated:
        revisions = list(playbook.revisions.order_by("number"))
        assert [r.number for r in revisions] == list(range(1, 51)) and playbook.revision_count == 50
        newest = revisions[-1]
        assert playbook.current_revision == newest and playbook.current_body == newest.body
        assert playbook.next_review_on == timezone.localdate(newest.created_at) + dt.timedelta(
            days=playbook.review_interval_days
        )
        assert playbook.created_at == revisions[0].created_at and playbook.updated_at == newest.created_at
        assert all(a.created_at <= b.created_at <= timezone.now() for a, b in pairwise(revisions))
        assert all(a.body != b.body and b.summary for a, b in pairwise(revisions))
        assert all(2_000 <= len(r.body) <= 9_000 for r in revisions)
        assert render_markdown(newest.body).toc[0].text == playbook.title
        assert playbook.next_review_on >= today - dt.timedelta(days=playbook.review_interval_days)
    if connection.vendor == "postgresql":
        assert not Playbook.objects.filter(search_vector=None).exists()
    word = re.findall(r"[a-z]{8,}", generated[0].current_body)[3]
    assert generated[0] in playbook_search(Playbook.objects.all(), word)


def test_playbooks_must_not_be_negative():
    with pytest.raises(CommandError, match="--playbooks must be 0 or more"):
        seed("--playbooks", "-1")
    assert not Playbook.objects.exists()


def test_same_seed_same_playbooks_and_another_seed_others():
    def snapshot():
        return [
            (
                (p.slug, p.title, p.category, p.status, p.owner.username, p.review_interval_days),
                list(p.revisions.order_by("number").values_list("summary", "body", "author__username")),
            )
            for p in Playbook.objects.select_related("owner").order_by("slug")
        ]

    seed("--seed", "7", "--playbooks", "3")
    first = snapshot()
    seed("--seed", "7", "--playbooks", "3", "--force")
    assert snapshot() == first
    seed("--seed", "8", "--playbooks", "3", "--force")
    assert snapshot() != first
