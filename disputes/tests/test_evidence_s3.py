"""Uploaded files on S3-compatible storage (MEDIA_S3_BUCKET): what one web node stores, another
reads. The S3 API is moto's in-process mock (boto3's own requests, answered without network)."""

import re

import boto3
import environ
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto import mock_aws

from accounts.tests.factories import make_account
from disputes.models import EvidenceItem
from disputes.services.cases import dispute_file
from portal.storage_settings import default_storage_setting

pytestmark = pytest.mark.django_db
BUCKET = "portal-media"
PDF = b"%PDF-1.7\n" + b"x" * 100


@pytest.fixture
def s3(settings, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MEDIA_S3_BUCKET": BUCKET,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": default_storage_setting(environ.Env()),
        }
        yield client


def test_no_bucket_means_the_disk_and_a_bucket_means_private_s3(monkeypatch):
    monkeypatch.delenv("MEDIA_S3_BUCKET", raising=False)
    assert default_storage_setting(environ.Env())["BACKEND"].endswith("FileSystemStorage")
    monkeypatch.setenv("MEDIA_S3_BUCKET", "files")
    monkeypatch.setenv("MEDIA_S3_ENDPOINT_URL", "https://minio.internal:9000")
    monkeypatch.setenv("MEDIA_S3_PREFIX", "/portal/")
    setting = default_storage_setting(environ.Env())
    assert setting["BACKEND"] == "storages.backends.s3.S3Storage"
    assert setting["OPTIONS"]["bucket_name"] == "files"
    assert setting["OPTIONS"]["endpoint_url"] == "https://minio.internal:9000"
    assert setting["OPTIONS"]["location"] == "portal"
    assert setting["OPTIONS"]["default_acl"] is None and setting["OPTIONS"]["file_overwrite"] is False


def test_evidence_uploaded_from_the_page_is_in_the_bucket_and_downloads_from_it(
    client, s3, specialist, leader
):
    case = dispute_file(
        by=specialist, account=make_account(owner=specialist), category="order_execution", claim="Bad fill."
    )
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    action = re.search(r'<form[^>]+action="([^"]*evidence[^"]*)"[^>]*enctype="multipart/form-data"', page)
    assert action, "the case page has no evidence upload form"
    response = client.post(
        action[1], {"kind": "file", "upload": SimpleUploadedFile("fill.pdf", PDF), "description": "Receipt"}
    )
    assert response.status_code == 302

    item = EvidenceItem.objects.get()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"media/{item.file.name}"]
    assert s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read() == PDF

    # Another node (another process: the storage object made afresh) reads it from the bucket.
    from django.core.files.storage import storages

    storages._storages.clear()
    client.force_login(leader)
    page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    link = re.search(r'href="([^"]*/evidence/\d+/[^"]*)"', page)
    assert link, "the case page has no link to the file"
    download = client.get(link[1])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_a_bucket_that_refuses_the_file_gives_a_message_and_keeps_nothing(client, s3, specialist):
    from disputes.models import CaseEvent
    from portal.files import STORE_REFUSED

    case = dispute_file(
        by=specialist, account=make_account(owner=specialist), category="order_execution", claim="Bad fill."
    )
    s3.delete_bucket(Bucket=BUCKET)  # gone, or never made: S3 answers NoSuchBucket
    client.force_login(specialist)
    page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    action = re.search(r'<form[^>]+action="([^"]*evidence[^"]*)"[^>]*enctype="multipart/form-data"', page)
    response = client.post(action[1], {"kind": "file", "upload": SimpleUploadedFile("fill.pdf", PDF)})
    assert response.status_code in (200, 400)
    assert STORE_REFUSED in response.content.decode().replace("&#x27;", "'")
    assert not EvidenceItem.objects.exists()
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.EVIDENCE).exists()


def test_a_csv_import_the_bucket_refuses_gives_a_message_and_keeps_nothing(client, s3, portal_admin):
    from accounts.models import AccountImport
    from portal.files import STORE_REFUSED

    s3.delete_bucket(Bucket=BUCKET)
    client.force_login(portal_admin)
    url = reverse("accounts:import")
    assert 'enctype="multipart/form-data"' in client.get(url).content.decode()  # the form posts here
    example = client.get(reverse("accounts:import_example")).content
    csv = SimpleUploadedFile("accounts.csv", example, "text/csv")
    response = client.post(url, {"file": csv})
    assert response.status_code == 400
    assert STORE_REFUSED in response.content.decode().replace("&#x27;", "'")
    assert not AccountImport.objects.exists()
