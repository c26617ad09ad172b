"""The Intercom webhook: signature, storage once, answers, and processing by topic.

Tested from the outside: notifications signed as Intercom signs them are posted to the endpoint,
and the outcome is read from what is stored (the events, the mirrored conversations) and what is
queued. Processing calls nothing: a notification carries the whole Intercom object, so `fake`
(the fake Intercom, not serving) only shapes those objects. Failures are injected where they
come from outside the code: the broker (django-q's ORM broker) and the database
(`connection.execute_wrapper`)."""

import contextlib
import copy
import datetime as dt
import hashlib
import hmac
import json
import re
import threading

import pytest
from django.db import IntegrityError, OperationalError, connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from accounts.models import Account
from accounts.tests.factories import make_account
from integrations.intercom import processing
from integrations.intercom.fake import FakeIntercom
from integrations.intercom.processing import process_waiting
from integrations.intercom.topics import CONTACT_TOPICS, CONVERSATION_TOPICS
from integrations.models import DrainRequest, IntercomContact, WebhookEvent
from integrations.tasks import (
    intercom_process_webhook,
    intercom_process_webhooks,
    intercom_reprocess_stale_webhooks,
)
from integrations.tests.factories import DrainRequestFactory, IntercomContactFactory, WebhookEventFactory
from support.models import Conversation
from support.services import conversation_delete

SECRET = "webhook-test-secret"
URL = "/integrations/intercom/webhook/"
T0 = 1_750_000_000
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
DRAIN_TASK = "integrations.tasks.intercom_process_webhooks"
# The statements that lock one stored notification to process it, and look a conversation up in
# the mirror to apply one.
LOCK_EVENT_ROW = 'SELECT "integrations_webhookevent"."id", "integrations_webhookevent"."notification_id"'
LOOK_UP_CONVERSATION = 'SELECT "support_conversation"."id"'

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def secret(settings):
    settings.INTERCOM_CLIENT_SECRET = SECRET
    settings.INTERCOM_WEBHOOK_MAX_BYTES = 1024 * 1024


@pytest.fixture
def fake():
    return FakeIntercom(clock=lambda: T0)


@pytest.fixture
def contact(fake):
    return fake.add_contact(role="user", external_id="user-77", email="ann@example.com", name="Ann")


def notification(item: dict, topic: str = "conversation.user.created", notif_id: str = "notif_1", **extra):
    return {
        "type": "notification_event",
        "app_id": "abc123de",
        "id": notif_id,
        "topic": topic,
        "created_at": item.get("updated_at", T0) if isinstance(item, dict) else T0,
        "delivery_attempts": 1,
        "first_sent_at": T0,
        "data": {"type": "notification_event_data", "item": item},
        **extra,
    }


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def deliver(client, payload, *, sign_with: str | None = SECRET, header: str | None = None, **extra):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if header is None and sign_with is not None:
        header = signature(body, sign_with)
    if header is not None:
        extra["HTTP_X_HUB_SIGNATURE"] = header
    return client.generic("POST", URL, body, content_type="application/json", **extra)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Deliver a notification and commit. What it queues runs inline (the test settings'
    Q_CLUSTER "sync"), or waits in the broker when the test asks for `queue`."""

    def send(payload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(client, payload, **kwargs)

    return send


class TaskQueue:
    """The task queue seen from outside: what is queued, and running it as a worker would."""

    def tasks(self) -> list[dict]:
        return [queued.task for queued in OrmQ.objects.order_by("pk")]

    def funcs(self) -> list[str]:
        return [task["func"] for task in self.tasks()]

    def run(self) -> list:
        """Run what is queued, oldest first, until nothing is; returns each task's result."""
        results = []
        while (queued := OrmQ.objects.order_by("pk").first()) is not None:
            queued.delete()
            task = queued.task
            results.append(import_string(task["func"])(*task.get("args", ()), **task.get("kwargs", {})))
        return results


@pytest.fixture
def queue(monkeypatch):
    """Tasks are queued in the broker, as in production, instead of running inline (the test
    settings' Q_CLUSTER "sync"): the test sees what was queued and runs it when it chooses."""
    monkeypatch.setattr(Conf, "SYNC", False)
    return TaskQueue()


