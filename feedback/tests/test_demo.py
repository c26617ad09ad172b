"""Demo feedback log (`seed_demo --feedback N`): what the services would have left behind."""

from collections import Counter

import pytest
from django.core.management import CommandError
from django.db.models import Count
from django.utils import timezone

from feedback.demo import AREAS, BIG_ITEM_SOURCES
from feedback.models import (
    FeedbackComment,
    FeedbackEvent,
    FeedbackItem,
    FeedbackSource,
    FollowUp,
    ProductArea,
)
from feedback.services import impact_refresh
from portal.tests.seeding import seed

pytestmark = pytest.mark.django_db
SMALL = ("--accounts", "40", "--markets", "0", "--disputes", "0", "--feedback", "120")
Status = FeedbackItem.Status


@pytest.fixture(params=["one chunk", "chunks of 25"])
def seeded(request, monkeypatch):
    """Every check holds whether the items are written in one go or in chunks (as at any size
    past 5,000 items)."""
    if request.param == "chunks of 25":
        monkeypatch.setattr("feedback.demo.FEEDBACK_CHUNK", 25)
    return seed("--seed", "7", *SMALL)


def _impact():
    return list(
        FeedbackItem.objects.order_by("pk").values_list(
            "pk", "impact_accounts", "impact_volume_usd", "impact_score"
        )
    )


def test_seeds_the_items_areas_and_a_summary_line(seeded):
    items = FeedbackItem.objects.count()
    sources, events = FeedbackSource.objects.count(), FeedbackEvent.objects.count()
    assert items == 120
    assert f"feedback: 120 items ({sources} linked accounts, {events} events, " in seeded
    assert f"{FeedbackComment.objects.count()} comments, {FollowUp.objects.count()} follow-ups" in seeded
    assert sorted(ProductArea.objects.values_list("name", flat=True)) == sorted(AREAS)
    statuses = Counter(FeedbackItem.objects.values_list("status", flat=True))
    assert set(statuses) == set(Status.values)  # every status, duplicates included
    assert statuses[Status.DUPLICATE] < 120 * 0.15  # a few
    now = timezone.now()
    ages = [(now - at).days for at in FeedbackItem.objects.values_list("created_at", flat=True)]
    assert max(ages) > 200 and min(ages) < 30 and max(ages) <= 366  # over the last twelve months
    assert FeedbackItem.objects.exclude(area=None).count() > 100
    assert len(set(FeedbackItem.objects.values_list("owner_team", flat=True))) >= 3
    assert len(set(FeedbackItem.objects.values_list("severity", flat=True))) == 3


def test_about_five_accounts_each_and_one_item_with_the_most(seeded):
    counts = dict(
        FeedbackItem.objects.exclude(status=Status.DUPLICATE)
        .annotate(n=Count("sources"))
        .values_list("pk", "n")
    )
    biggest = max(counts, key=counts.get)
    assert counts[biggest] == min(BIG_ITEM_SOURCES, 40)  # every account, with only 40 of them
    others = [n for pk, n in counts.items() if pk != biggest]
    assert all(1 <= n < counts[biggest] for n in others)
    assert 4 <= sum(others) / len(others) <= 7
    big = FeedbackItem.objects.get(pk=biggest)
    assert big.title == "Show the total fee before confirming an order" and big.status == Status.PLANNED


def test_sources_are_said_after_logging_and_before_closing(seeded):
    now = timezone.now()
    for source in FeedbackSource.objects.select_related("item", "merged_from"):
        logged_on = source.merged_from or source.item  # a merged source was said on its first item
        assert logged_on.created_at <= source.said_at <= now
        if source.item.status in (Status.SHIPPED, Status.DECLINED) and source.merged_from is None:
            assert source.said_at <= source.item.status_changed_at
    assert FeedbackSource.objects.exclude(note="").exists()
    # Each link left its "linked" event, as source_link writes it.
    linked = FeedbackEvent.objects.filter(kind="linked").count()
    assert linked == FeedbackSource.objects.count()


def test_stored_impact_matches_a_fresh_refresh(seeded):
    stored = _impact()
    assert any(score > 0 for *_, score in stored)
    impact_refresh(FeedbackItem.objects.values_list("pk", flat=True))
    assert _impact() == stored


