"""Evidence on a case: identifiers, links and files (type and size limits, served only to
people who may see the case), and finding a case by a transaction hash."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import make_account
from disputes.models import CaseEvent, EvidenceItem, WalletActivityRow, WalletActivitySnapshot
from disputes.services.cases import dispute_file
from disputes.services.evidence import evidence_add

pytestmark = pytest.mark.django_db
TX = "0x" + "ab" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"x" * 100


@pytest.fixture
def case(specialist):
    return dispute_file(
        by=specialist, account=make_account(owner=specialist), category="order_execution", claim="Bad fill."
    )


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("transaction", TX.upper().replace("0X", "0x"), TX),
        ("order", "  0x" + "0c" * 32 + " ", "0x" + "0c" * 32),
        ("trade", "28C4D2EB-BBEA-40E7-A9F0-B2FDB56B2C2E", "28c4d2eb-bbea-40e7-a9f0-b2fdb56b2c2e"),
        (
            "wallet",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ),
        ("link", "https://polymarket.com/event/x", "https://polymarket.com/event/x"),
    ],
)
def test_identifiers_are_stored_normalised_with_an_event(case, specialist, kind, raw, stored):
    item = evidence_add(case=case, by=specialist, kind=kind, value=raw, description="From the user")
    assert item.value == stored
    event = case.events.get(kind=CaseEvent.Kind.EVIDENCE)
    assert event.after["value"] == stored and event.actor == specialist and event.note == "From the user"


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("transaction", "0x1234", "0x followed by 64 hexadecimal"),
        ("transaction", "0x" + "g" * 64, "0x followed by 64 hexadecimal"),
        ("order", "12345", "An order id"),
        ("trade", "not-a-uuid", "UUID"),
        ("wallet", "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "checksum"),
        ("wallet", "0x123", "not a wallet address"),
        ("link", "javascript:alert(1)", "http(s) link"),
        ("link", "ftp://x.org/file", "http(s) link"),
        ("nonsense", "x", "Choose what kind"),
    ],
)
def test_malformed_identifiers_are_refused_and_nothing_is_kept(case, specialist, kind, raw, message):
    with pytest.raises(ValidationError) as error:
        evidence_add(case=case, by=specialist, kind=kind, value=raw)
    assert message in " ".join(error.value.messages)
    assert not EvidenceItem.objects.exists()
    assert not case.events.filter(kind=CaseEvent.Kind.EVIDENCE).exists()


def test_a_file_is_stored_outside_the_web_root_under_a_fresh_name(case, specialist, settings):
    item = evidence_add(
        case=case, by=specialist, kind="file", upload=SimpleUploadedFile("../../etc/receipt.PNG", PNG)
    )
    assert (
        item.file_name == "receipt.PNG" and item.content_type == "image/png" and item.size_bytes == len(PNG)
    )
    assert item.file.name.startswith(f"evidence/{case.reference}/") and "receipt" not in item.file.name
    assert default_storage.path(item.file.name).startswith(str(settings.MEDIA_ROOT))
    assert default_storage.open(item.file.name).read() == PNG


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ" + b"\x00" * 50, "can’t be attached"),
        ("page.html", b"<script>alert(1)</script>", "can’t be attached"),
        ("image.svg", b"<svg onload=alert(1)>", "can’t be attached"),
        ("noextension", b"hello", "can’t be attached"),
        ("fake.png", b"MZ" + b"\x00" * 50, "not a PNG file"),
        ("fake.pdf", b"<html>", "not a PDF file"),
        ("binary.txt", b"abc\x00def", "not TXT text"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_wrong_type_or_empty_files_are_refused_and_nothing_is_stored(
    case, specialist, name, content, message
):
    with pytest.raises(ValidationError) as error:
        evidence_add(case=case, by=specialist, kind="file", upload=SimpleUploadedFile(name, content))
    assert message in " ".join(error.value.messages)
    assert not EvidenceItem.objects.exists()
    assert not default_storage.exists("evidence")


def test_an_oversized_file_is_refused(case, specialist, settings):
    settings.DISPUTE_EVIDENCE_MAX_MB = 1
    big = SimpleUploadedFile("statement.pdf", PDF + b"x" * (1024 * 1024))
    with pytest.raises(ValidationError) as error:
        evidence_add(case=case, by=specialist, kind="file", upload=big)
    assert "the limit is 1 MB" in " ".join(error.value.messages)
    assert not EvidenceItem.objects.exists()


def test_the_file_is_removed_when_the_row_cannot_be_saved(case, specialist, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(CaseEvent.objects, "create", fail)
    with pytest.raises(RuntimeError):
        evidence_add(case=case, by=specialist, kind="file", upload=SimpleUploadedFile("a.pdf", PDF))
    assert not EvidenceItem.objects.exists()
    folder = f"evidence/{case.reference}"
    assert not default_storage.exists(folder) or default_storage.listdir(folder) == ([], [])


def test_upload_from_the_page_then_download_by_role(client, case, specialist, leader, product_person):
    client.force_login(specialist)
    response = client.post(
        reverse("disputes:case_evidence", args=[case.reference]),
        {"kind": "file", "upload": SimpleUploadedFile("fill.pdf", PDF), "description": "Fill receipt"},
    )
    assert response.status_code == 302
    item = EvidenceItem.objects.get()
    url = reverse("disputes:evidence_file", args=[case.reference, item.pk])
    page = client.get(reverse("disputes:case_detail", args=[case.reference])).content.decode()
    assert url in page and "Fill receipt" in page

    client.force_login(leader)
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("inline")
    assert "sandbox" in download["Content-Security-Policy"]
    assert download["X-Content-Type-Options"] == "nosniff"

    client.force_login(product_person)
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_text_files_download_rather_than_open(client, case, specialist):
    item = evidence_add(
        case=case, by=specialist, kind="file", upload=SimpleUploadedFile("log.csv", b"a,b\n1,2\n")
    )
    client.force_login(specialist)
    response = client.get(reverse("disputes:evidence_file", args=[case.reference, item.pk]))
    assert (
        response["Content-Disposition"].startswith("attachment")
        and "log.csv" in response["Content-Disposition"]
    )


def test_a_file_of_another_case_or_a_non_file_item_is_404(client, case, specialist):
    other = dispute_file(by=specialist, account=case.account, category="platform_mechanics", claim="y")
    item = evidence_add(case=other, by=specialist, kind="file", upload=SimpleUploadedFile("a.pdf", PDF))
    link = evidence_add(case=case, by=specialist, kind="link", value="https://example.org/")
    client.force_login(specialist)
    assert client.get(reverse("disputes:evidence_file", args=[case.reference, item.pk])).status_code == 404
    assert client.get(reverse("disputes:evidence_file", args=[case.reference, link.pk])).status_code == 404


def test_bad_evidence_from_the_page_is_400_with_the_message(client, case, specialist):
    client.force_login(specialist)
    url = reverse("disputes:case_evidence", args=[case.reference])
    bad_hash = client.post(url, {"kind": "transaction", "value": "0xnothex"})
    assert bad_hash.status_code == 400 and "64 hexadecimal" in bad_hash.content.decode()
    no_file = client.post(url, {"kind": "file"})
    assert no_file.status_code == 400 and "Choose the file" in no_file.content.decode()
    wrong = client.post(url, {"kind": "file", "upload": SimpleUploadedFile("x.exe", b"MZ")})
    assert wrong.status_code == 400 and "can’t be attached" in wrong.content.decode()
    assert client.post(url, {"kind": "bogus", "value": "x"}).status_code == 400
    assert not EvidenceItem.objects.exists()


def _snapshot_row(case, specialist, tx_hash):
    now = timezone.now()
    snapshot = WalletActivitySnapshot.objects.create(
        case=case,
        wallet_address="0x" + "1" * 40,
        window_start=now - dt.timedelta(days=1),
        window_end=now,
        source="test",
        row_count=1,
        fetched_by=specialist,
        fetched_at=now,
    )
    WalletActivityRow.objects.create(
        snapshot=snapshot,
        case=case,
        at=now,
        kind="DEPOSIT",
        usdc_size=Decimal("10"),
        transaction_hash=tx_hash,
        collateral="pUSD",
    )


def test_case_list_and_header_search_find_a_case_by_transaction_hash(client, case, specialist):
    other = dispute_file(by=specialist, account=case.account, category="platform_mechanics", claim="Deposit")
    evidence_add(case=case, by=specialist, kind="transaction", value=TX)
    deposit_tx = "0x" + "cd" * 32
    _snapshot_row(other, specialist, deposit_tx)
    client.force_login(specialist)

    listed = client.get(reverse("disputes:case_list"), {"q": TX.upper().replace("0X", "0x")}).content.decode()
    assert case.reference in listed and other.reference not in listed
    listed = client.get(reverse("disputes:case_list"), {"q": deposit_tx}).content.decode()
    assert other.reference in listed and case.reference not in listed

    found = client.get(reverse("search"), {"q": deposit_tx})
    assert found.status_code == 302 and found["Location"].endswith(f"/disputes/{other.reference}/")