@contextlib.contextmanager
def database_fails(statement: str, error: Exception):
    """The database refuses the first statement starting with `statement` with `error` (a lock,
    a full disk, a unique id another worker's row took) and runs the rest; yields the statements
    it was asked to run that start so."""
    seen = []

    def refuse_first(execute, sql, params, many, context):
        if sql.startswith(statement):
            seen.append(sql)
            if len(seen) == 1:
                raise error
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_first):
        yield seen


def statements(queries) -> list[tuple[str, str]]:
    """(verb, table) of each captured query that reads or writes a table."""
    found = []
    for query in queries.captured_queries:
        table = re.search(r'\b(?:FROM|INTO|UPDATE)\s+"(\w+)"', query["sql"])
        verb = query["sql"].split(None, 1)[0].upper()
        if table and verb in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            found.append((verb, table.group(1)))
    return found


def test_the_route_is_where_intercom_is_pointed():
    assert reverse("integrations:intercom_webhook") == URL


# --- Accepted and processed -------------------------------------------------------------------


def test_a_signed_conversation_is_stored_answered_and_mirrored(post, fake, contact):
    item = fake.add_conversation(contact["id"], "Where is my payout?", updated_at=T0 + 60)
    response = post(notification(item, notif_id="notif_ccd8a4d0"))

    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "id": "notif_ccd8a4d0"}
    event = WebhookEvent.objects.get()
    assert (event.notification_id, event.topic, event.app_id) == (
        "notif_ccd8a4d0",
        "conversation.user.created",
        "abc123de",
    )
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.processed_at is not None
    assert event.created_at_intercom.timestamp() == T0 + 60
    conversation = Conversation.objects.get()
    assert conversation.intercom_id == item["id"]
    assert conversation.contact_external_id == "user-77"
    assert conversation.last_source == "webhook"


