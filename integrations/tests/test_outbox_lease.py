"""The sender's lease on claimed jobs: renewed contact by contact just before delivery, so jobs a
dead worker held are taken over two minutes later, and a worker whose lease was taken over leaves
the contact to the worker that took it."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import make_account
from integrations.intercom.client import IntercomClient
from integrations.intercom.sender import drain
from integrations.intercom.sender.claiming import LEASE, claim, renew
from integrations.models import RateBudget, SyncJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(intercom):
    call_command("intercom_setup", stdout=StringIO())
    RateBudget.objects.all().delete()
    return intercom


def test_renewing_moves_the_lease_on_and_only_while_this_worker_holds_it():
    make_account(external_id="lease-1")
    (group,) = claim()
    claimed_at = group[0].claimed_at
    assert renew(group)
    renewed_at = SyncJob.objects.get(pk=group[0].pk).claimed_at
    assert renewed_at > claimed_at and group[0].claimed_at == renewed_at

    # The lease ran out and another worker claimed the contact: its stamp, not ours.
    SyncJob.objects.filter(pk=group[0].pk).update(claimed_at=timezone.now() - LEASE - dt.timedelta(seconds=1))
    (taken,) = claim()
    assert not renew(group)
    assert SyncJob.objects.get(pk=group[0].pk).claimed_at == taken[0].claimed_at


def test_a_contact_taken_over_is_left_to_the_worker_that_took_it(ready, monkeypatch):
    make_account(external_id="lease-2")
    (mine,) = claim()
    SyncJob.objects.filter(pk=mine[0].pk).update(claimed_at=timezone.now() - LEASE - dt.timedelta(seconds=1))
    (theirs,) = claim()  # another worker, after the lease ran out
    # This worker reaches the contact only now, with the claim it made before.
    claims = iter([[mine], []])
    monkeypatch.setattr("integrations.intercom.sender.running.claim", lambda: next(claims))
    calls_before = ready.call_count
    with IntercomClient() as client:
        report = drain(client=client)
    assert report.lease_lost == 1 and report.delivered == 0 and ready.call_count == calls_before
    job = SyncJob.objects.get(pk=theirs[0].pk)
    assert job.status == SyncJob.Status.RUNNING and job.claimed_at == theirs[0].claimed_at


def test_jobs_a_dead_worker_held_are_delivered_once_the_lease_has_passed(ready):
    make_account(external_id="lease-3")
    claim()  # a worker claims, then dies before delivering
    with IntercomClient() as client:
        assert drain(client=client).delivered == 0  # still within the lease
    SyncJob.objects.update(claimed_at=timezone.now() - LEASE - dt.timedelta(seconds=1))
    with IntercomClient() as client:
        report = drain(client=client)
    assert report.delivered == 1 and not SyncJob.objects.exclude(status=SyncJob.Status.DONE).exists()
    assert dt.timedelta(minutes=2) >= LEASE


@pytest.mark.django_db(transaction=True)
def test_a_claim_passes_over_a_contact_another_worker_holds_a_job_of_instead_of_waiting(specialist):
    """Two claims each waiting for a job of the other's contact deadlocked (three clusters on
    PostgreSQL). A contact with a job held elsewhere is left, whole, to a later claim."""
    from django.db import connection, connections

    held = make_account(external_id="held-1", owner=specialist)
    free = make_account(external_id="free-1", owner=specialist)
    held_job = SyncJob.objects.get(key=f"account:{held.pk}")
    if connection.vendor != "postgresql":  # one writer at a time: no row lock to pass over
        assert sorted(job.key for group in claim() for job in group) == sorted(
            [f"account:{held.pk}", f"account:{free.pk}"]
        )
        return
    holder = connections.create_connection("default")  # another worker, mid-claim
    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM integrations_syncjob WHERE id = %s FOR UPDATE", [held_job.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting for the row would fail the test
        groups = claim()
        assert [[job.key for job in group] for group in groups] == [[f"account:{free.pk}"]]
        assert SyncJob.objects.get(pk=held_job.pk).status == SyncJob.Status.PENDING
    finally:
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    (later,) = claim()  # the other worker let go: the contact is claimed whole
    assert [job.pk for job in later] == [held_job.pk]
