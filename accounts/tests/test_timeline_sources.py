import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import timeline
from accounts.selectors import account_timeline
from accounts.tests.factories import make_account, make_check_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def only_sources(monkeypatch):
    """Run with just the given timeline sources (the registered ones are put back after)."""

    def use(**sources):
        monkeypatch.setattr(timeline, "_sources", {})
        for key, fn in sources.items():
            timeline.register_timeline_source(fn, key=key)

    return use


def test_registered_sources_are_merged_newest_first_and_limited(only_sources):
    account = make_account()
    now = timezone.now()
    make_check_in(account, days_ago=2)
    seen = []

    def calls(acc, limit):
        seen.append((acc.pk, limit))
        return [{"at": now - dt.timedelta(days=d), "kind": "call", "label": f"call {d}"} for d in (1, 3, 5)][
            :limit
        ]

    only_sources(calls=calls)
    kinds = [e["kind"] for e in account_timeline(account) if e["kind"] != "event"]
    assert kinds == ["call", "check_in", "call", "call"]
    assert seen == [(account.pk, 300)]
    assert len(account_timeline(account, limit=2)) == 2


def test_registering_the_same_key_again_replaces_the_source(only_sources):
    account = make_account()
    only_sources(one=lambda acc, limit: [{"at": timezone.now(), "kind": "x"}])
    timeline.register_timeline_source(lambda acc, limit: [], key="one")
    assert [e for e in account_timeline(account) if e["kind"] == "x"] == []
    assert len(timeline.timeline_sources()) == 1


def test_default_key_is_the_function_path(only_sources):
    only_sources()

    def source(acc, limit):
        return []

    timeline.register_timeline_source(source)
    timeline.register_timeline_source(source)
    assert timeline.timeline_sources() == [source]


def test_the_conversation_source_is_registered_by_the_support_app():
    from support.selectors import conversation_timeline_entries

    assert conversation_timeline_entries in timeline.timeline_sources()


def test_a_source_entry_of_an_unknown_kind_renders_like_an_event(client, specialist, only_sources):
    """Only kinds the template knows get their own rendering; the page does not break otherwise."""
    account = make_account(owner=specialist)
    only_sources(other=lambda acc, limit: [{"at": timezone.now(), "kind": "other"}])
    client.force_login(specialist)
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 200