def test_the_task_is_queued_only_after_the_event_is_committed(
    client, queue, fake, contact, django_capture_on_commit_callbacks
):
    item = fake.add_conversation(contact["id"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = deliver(client, notification(item))
    assert response.status_code == 200
    assert queue.tasks() == []
    assert len(callbacks) == 1
    callbacks[0]()  # the commit
    # save=False: django-q keeps no result row for each drain.
    assert [(task["func"], task["save"]) for task in queue.tasks()] == [(DRAIN_TASK, False)]
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RECEIVED
    assert queue.run() == [{"processed": 1}]
    assert Conversation.objects.get().intercom_id == item["id"]


def test_a_burst_queues_one_drain_that_processes_all_of_it(post, queue, fake, contact):
    for n in range(5):
        item = fake.add_conversation(contact["id"], updated_at=T0 + n)
        assert post(notification(item, notif_id=f"notif_{n}")).status_code == 200
    assert queue.funcs() == [DRAIN_TASK]  # the other four found a drain waiting to start
    assert DrainRequest.objects.get().queued

    assert queue.run() == [{"processed": 5}]
    assert not DrainRequest.objects.get().queued
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    assert Conversation.objects.count() == 5

    post(notification(fake.add_conversation(contact["id"]), notif_id="notif_later"))
    assert queue.funcs() == [DRAIN_TASK]  # the drain started: the next notification queues again


def test_a_drain_clears_its_request_before_reading_what_waits(post, queue, fake, contact):
    """Otherwise a notification stored between its read and the clearing would wait for the sweep."""
    post(notification(fake.add_conversation(contact["id"])))
    assert DrainRequest.objects.get().queued
    with CaptureQueriesContext(connection) as queries:
        assert queue.run() == [{"processed": 1}]
    touched = statements(queries)
    cleared = touched.index(("UPDATE", "integrations_drainrequest"))
    assert cleared < touched.index(("SELECT", "integrations_webhookevent"))
    assert not DrainRequest.objects.get().queued


def test_a_drain_out_of_time_hands_over_to_a_new_one(queue, fake, contact):
    for n in range(3):
        WebhookEventFactory(item=fake.add_conversation(contact["id"]), notification_id=f"notif_{n}")
    assert process_waiting(budget_seconds=0) == {"processed": 1}
    assert [(task["func"], task["save"]) for task in queue.tasks()] == [(DRAIN_TASK, False)]
    assert DrainRequest.objects.get().queued
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).count() == 2
    assert queue.run() == [{"processed": 2}]


def test_a_drain_passes_over_an_event_another_worker_holds(queue, fake, contact):
    events = [
        WebhookEventFactory(item=fake.add_conversation(contact["id"]), notification_id=f"notif_{n}")
        for n in range(3)
    ]
    held = events[1]

    def locked_by_another_session(execute, sql, params, many, context):
        # What PostgreSQL's SELECT ... FOR UPDATE SKIP LOCKED answers for a row another session
        # holds (say a single-event task processing it): no row.
        if sql.startswith(LOCK_EVENT_ROW) and tuple(params or ())[:1] == (held.pk,):
            params = (0, *params[1:])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(locked_by_another_session):
        assert process_waiting() == {"processed": 2, "busy": 1}  # and it ends
    assert WebhookEvent.objects.get(pk=held.pk).status == WebhookEvent.Status.RECEIVED
    assert queue.run() == [{"processed": 1}]  # a drain of its own once the other worker lets go


@pytest.mark.parametrize("topic", sorted(CONVERSATION_TOPICS))
def test_every_conversation_topic_updates_the_mirror(post, fake, contact, topic):
    item = fake.add_conversation(contact["id"], state="closed", priority="high", updated_at=T0 + 5)
    assert post(notification(item, topic=topic)).status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert Conversation.objects.get(intercom_id=item["id"]).state == "closed"


def test_a_rating_is_recorded(post, fake, contact):
    item = fake.add_conversation(contact["id"], updated_at=T0 + 10)
    item["conversation_rating"] = {"rating": 5, "remark": "Quick!", "created_at": T0 + 10}
    post(notification(item, topic="conversation.rating.added"))
    conversation = Conversation.objects.get()
    assert (conversation.rating, conversation.rating_remark) == (5, "Quick!")


def test_conversation_deleted_removes_the_mirror(post, fake, contact):
    item = fake.add_conversation(contact["id"])
    post(notification(item, notif_id="notif_a"))
    assert Conversation.objects.count() == 1
    post(
        notification(
            {"type": "conversation", "id": item["id"]}, topic="conversation.deleted", notif_id="notif_b"
        )
    )
    assert Conversation.objects.count() == 0
    assert WebhookEvent.objects.get(notification_id="notif_b").status == WebhookEvent.Status.PROCESSED


def test_out_of_order_events_keep_the_newer_state(post, fake, contact):
    item = fake.add_conversation(contact["id"], updated_at=T0 + 100)
    newer = {**copy.deepcopy(item), "state": "closed", "open": False, "updated_at": T0 + 200}
    older = {**copy.deepcopy(item), "state": "open", "updated_at": T0 + 100}

    post(notification(newer, topic="conversation.admin.closed", notif_id="notif_newer"))
    post(notification(older, topic="conversation.user.replied", notif_id="notif_older"))

    conversation = Conversation.objects.get()
    assert conversation.state == "closed"
    assert conversation.updated_at_intercom.timestamp() == T0 + 200
    stale = WebhookEvent.objects.get(notification_id="notif_older")
    assert stale.status == WebhookEvent.Status.PROCESSED
    assert "older" in stale.error


# --- Duplicates and idempotency --------------------------------------------------------------


def test_a_repeated_delivery_is_stored_once_and_processed_once(post, fake, contact):
    item = fake.add_conversation(contact["id"])
    payload = notification(item, notif_id="notif_retry")
    first = post(payload)
    processed_at = WebhookEvent.objects.get().processed_at
    conversation_delete(intercom_id=item["id"])  # processed again, the retry would store it again
    retry = post({**payload, "delivery_attempts": 2})

    assert first.json()["status"] == "accepted"
    assert retry.status_code == 200
    assert retry.json() == {"status": "duplicate", "id": "notif_retry"}
    assert WebhookEvent.objects.count() == 1
    assert not Conversation.objects.exists()
    assert WebhookEvent.objects.get().processed_at == processed_at


def test_a_duplicate_queues_nothing(client, fake, contact, django_capture_on_commit_callbacks):
    payload = notification(fake.add_conversation(contact["id"]))
    with django_capture_on_commit_callbacks(execute=True) as first:
        deliver(client, payload)
    with django_capture_on_commit_callbacks(execute=True) as second:
        response = deliver(client, payload)
    # The first delivery asks for one drain (processing it may queue more, such as SLA
    # announcements); the duplicate queues nothing at all.
    drains = [callback for callback in first if callback.__name__ == "request_webhook_drain"]
    assert (len(drains), len(second)) == (1, 0)
    assert response.json()["status"] == "duplicate"


def test_running_the_task_twice_processes_once(post, fake, contact):
    item = fake.add_conversation(contact["id"])
    post(notification(item))
    event = WebhookEvent.objects.get()
    conversation_delete(intercom_id=item["id"])  # were it applied again, the mirror would hold it again
    assert intercom_process_webhook(event.pk) == "processed"
    assert intercom_process_webhooks() == {}
    assert not Conversation.objects.exists()
    assert intercom_process_webhook(10**9) == "missing"


# --- Refused -----------------------------------------------------------------------------------


def test_missing_signature_is_401_and_nothing_is_stored(post, fake, contact):
    response = post(notification(fake.add_conversation(contact["id"])), sign_with=None)
    assert response.status_code == 401
    assert response.json() == {"error": "Missing X-Hub-Signature"}
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "sha1=" + "0" * 40,
        "sha1=",
        "sha1=zz",
        "sha256=" + "0" * 64,
        "garbage",
        "sha1=" + "é" * 40,
    ],
)
def test_bad_signature_is_401_and_nothing_is_stored(post, fake, contact, header):
    response = post(notification(fake.add_conversation(contact["id"])), header=header)
    assert response.status_code == 401
    assert "error" in response.json()
    assert not WebhookEvent.objects.exists()


