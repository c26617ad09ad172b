"""The Intercom client against the fake: retries, 429s, typed errors, cursors, the shared budget."""

import time

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from integrations.intercom.client import IntercomClient
from integrations.intercom.errors import (
    IntercomConflict,
    IntercomNotConfigured,
    IntercomNotFound,
    IntercomRejected,
    IntercomUnavailable,
)
from integrations.models import RateBudget
from integrations.ratelimit import SharedRateBudget

pytestmark = pytest.mark.django_db


class Sleeps(list):
    """A sleep that records how long it was asked to wait and moves a clock instead."""

    def __init__(self):
        super().__init__()
        self.offset = 0.0

    def __call__(self, seconds):
        self.append(seconds)
        self.offset += seconds

    def clock(self):
        return time.time() + self.offset


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def client(intercom, sleeps):
    budget = SharedRateBudget(sleep=sleeps, clock=sleeps.clock)
    with IntercomClient(sleep=sleeps, budget=budget) as client:
        yield client


def test_sends_the_pinned_version_and_token(client, intercom):
    assert client.me()["type"] == "admin"
    assert intercom.intercom_versions["2.16"] == 1


def test_retries_5xx_and_dropped_connections_with_backoff(client, intercom, sleeps):
    intercom.fail_next(2, status=503)
    intercom.drop_next(1)
    assert client.admins()
    assert client.calls == 4 and len(sleeps) == 3
    assert all(0 <= s <= 30 for s in sleeps)


def test_a_note_is_not_posted_again_after_a_5xx_or_a_dropped_answer(client, intercom):
    """Intercom may have stored it: the caller (the outbox, which looks before retrying) decides."""
    contact = intercom.add_contact(role="user", external_id="once")
    intercom.fail_next(1, status=502)
    with pytest.raises(IntercomUnavailable):
        client.contact_note(contact["id"], body="Decided.")
    intercom.drop_next(1)
    with pytest.raises(IntercomUnavailable):
        client.contact_note(contact["id"], body="Decided.")
    assert client.calls == 2  # one try each, no retry


def test_a_note_is_retried_when_the_connection_was_never_made(intercom, sleeps):
    budget = SharedRateBudget(sleep=sleeps, clock=sleeps.clock)
    contact = intercom.add_contact(role="user", external_id="later")
    refused = requests.ConnectionError(
        MaxRetryError(None, "/", reason=NewConnectionError(None, "Connection refused"))
    )
    with IntercomClient(sleep=sleeps, budget=budget) as client:
        real = client.session.request
        calls = []

        def first_refused(*args, **kwargs):
            calls.append(args)
            if len(calls) == 1:
                raise refused
            return real(*args, **kwargs)

        client.session.request = first_refused
        assert client.contact_note(contact["id"], body="Decided.")["type"] == "note"
    assert len(calls) == 2 and len(sleeps) == 1


def test_gives_up_after_the_attempts_with_a_retryable_error(client, intercom):
    intercom.fail_next(10, status=500)
    with pytest.raises(IntercomUnavailable) as error:
        client.me()
    assert error.value.retryable and error.value.status == 500


def test_a_429_is_waited_out_until_the_reset_and_not_counted_as_a_failure(client, intercom, sleeps):
    intercom.fail_next(7, status=429)  # more than max_attempts: only real failures count
    assert client.me()["type"] == "admin"
    assert len(sleeps) >= 7 and all(0 <= s <= 10.5 for s in sleeps)  # each wait ends at the window reset
    assert RateBudget.objects.get(name="intercom").remaining >= 0


def test_typed_errors_carry_intercoms_error_list(client, intercom):
    with pytest.raises(IntercomNotFound) as missing:
        client.contact_get("0123456789abcdef01234567")
    assert missing.value.codes == ["not_found"] and not missing.value.retryable
    client.contact_create({"external_id": "u-1", "email": "a@example.com"})
    with pytest.raises(IntercomConflict):
        client.contact_create({"external_id": "u-1", "email": "b@example.com"})
    with pytest.raises(IntercomRejected) as rejected:
        client.contact_create({"external_id": "u-2", "custom_attributes": {"no_such_attribute": 1}})
    assert rejected.value.status == 400 and rejected.value.errors


def test_find_by_external_id_returns_none_when_missing(client, intercom):
    assert client.contact_find_by_external_id("nobody") is None
    created = client.contact_create({"external_id": "u 1/x", "email": "x@example.com"})
    assert client.contact_find_by_external_id("u 1/x")["id"] == created["id"]


def test_search_follows_cursors_to_the_end(client, intercom):
    for n in range(7):
        intercom.add_contact(role="user", external_id=f"ext-{n}", email=f"p{n}@example.com")
    found = list(client.contacts_search({"field": "role", "operator": "=", "value": "user"}, per_page=2))
    assert sorted(c["external_id"] for c in found) == [f"ext-{n}" for n in range(7)]


def test_the_budget_is_shared_by_every_client(intercom, sleeps):
    budget_a = SharedRateBudget(limit=10, window_seconds=60, sleep=sleeps)
    budget_b = SharedRateBudget(limit=10, window_seconds=60, sleep=sleeps)
    RateBudget.objects.all().delete()
    for _ in range(5):
        budget_a._try_take()
        budget_b._try_take()
    # 10 x 0.97 headroom = 9 usable: the tenth call from either process must wait.
    assert budget_a._try_take() > 0 and budget_b._try_take() > 0


def test_the_budget_follows_the_headers_intercom_sends(intercom, sleeps):
    budget = SharedRateBudget(sleep=sleeps)
    budget._try_take()
    budget.observe(
        {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "9999999999"}
    )
    row = RateBudget.objects.get(name="intercom")
    assert row.limit == 100 and row.remaining == 0 and row.window_ends_at == 9999999999
    assert budget._try_take() > 0


def test_switched_off_refuses_to_build_a_client(settings):
    settings.INTERCOM_ENABLED = False
    with pytest.raises(IntercomNotConfigured):
        IntercomClient()
