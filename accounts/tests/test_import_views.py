"""The import pages: who may use them, what a person sees, and never a 500."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.importing.parsing import COLUMNS
from accounts.importing.results import CHECKING
from accounts.models import Account, AccountImport
from accounts.services import importing
from accounts.tests.test_importing import csv_bytes, row
from portal.roles import Role

pytestmark = pytest.mark.django_db

REFRESH = '<meta http-equiv="refresh" content="3">'


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post_file(client, raw: bytes, *, name: str = "book.csv", valid_only: bool = False, follow: bool = False):
    data = {"file": SimpleUploadedFile(name, raw, content_type="text/csv")}
    if valid_only:
        data["valid_only"] = "on"
    return client.post(reverse("accounts:import"), data, follow=follow)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def finished_import(specialist):
    return importing.account_import_start(
        by=specialist,
        uploaded_file=SimpleUploadedFile("book.csv", csv_bytes([row(1)])),
        valid_only=False,
    )


def import_urls(account_import) -> list[str]:
    return [
        reverse("accounts:import"),
        reverse("accounts:import_example"),
        reverse("accounts:import_detail", args=[account_import.pk]),
    ]


@pytest.mark.parametrize("role", [Role.LEADERSHIP, Role.PRODUCT])
def test_leadership_and_product_are_refused(client, people, finished_import, role):
    client.force_login(people[role])

    for url in import_urls(finished_import):
        assert client.get(url).status_code == 403, url
    response = post_file(client, csv_bytes([row(2)]))

    assert response.status_code == 403
    assert not Account.objects.filter(external_id="ext-2").exists()


def test_anonymous_is_sent_to_login(client, finished_import):
    for url in import_urls(finished_import):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.SPECIALIST, Role.ADMIN])
def test_specialist_and_admin_see_the_pages(client, people, finished_import, role):
    client.force_login(people[role])

    for url in import_urls(finished_import):
        assert client.get(url).status_code == 200, url


def test_form_documents_the_format(client, specialist):
    client.force_login(specialist)

    text = page_text(client.get(reverse("accounts:import")))

    for column in COLUMNS:
        assert f"<code>{column}</code>" in text
    assert reverse("accounts:import_example") in text
    assert "Import only the valid rows" in text
    assert 'enctype="multipart/form-data"' in text


def test_upload_imports_and_shows_the_outcome(client, specialist):
    client.force_login(specialist)

    response = post_file(client, csv_bytes([row(1), row(2)]), follow=True)

    account_import = AccountImport.objects.get()
    assert response.redirect_chain == [(reverse("accounts:import_detail", args=[account_import.pk]), 302)]
    text = page_text(response)
    assert "book.csv is imported." in text
    assert "Imported: 2 created, 0 updated, 0 unchanged." in text
    assert '<progress id="import-progress" max="100" value="100">' in text
    assert REFRESH not in text
    assert Account.objects.count() == 2


def test_upload_with_invalid_rows_says_nothing_was_imported(client, specialist):
    client.force_login(specialist)
    raw = csv_bytes([row(1), row(2, cadence_override_days="0"), row(3, owner="ghost"), row(4, tier="x")])

    response = post_file(client, raw, follow=True)

    assert response.status_code == 200
    text = page_text(response)
    assert "book.csv was not imported." in text
    assert (
        "Nothing was imported: 3 rows have errors. Fix them and upload again, "
        "or tick 'Import only the valid rows'."
    ) in text
    assert "<td>3</td><td><code>cadence_override_days</code></td>" in text
    assert "<td>4</td><td><code>owner</code></td>" in text
    assert Account.objects.count() == 0


def test_valid_only_upload_imports_the_good_rows(client, specialist):
    client.force_login(specialist)

    response = post_file(client, csv_bytes([row(1), row(2, wallets="0xnope")]), valid_only=True, follow=True)

    text = page_text(response)
    assert "1 created, 0 updated, 0 unchanged, 1 skipped (rows with errors)" in text
    assert "<td>3</td><td><code>wallets</code></td>" in text
    assert list(Account.objects.values_list("external_id", flat=True)) == ["ext-1"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"display_name,e_mail,external_id,tier,owner\n", "unknown columns “e_mail”"),
        ("display_name\nZo\xeb\n".encode("cp1252"), "CSV UTF-8"),
        # Within the request limit (larger bodies get 413 unread: portal/tests/test_security_limits.py).
        (b"x" * (6 * 1024 * 1024), "The file is 6.0 MB; the limit is 5 MB — split it into smaller files."),
        (",".join(COLUMNS).encode() + b"\n", "no accounts below it"),
        (b"", "The submitted file is empty."),
    ],
)
def test_unusable_file_is_refused_on_the_form(client, specialist, raw, message):
    client.force_login(specialist)

    response = post_file(client, raw)

    assert response.status_code == 400
    assert message in page_text(response)
    assert AccountImport.objects.count() == 0


def test_post_without_a_file_is_refused_on_the_form(client, specialist):
    client.force_login(specialist)

    response = client.post(reverse("accounts:import"), {})

    assert response.status_code == 400
    assert "This field is required." in page_text(response)


def test_example_csv_downloads_and_imports_cleanly(client, specialist):
    client.force_login(specialist)

    response = client.get(reverse("accounts:import_example"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="accounts-example.csv"'
    upload = post_file(client, response.content, name="accounts-example.csv", follow=True)
    assert "Imported: 3 created, 0 updated, 0 unchanged." in page_text(upload)
    assert Account.objects.filter(owner=specialist).count() == 3


def test_large_file_is_imported_in_the_background_with_progress_on_the_page(
    client, specialist, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importing, "BACKGROUND_THRESHOLD_ROWS", 2)
    client.force_login(specialist)
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_file(client, csv_bytes([row(1), row(2), row(3)]), follow=True)
    detail_url = response.redirect_chain[-1][0]
    waiting = page_text(response)
    assert "book.csv has 3 rows, so it is being imported in the background." in waiting
    assert "Waiting to start" in waiting
    assert REFRESH in waiting
    seen_while_running = []
    report = importing._ImportProgress.__call__

    def report_and_look(self, phase, done, total):
        report(self, phase, done, total)
        if (phase, done) == (CHECKING, 2):
            seen_while_running.append(page_text(client.get(detail_url)))

    monkeypatch.setattr(importing._ImportProgress, "__call__", report_and_look)

    for callback in callbacks:
        callback()  # the task, run inline: django-q2 is in sync mode in the tests

    running = seen_while_running[0]
    assert REFRESH in running
    assert "Importing" in running
    assert "Checking 3 rows…" in running
    assert '<progress id="import-progress" max="100" value="67">67%</progress>' in running
    assert "2 of 3 rows (67%)" in running
    done = page_text(client.get(detail_url))
    assert REFRESH not in done
    assert "Imported: 3 created" in done
    assert Account.objects.count() == 3


def test_detail_lists_the_first_500_errors_and_counts_the_rest(client, specialist):
    errors = [
        {"line": n, "column": "email", "message": "Enter a valid email address."} for n in range(2, 702)
    ]
    account_import = AccountImport.objects.create(
        created_by=specialist,
        original_name="big.csv",
        file="imports/big.csv",
        status=AccountImport.Status.FAILED,
        total_rows=700,
        processed_rows=700,
        errors=errors,
        message="Nothing was imported: 700 rows have errors.",
    )
    client.force_login(specialist)

    text = page_text(client.get(reverse("accounts:import_detail", args=[account_import.pk])))

    assert text.count("Enter a valid email address.") == 500
    assert "<td>501</td>" in text
    assert "<td>502</td>" not in text
    assert "…and 200 more errors not shown." in text


def test_unknown_import_is_404(client, specialist):
    client.force_login(specialist)

    assert client.get(reverse("accounts:import_detail", args=[999999])).status_code == 404
