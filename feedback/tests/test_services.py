"""Feedback services: capture, linking, impact kept right, triage by role, merge and undo,
closing the loop."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import CheckIn, Tier
from accounts.services import account_update
from accounts.tests.factories import make_account
from feedback import services
from feedback.models import FeedbackItem, FeedbackSource, FollowUp
from feedback.tests.factories import FeedbackCommentFactory, FeedbackItemFactory
from integrations.models import SyncJob

pytestmark = pytest.mark.django_db


def _account(owner, volume, rank=1):
    return make_account(owner=owner, tier_rank=rank, volume_30d_usd=Decimal(volume))


def test_impact_counts_accounts_volume_and_tier_weight(specialist):
    whale, small = _account(specialist, "100000", rank=1), _account(specialist, "1000", rank=3)
    item = FeedbackItemFactory(created_by=specialist, account=whale, note="Asked on a call")
    services.source_link(item=item, account=small, by=specialist)
    item.refresh_from_db()
    w1, w3 = Tier.objects.get(rank=1).weight, Tier.objects.get(rank=3).weight
    assert item.impact_accounts == 2
    assert item.impact_volume_usd == Decimal("101000.00")
    assert item.impact_score == (Decimal("100000") * w1 + Decimal("1000") * w3).quantize(Decimal("0.01"))


def test_impact_follows_volume_tier_and_unlinking(specialist):
    account = _account(specialist, "5000", rank=2)
    item = FeedbackItemFactory(created_by=specialist, account=account)
    account_update(account=account, by=specialist, changes={"volume_30d_usd": Decimal("7000")})
    item.refresh_from_db()
    assert item.impact_volume_usd == Decimal("7000.00")
    account_update(account=account, by=specialist, changes={"tier": Tier.objects.get(rank=1)})
    item.refresh_from_db()
    assert item.impact_score == (Decimal("7000") * Tier.objects.get(rank=1).weight).quantize(Decimal("0.01"))
    services.source_unlink(source=item.sources.get(), by=specialist)
    item.refresh_from_db()
    assert (item.impact_accounts, item.impact_volume_usd, item.impact_score) == (
        0,
        Decimal("0"),
        Decimal("0"),
    )


def test_bad_capture_and_double_linking_are_refused(specialist, leader):
    with pytest.raises(ValidationError) as error:
        services.feedback_create(by=specialist, title=" ", category="nope")
    assert {"title", "category"} <= set(error.value.message_dict)
    account = _account(specialist, "10")
    item = FeedbackItemFactory(created_by=specialist, account=account)
    with pytest.raises(ValidationError, match="already linked"):
        services.source_link(item=item, account=account, by=specialist)
    with pytest.raises(ValidationError, match="Your role"):
        services.feedback_create(by=leader, title="Show fees before confirming", category="fees")
    assert FeedbackSource.objects.count() == 1


def test_only_product_triages_and_history_records_it(specialist, product_person):
    item = FeedbackItemFactory(created_by=specialist)
    with pytest.raises(ValidationError, match="Product does"):
        services.item_triage(item=item, by=specialist, status="planned")
    services.item_triage(item=item, by=product_person, status="planned", owner_team="engineering")
    item.refresh_from_db()
    assert (item.status, item.owner_team) == ("planned", "engineering")
    assert [e.kind for e in item.events.order_by("pk")] == ["created", "status", "owner_team"]
    with pytest.raises(ValidationError, match="by merging"):
        services.item_triage(item=item, by=product_person, status="duplicate")


def test_shipping_gives_each_owner_a_follow_up_and_completing_it_logs_a_check_in(specialist, product_person):
    a, b = _account(specialist, "10"), _account(specialist, "20")
    item = FeedbackItemFactory(created_by=specialist, account=a)
    services.source_link(item=item, account=b, by=specialist)
    services.item_triage(item=item, by=product_person, status="shipped")
    services.item_triage(item=item, by=product_person, status="shipped")  # no second round
    follow_ups = list(FollowUp.objects.filter(item=item))
    assert len(follow_ups) == 2 and {f.owner_id for f in follow_ups} == {specialist.pk}
    done = services.follow_up_complete(follow_up=follow_ups[0], by=specialist)
    assert done.check_in.kind == CheckIn.Kind.FOLLOW_UP
    notes = SyncJob.objects.filter(kind=SyncJob.Kind.CONTACT_NOTE, key__startswith=f"feedback:{item.pk}:")
    assert notes.count() == 1
    with pytest.raises(ValidationError, match="already done"):
        services.follow_up_complete(follow_up=follow_ups[0], by=specialist)


def test_merge_moves_accounts_and_comments_and_only_an_admin_undoes_it(
    specialist, product_person, portal_admin
):
    shared, only_dup = _account(specialist, "10"), _account(specialist, "20")
    survivor = FeedbackItemFactory(created_by=specialist, title="Survivor", account=shared)
    duplicate = FeedbackItemFactory(created_by=specialist, title="Duplicate", account=shared)
    services.source_link(item=duplicate, account=only_dup, by=specialist)
    FeedbackCommentFactory(item=duplicate, author=product_person)
    services.item_merge(item=duplicate, into=survivor, by=product_person)
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.status == "duplicate" and duplicate.duplicate_of == survivor
    assert set(survivor.sources.values_list("account_id", flat=True)) == {shared.pk, only_dup.pk}
    assert survivor.comments.count() == 1 and survivor.impact_accounts == 2
    assert "merged in" in survivor.events.last().summary and "Merged into" in duplicate.events.last().summary

    with pytest.raises(ValidationError, match="itself"):
        services.item_merge(item=survivor, into=survivor, by=product_person)
    with pytest.raises(ValidationError, match="itself a duplicate"):
        services.item_merge(item=survivor, into=duplicate, by=product_person)
    with pytest.raises(ValidationError, match="Admins do"):
        services.merge_undo(item=duplicate, by=product_person)
    services.merge_undo(item=duplicate, by=portal_admin)
    duplicate.refresh_from_db()
    assert duplicate.status == "new" and duplicate.duplicate_of is None
    # The account both items had stayed on the duplicate all along (its note kept); the moved one came back.
    assert set(duplicate.sources.values_list("account_id", flat=True)) == {shared.pk, only_dup.pk}
    assert duplicate.comments.count() == 1
    survivor.refresh_from_db()
    assert survivor.impact_accounts == 1


def test_impact_refresh_handles_many_items_in_bounded_queries(specialist, django_assert_max_num_queries):
    account = _account(specialist, "100")
    items = FeedbackItemFactory.create_batch(40, created_by=specialist, account=account)
    with django_assert_max_num_queries(4):
        services.impact_refresh([i.pk for i in items])
    assert set(FeedbackItem.objects.values_list("impact_accounts", flat=True)) == {1}