def test_duplicates_point_at_items_that_are_not_duplicates(seeded):
    duplicates = list(FeedbackItem.objects.filter(status=Status.DUPLICATE).select_related("duplicate_of"))
    assert duplicates
    assert not FeedbackItem.objects.exclude(status=Status.DUPLICATE).exclude(duplicate_of=None).exists()
    for item in duplicates:
        survivor = item.duplicate_of
        assert survivor is not None and survivor.status != Status.DUPLICATE
        assert survivor.created_at < item.created_at
        merged = item.events.get(kind="merged")
        assert merged.after == {"status": "duplicate", "into": survivor.pk}
        assert merged.before == {"status": "new"}  # what an Admin's undo would restore
        assert survivor.events.filter(kind="merged_in", after={"from": item.pk}).exists()
        # Its accounts moved to the survivor (unless the survivor had them), ready for an undo.
        moved = set(FeedbackSource.objects.filter(merged_from=item).values_list("account_id", flat=True))
        stayed = set(item.sources.values_list("account_id", flat=True))
        assert moved.isdisjoint(stayed) and moved | stayed
        assert stayed <= set(survivor.sources.values_list("account_id", flat=True))


def test_history_follows_each_items_status(seeded):
    for item in FeedbackItem.objects.prefetch_related("events"):
        events = sorted(item.events.all(), key=lambda e: (e.at, e.pk))
        assert events[0].kind == "created" and events[0].at == item.created_at
        assert events[0].summary.startswith("Logged by ")
        changes = [e for e in events if e.kind == "status"]
        if item.status in (Status.NEW, Status.DUPLICATE):
            assert not changes
        else:
            assert changes[-1].after == {"status": item.status}
            assert item.status_changed_at == changes[-1].at
            assert [c.before["status"] for c in changes[1:]] == [c.after["status"] for c in changes[:-1]]
        if item.owner_team != FeedbackItem.Team.PRODUCT:
            assert any(e.kind == "owner_team" and e.after == {"owner_team": item.owner_team} for e in events)
        assert item.updated_at >= max(e.at for e in events)


def test_follow_ups_only_for_closed_items_and_owned_by_the_accounts_owner(seeded):
    follow_ups = list(FollowUp.objects.select_related("item", "account"))
    assert follow_ups
    assert any(f.done_at for f in follow_ups)
    for follow_up in follow_ups:
        assert follow_up.item.status in (Status.SHIPPED, Status.DECLINED)
        assert follow_up.outcome == follow_up.item.status
        assert follow_up.owner_id == follow_up.account.owner_id
        assert follow_up.created_at == follow_up.item.status_changed_at
        assert follow_up.done_at is None or follow_up.done_at >= follow_up.created_at
    # One for each account linked when the item closed.
    for item in FeedbackItem.objects.filter(status__in=[Status.SHIPPED, Status.DECLINED])[:20]:
        linked = set(
            item.sources.filter(merged_from=None, said_at__lte=item.status_changed_at).values_list(
                "account_id", flat=True
            )
        )
        assert linked <= set(item.follow_ups.values_list("account_id", flat=True))


def test_same_seed_same_feedback_and_another_seed_other(seeded):
    def snapshot():
        return [
            (
                i.title,
                i.category,
                i.status,
                i.owner_team,
                i.severity,
                i.area.name if i.area else "",
                sorted(i.sources.values_list("account__external_id", "note")),
                i.impact_score,
            )
            for i in FeedbackItem.objects.select_related("area").order_by("created_at", "pk")
        ]

    first = snapshot()
    seed("--seed", "7", *SMALL, "--force")
    assert snapshot() == first
    seed("--seed", "8", *SMALL, "--force")
    assert snapshot() != first


def test_feedback_option_is_validated_and_scales_down():
    with pytest.raises(CommandError, match="--feedback must be 0 or more"):
        seed("--feedback", "-1")
    assert not FeedbackItem.objects.exists()

    output = seed("--accounts", "10", "--markets", "0", "--disputes", "0", "--feedback", "0")
    assert "feedback: 0 items (" in output and not FeedbackItem.objects.exists()
    assert ProductArea.objects.count() == len(AREAS)  # the areas are seeded regardless

    seed("--accounts", "0", "--markets", "0", "--disputes", "0", "--feedback", "30", "--force")
    assert not FeedbackItem.objects.exists()  # no accounts, no feedback

    seed("--accounts", "3", "--markets", "0", "--disputes", "0", "--feedback", "5", "--force")
    assert FeedbackItem.objects.count() == 5
    assert max(FeedbackItem.objects.values_list("impact_accounts", flat=True)) <= 3