def test_signature_with_another_secret_is_401(post, fake, contact):
    response = post(notification(fake.add_conversation(contact["id"])), sign_with="someone-elses-secret")
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_signature_of_another_body_is_401(post, fake, contact):
    payload = notification(fake.add_conversation(contact["id"]))
    header = signature(json.dumps(payload).encode())
    tampered = json.dumps({**payload, "topic": "conversation.deleted"}).encode()
    assert post(tampered, header=header).status_code == 401
    assert not WebhookEvent.objects.exists()


def test_the_signature_covers_the_raw_bytes_not_reserialised_json(post, fake, contact):
    # Intercom's own spacing and key order: a server that re-serialises the JSON would refuse it.
    body = json.dumps(notification(fake.add_conversation(contact["id"])), indent=3, sort_keys=True).encode()
    assert post(body).status_code == 200


def test_unconfigured_secret_is_503(post, settings, fake, contact):
    settings.INTERCOM_CLIENT_SECRET = ""
    response = post(notification(fake.add_conversation(contact["id"])), sign_with="")
    assert response.status_code == 503
    assert response.json() == {"error": "Webhook secret not configured"}
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Body is not valid JSON"),
        (b"\xff\xfe{}", "Body is not UTF-8"),
        (b"", "Body is not valid JSON"),
        (b"[1, 2]", "Body is not a JSON object"),
        (b'"notif"', "Body is not a JSON object"),
        (b'{"topic": "conversation.user.created", "data": {}}', "Notification has no valid id"),
        (b'{"id": "", "topic": "conversation.user.created"}', "Notification has no valid id"),
        (b'{"id": {"x": 1}, "topic": "conversation.user.created"}', "Notification has no valid id"),
        (b'{"id": "notif_1"}', "Notification has no valid topic"),
        (b'{"id": "notif_1", "topic": 7}', "Notification has no valid topic"),
    ],
)
def test_malformed_notifications_are_400(post, body, message):
    response = post(body)
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert not WebhookEvent.objects.exists()


def test_a_too_long_id_is_400(post):
    assert post({"id": "n" * 101, "topic": "contact.user.created", "data": {}}).status_code == 400


