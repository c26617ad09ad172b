import pytest

from integrations.models import SyncJob
from integrations.outbox import outbox_mark_delivered, outbox_record, outbox_record_many

Kind = SyncJob.Kind


@pytest.mark.django_db
def test_pending_jobs_for_one_object_coalesce_into_the_newest_payload():
    first = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"tier": "Tier 2"})
    second = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"tier": "Tier 1"})
    assert first.pk == second.pk
    job = SyncJob.objects.get()
    assert job.payload == {"tier": "Tier 1"} and job.status == SyncJob.Status.PENDING


@pytest.mark.django_db
def test_different_kinds_or_keys_do_not_coalesce():
    outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"a": 1})
    outbox_record(kind=Kind.CONTACT_UPSERT, key="account:2", payload={"a": 1})
    outbox_record(kind=Kind.CONTACT_ATTRIBUTES, key="account:1", payload={"a": 1})
    assert SyncJob.objects.count() == 3


@pytest.mark.django_db
def test_a_payload_equal_to_the_last_delivered_one_records_nothing():
    job = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"tier": "Tier 1", "health": 80})
    outbox_mark_delivered(job)

    again = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"health": 80, "tier": "Tier 1"})

    assert again is None
    assert SyncJob.objects.filter(status=SyncJob.Status.PENDING).count() == 0


@pytest.mark.django_db
def test_a_changed_payload_after_delivery_is_a_new_job_that_remembers_the_last_delivered_hash():
    job = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"health": 80})
    outbox_mark_delivered(job)
    new = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"health": 60})
    assert new.pk != job.pk
    assert new.last_delivered_hash == job.payload_hash
    assert new.status == SyncJob.Status.PENDING


@pytest.mark.django_db
def test_returning_to_the_delivered_payload_while_pending_leaves_a_job_the_sender_can_skip():
    job = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"health": 80})
    outbox_mark_delivered(job)
    pending = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"health": 60})
    back = outbox_record(kind=Kind.CONTACT_UPSERT, key="account:1", payload={"health": 80})
    assert back.pk == pending.pk
    back.refresh_from_db()
    # The sender sees hash == last delivered and marks it done without calling Intercom.
    assert back.payload_hash == back.last_delivered_hash


@pytest.mark.django_db
def test_recording_many_keys_runs_a_bounded_number_of_queries(django_assert_max_num_queries):
    payloads = {f"account:{n}": {"n": n} for n in range(300)}
    with django_assert_max_num_queries(10):  # SQLite splits the INSERT by its bound-parameter limit
        outbox_record_many(kind=Kind.CONTACT_UPSERT, payloads=payloads)
    assert SyncJob.objects.count() == 300
    with django_assert_max_num_queries(10):  # SQLite splits the INSERT by its bound-parameter limit
        outbox_record_many(kind=Kind.CONTACT_UPSERT, payloads={k: {"n": -1} for k in payloads})
    assert SyncJob.objects.filter(payload={"n": -1}).count() == 300