class Unreadable:
    """A request body that must not be read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_an_oversized_body_is_413_before_it_is_read(client, settings):
    settings.INTERCOM_WEBHOOK_MAX_BYTES = 100
    response = client.generic(
        "POST",
        URL,
        b"",
        HTTP_X_HUB_SIGNATURE="sha1=" + "0" * 40,
        CONTENT_LENGTH="101",
        CONTENT_TYPE="application/json",
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 413
    assert response.json() == {"error": "Notification too large"}
    assert not WebhookEvent.objects.exists()


def test_a_body_at_the_limit_is_read(post, settings, fake, contact):
    body = json.dumps(notification(fake.add_conversation(contact["id"]))).encode()
    settings.INTERCOM_WEBHOOK_MAX_BYTES = len(body)
    assert post(body).status_code == 200


def test_django_upload_limit_below_the_webhook_limit_is_413_not_500(post, settings, fake, contact):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    body = json.dumps(notification(fake.add_conversation(contact["id"]))).encode()
    assert len(body) > 200
    assert post(body).status_code == 413
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(("length", "status"), [("abc", 400), ("-1", 400)])
def test_an_invalid_content_length_is_refused(client, length, status):
    response = client.generic(
        "POST",
        URL,
        b"",
        HTTP_X_HUB_SIGNATURE="sha1=" + "0" * 40,
        CONTENT_LENGTH=length,
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == status


def test_a_chunked_body_without_length_is_411(client):
    response = client.generic(
        "POST",
        URL,
        b"",
        HTTP_X_HUB_SIGNATURE="sha1=" + "0" * 40,
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": Unreadable()},
    )
    assert response.status_code == 411


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_405(client, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "error" in response.json()


def test_anonymous_unsigned_post_is_401_not_a_login_redirect(client):
    response = client.post(URL, {"a": 1})
    assert response.status_code == 401


def test_no_csrf_token_is_needed(fake, contact):
    client = Client(enforce_csrf_checks=True)
    response = deliver(client, notification(fake.add_conversation(contact["id"])))
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_a_signed_in_browser_gets_no_special_treatment(client, specialist):
    client.force_login(specialist)
    assert client.post(URL, {"a": 1}).status_code == 401


# --- Ping, unknown topics, junk items ----------------------------------------------------------


def test_ping_is_answered_and_not_stored(post):
    ping = {
        "type": "notification_event",
        "app_id": "abc123de",
        "data": {"type": "notification_event_data", "item": {"type": "ping", "message": "hi"}},
        "id": None,
        "topic": "ping",
        "delivery_attempts": 1,
        "created_at": T0,
    }
    response = post(ping)
    assert response.status_code == 200
    assert response.json() == {"status": "pong"}
    assert not WebhookEvent.objects.exists()


def test_an_unknown_topic_is_stored_and_ignored(post):
    response = post(notification({"type": "ticket", "id": "9"}, topic="ticket.created", notif_id="notif_t"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.topic, event.status) == ("ticket.created", WebhookEvent.Status.IGNORED)
    assert event.processed_at is not None


def test_a_junk_conversation_fails_without_raising(post):
    response = post(notification({"type": "conversation", "id": "1"}, topic="conversation.admin.replied"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert "created_at" in event.error
    assert not Conversation.objects.exists()


def test_a_missing_item_fails_without_raising(post):
    post({"id": "notif_x", "topic": "conversation.user.replied", "data": None})
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.FAILED


def test_an_unexpected_error_fails_the_event_and_rolls_back(post, fake, contact, specialist):
    account = make_account(owner=specialist, external_id="user-77", email="ann@example.com")
    # The conversation is stored, then the account's last contact fails to update.
    with database_fails('UPDATE "accounts_account"', OperationalError("database is locked")) as tried:
        post(notification(fake.add_conversation(contact["id"])))
    assert tried
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert event.error == "OperationalError: database is locked"
    assert event.processed_at is not None
    assert not Conversation.objects.exists()  # rolled back with the rest of the notification's work
    assert Account.objects.get(pk=account.pk).last_contact_at == account.last_contact_at


# --- Contacts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", sorted(CONTACT_TOPICS))
def test_contact_topics_record_the_intercom_id(post, contact, topic):
    post(notification(contact, topic=topic))
    link = IntercomContact.objects.get()
    assert (link.external_id, link.intercom_id) == ("user-77", contact["id"])
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED


def test_a_contact_moved_to_a_new_intercom_id_is_followed(post, contact):
    IntercomContactFactory(external_id="user-77", intercom_id="old0000000000000000000001", tier_tag_id="12")
    post(notification(contact, topic="contact.user.updated"))
    link = IntercomContact.objects.get()
    assert link.intercom_id == contact["id"]
    assert link.tier_tag_id == ""  # the tier tag was on the old contact: the sender applies it again


def test_the_same_mapping_is_refreshed(post, contact):
    IntercomContactFactory(
        external_id="user-77", intercom_id=contact["id"], tier_tag_id="12", synced_at=LONG_AGO
    )
    post(notification(contact, topic="contact.user.updated"))
    link = IntercomContact.objects.get()
    assert link.tier_tag_id == "12"
    assert link.synced_at.year > 2025


def test_a_contact_mapped_to_another_external_id_is_left_alone(post, contact):
    IntercomContactFactory(external_id="user-1", intercom_id=contact["id"])
    post(notification(contact, topic="contact.user.updated"))
    assert list(IntercomContact.objects.values_list("external_id", "intercom_id")) == [
        ("user-1", contact["id"])
    ]
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.IGNORED
    assert "user-1" in event.error


def test_a_contact_without_external_id_is_ignored(post, fake):
    lead = fake.add_contact(role="lead", email="lead@example.com")
    post(notification(lead, topic="contact.lead.created"))
    assert not IntercomContact.objects.exists()
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.IGNORED


def test_the_view_stores_with_one_insert_and_requests_a_drain_with_one_update(
    client, queue, fake, contact, django_capture_on_commit_callbacks
):
    DrainRequestFactory(queued=False)
    payload = notification(fake.add_conversation(contact["id"]))
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        deliver(client, payload)
        duplicate = deliver(client, payload)
    assert duplicate.json()["status"] == "duplicate"
    # The callbacks run when the capture ends: two INSERTs (one refused as a duplicate), one
    # UPDATE claiming the drain request, and the broker's own INSERT of the task.
    assert sorted(statements(queries)) == [
        ("INSERT", "django_q_ormq"),
        ("INSERT", "integrations_webhookevent"),
        ("INSERT", "integrations_webhookevent"),
        ("UPDATE", "integrations_drainrequest"),
    ]
    assert queue.funcs() == [DRAIN_TASK]


def test_a_conversation_inserted_meanwhile_by_another_worker_is_retried(post, fake, contact):
    # Two notifications of a conversation the mirror does not hold yet, processed at once by two
    # workers: the other one's row takes the id between this one's look-up and its insert.
    taken = IntegrityError("UNIQUE constraint failed: support_conversation.intercom_id")
    with database_fails('INSERT INTO "support_conversation"', taken) as inserts:
        post(notification(fake.add_conversation(contact["id"])))
    assert len(inserts) == 2
    event = WebhookEvent.objects.get()
    assert (event.status, event.error) == (WebhookEvent.Status.PROCESSED, "")
    assert Conversation.objects.count() == 1


def test_nul_characters_are_dropped_before_storing(post, fake, contact):
    item = fake.add_conversation(contact["id"], title="Payout\u0000 stuck")
    assert post(notification(item)).status_code == 200
    assert Conversation.objects.get().title == "Payout stuck"


def test_deeply_nested_json_is_400(post):
    assert post(b"[" * 100_000 + b"]" * 100_000).status_code == 400


def test_a_notification_whose_task_was_lost_is_processed_by_the_sweep(queue):
    old = WebhookEventFactory(topic="unknown.topic", received_at=timezone.now() - dt.timedelta(minutes=30))
    fresh = WebhookEventFactory(topic="unknown.topic")
    assert intercom_reprocess_stale_webhooks() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status != "received" and fresh.status == "received"
    # The fresh one is left to a drain, requested in case its own was lost.
    assert queue.funcs() == [DRAIN_TASK]
    assert queue.run() == [{"ignored": 1}]
    assert intercom_reprocess_stale_webhooks() == 0


def test_a_notification_queues_a_drain_again_when_the_requested_one_never_started(post, queue, fake, contact):
    """The broker restarted and lost the queued drain: the flag still says one is on its way."""
    DrainRequestFactory(queued=True, requested_at=timezone.now() - dt.timedelta(seconds=30))
    post(notification(fake.add_conversation(contact["id"]), notif_id="notif_soon"))
    assert queue.tasks() == []  # within the minute: the queued drain may still start
    DrainRequest.objects.update(requested_at=timezone.now() - dt.timedelta(minutes=2))
    post(notification(fake.add_conversation(contact["id"]), notif_id="notif_later"))
    assert queue.funcs() == [DRAIN_TASK]
    assert queue.run() == [{"processed": 2}]


def test_the_sweep_clears_a_drain_request_whose_task_never_ran(post, queue, fake, contact):
    DrainRequestFactory(queued=True)  # its task was lost
    post(notification(fake.add_conversation(contact["id"]), notif_id="notif_a"))
    assert queue.tasks() == []  # a task seems queued already
    assert intercom_reprocess_stale_webhooks() == 0  # the notification is fresh: left to a drain
    assert [(task["func"], task["save"]) for task in queue.tasks()] == [(DRAIN_TASK, False)]
    assert DrainRequest.objects.get().queued
    assert queue.run() == [{"processed": 1}]


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_apply_every_notification_exactly_once(fake, contact):
    """Two workers draining together (a burst queued a second drain while the first ran):
    on PostgreSQL each skips the rows the other holds; on SQLite transactions queue."""
    items = [fake.add_conversation(contact["id"], updated_at=T0 + n) for n in range(30)]
    for n, item in enumerate(items):
        WebhookEventFactory(item=item, notification_id=f"notif_{n}")
    looked_up: list[str] = []  # each application of a notification looks its conversation up once
    guard = threading.Lock()

    def count_mirror_look_ups(execute, sql, params, many, context):
        if sql.startswith(LOOK_UP_CONVERSATION):
            with guard:
                looked_up.append(params[0])
        return execute(sql, params, many, context)

    errors = []

    def drain():
        try:
            with connection.execute_wrapper(count_mirror_look_ups):  # this thread's connection
                process_waiting()
        except Exception as exc:  # surfaced below; a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(looked_up) == sorted(item["id"] for item in items), connection.vendor
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookEvent.Status.PROCESSED}
    assert Conversation.objects.count() == 30


def test_a_broker_failure_is_logged_and_the_next_notification_queues_again(
    post, queue, fake, contact, monkeypatch, caplog
):
    def refuse(self, task):
        raise ConnectionError("down")

    with monkeypatch.context() as broker_down:  # the broker refuses the task (Redis down, say)
        broker_down.setattr(ORM, "enqueue", refuse)
        response = post(notification(fake.add_conversation(contact["id"]), notif_id="notif_x"))
    assert response.status_code == 200 and response.json()["status"] == "accepted"  # it is stored
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RECEIVED
    assert not DrainRequest.objects.get().queued  # not left saying a drain is on its way
    assert "Could not queue the Intercom webhook drain" in caplog.text
    assert queue.tasks() == []

    post(notification(fake.add_conversation(contact["id"]), notif_id="notif_y"))
    assert queue.funcs() == [DRAIN_TASK]
    assert queue.run() == [{"processed": 2}]  # the one that waited, too


@pytest.mark.django_db(transaction=True)
def test_one_drain_at_a_time_and_a_second_one_leaves_the_work_to_it(queue, fake, contact):
    """So a burst takes one worker's CPU, not every worker's (PostgreSQL: a session advisory
    lock; on SQLite writes queue anyway and every drain may run)."""
    for n in range(3):
        WebhookEventFactory(item=fake.add_conversation(contact["id"]), notification_id=f"notif_{n}")
    if connection.vendor == "postgresql":
        holder = connections.create_connection("default")  # another worker's session
        try:
            with holder.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [processing._DRAIN_LOCK_KEY])
            assert process_waiting() == {"another drain is running": 1}
            assert queue.tasks() == []  # the running drain requests the next one when it lets go
            assert WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).count() == 3
        finally:
            holder.close()  # a closed session releases its advisory locks, as a killed worker's does
    assert process_waiting() == {"processed": 3}
