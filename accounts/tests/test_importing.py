"""The CSV import service: what it writes, what it refuses, and that refusing writes nothing."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.importing import parsing
from accounts.importing.help import example_csv, example_owner
from accounts.importing.parsing import COLUMNS
from accounts.importing.results import CHECKING, WRITING, RowError
from accounts.models import Account, AccountEvent, AccountImport, Wallet
from accounts.services import account_create as real_account_create
from accounts.services import importing
from accounts.services.importing import accounts_import
from accounts.tests.factories import make_account
from accounts.wallets import to_checksum_address
from integrations.models import SyncJob

pytestmark = pytest.mark.django_db

WALLET_A = to_checksum_address("0x" + "a1" * 20)
WALLET_B = to_checksum_address("0x" + "b2" * 20)
WALLET_C = "0x" + "c3" * 20


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def row(n: int = 1, **cells) -> dict:
    return {
        "display_name": f"Trader {n}",
        "email": f"trader{n}@example.com",
        "external_id": f"ext-{n}",
        "tier": "Tier 1",
        "owner": "spec",
        **cells,
    }


def csv_bytes(rows: list[dict], columns=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def snapshot() -> tuple[int, int, int, int]:
    return (
        Account.objects.count(),
        Wallet.objects.count(),
        AccountEvent.objects.count(),
        SyncJob.objects.count(),
    )


def test_valid_file_creates_accounts_with_wallets(specialist):
    raw = csv_bytes(
        [
            row(1, wallets=f"{WALLET_A}; {WALLET_B}", cadence_override_days="10", volume_30d_usd="$1,250.50"),
            row(
                2, tier="tier 2", venue="US", status="Paused", preferred_channel="telegram", wallets=WALLET_C
            ),
        ]
    )

    result = accounts_import(by=specialist, raw=raw)

    assert (result.created, result.updated, result.unchanged, result.errors) == (2, 0, 0, [])
    first = Account.objects.get(external_id="ext-1")
    assert first.owner == specialist
    assert first.cadence_override_days == 10
    assert first.volume_30d_usd == Decimal("1250.50")
    assert sorted(first.wallets.values_list("address", flat=True)) == sorted(
        [WALLET_A.lower(), WALLET_B.lower()]
    )
    second = Account.objects.get(external_id="ext-2")
    assert (second.tier.name, second.venue, second.status) == ("Tier 2", "us", "paused")
    assert second.next_check_in_due is None  # paused accounts have no check-in due
    assert SyncJob.objects.filter(key=f"account:{first.pk}").exists()


def test_reimporting_the_same_file_changes_nothing(specialist):
    raw = csv_bytes([row(1, wallets=WALLET_A, notes="Likes calls"), row(2, cadence_override_days="30")])
    accounts_import(by=specialist, raw=raw)
    before = snapshot()
    updated_at = dict(Account.objects.values_list("external_id", "updated_at"))

    result = accounts_import(by=specialist, raw=raw)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert snapshot() == before
    assert dict(Account.objects.values_list("external_id", "updated_at")) == updated_at


def test_update_changes_only_what_differs(specialist):
    account = make_account(
        owner=specialist, external_id="ext-1", email="trader1@example.com", wallets=[WALLET_A]
    )
    events_before = AccountEvent.objects.count()
    raw = csv_bytes([row(1, display_name=account.display_name, tier="Tier 3", notes="VIP", wallets=WALLET_B)])

    result = accounts_import(by=specialist, raw=raw)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    account.refresh_from_db()
    assert (account.tier.name, account.notes, account.email) == ("Tier 3", "VIP", "trader1@example.com")
    assert set(account.wallets.values_list("address", flat=True)) == {WALLET_A.lower(), WALLET_B.lower()}
    new_events = AccountEvent.objects.filter(account=account).order_by("pk")[events_before:]
    assert sorted(e.kind for e in new_events) == [AccountEvent.Kind.UPDATED, AccountEvent.Kind.WALLET_ADDED]
    edit = AccountEvent.objects.get(account=account, kind=AccountEvent.Kind.UPDATED)
    assert set(edit.details["changes"]) == {"tier", "notes"}


def test_empty_optional_cells_keep_current_values(specialist):
    make_account(
        owner=specialist,
        external_id="ext-1",
        email="trader1@example.com",
        notes="Keep me",
        cadence_override_days=5,
    )
    account = Account.objects.get(external_id="ext-1")
    raw = csv_bytes([row(1, display_name=account.display_name)])

    result = accounts_import(by=specialist, raw=raw)

    assert result.unchanged == 1
    account.refresh_from_db()
    assert (account.notes, account.cadence_override_days) == ("Keep me", 5)


BAD_CELLS = [
    ({"wallets": "0x1234"}, "wallets", "is not a wallet address"),
    ({"wallets": WALLET_A[:-1] + ("a" if WALLET_A[-1] == "A" else "A")}, "wallets", "checksum"),
    ({"cadence_override_days": "0"}, "cadence_override_days", "1 to 365"),
    ({"cadence_override_days": "366"}, "cadence_override_days", "1 to 365"),
    ({"cadence_override_days": "weekly"}, "cadence_override_days", "whole number"),
    ({"owner": "nobody"}, "owner", "No user has the username “nobody”"),
    ({"owner": "lead"}, "owner", "not an active Specialist"),
    ({"tier": "Tier 9"}, "tier", "There is no tier “Tier 9”"),
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"display_name": ""}, "display_name", "required"),
    ({"status": "sleeping"}, "status", "is not one of: active, paused, offboarded"),
    ({"venue": "moon"}, "venue", "is not one of"),
    ({"time_zone": "Mars/Olympus"}, "time_zone", ""),
    ({"volume_30d_usd": "-5"}, "volume_30d_usd", "negative"),
    ({"volume_30d_usd": "lots"}, "volume_30d_usd", "not an amount"),
    ({"display_name": "x" * 121}, "display_name", "at most 120 characters"),
]


@pytest.mark.parametrize(("cells", "column", "message"), BAD_CELLS)
def test_bad_cell_is_reported_by_line_and_column_and_nothing_is_written(
    specialist, leader, cells, column, message
):
    raw = csv_bytes([row(1), row(2), row(3, **cells)])
    before = snapshot()

    result = accounts_import(by=specialist, raw=raw)

    assert result.rejected
    assert [(e.line, e.column) for e in result.errors] == [(4, column)]
    assert message in result.errors[0].message
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert snapshot() == before


def test_every_error_of_every_row_is_collected(specialist):
    raw = csv_bytes([row(1, tier="nope", cadence_override_days="0"), row(2), row(3, owner="ghost")])

    result = accounts_import(by=specialist, raw=raw)

    assert [(e.line, e.column) for e in result.errors] == [
        (2, "tier"),
        (2, "cadence_override_days"),
        (4, "owner"),
    ]
    assert result.rejection(what_next="Fix them.") == "Nothing was imported: 2 rows have errors. Fix them."


@pytest.mark.parametrize(
    ("second", "column"),
    [
        ({"email": "TRADER1@example.com"}, "email"),
        ({"external_id": "ext-1"}, "external_id"),
        ({"wallets": WALLET_A.lower()}, "wallets"),
        ({"intercom_contact_id": "ic-1"}, "intercom_contact_id"),
    ],
)
def test_duplicates_within_the_file_are_reported_on_both_lines(specialist, second, column):
    raw = csv_bytes([row(1, wallets=WALLET_A, intercom_contact_id="ic-1"), row(2, **second)])

    result = accounts_import(by=specialist, raw=raw)

    assert [(e.line, e.column) for e in result.errors] == [(2, column), (3, column)]
    assert "is also on line 3" in result.errors[0].message
    assert "is also on line 2" in result.errors[1].message
    assert Account.objects.count() == 0


def test_wallet_belonging_to_another_account_is_refused(specialist):
    make_account(owner=specialist, display_name="Holder", external_id="other", wallets=[WALLET_A])
    before = snapshot()

    result = accounts_import(by=specialist, raw=csv_bytes([row(1, wallets=WALLET_A.lower())]))

    assert result.errors == [
        RowError(2, "wallets", f"{WALLET_A} already belongs to account “Holder” (external id other).")
    ]
    assert snapshot() == before


def test_email_belonging_to_another_account_is_refused(specialist):
    make_account(owner=specialist, display_name="Holder", external_id="other", email="taken@example.com")

    result = accounts_import(by=specialist, raw=csv_bytes([row(1, email="Taken@Example.com")]))

    assert [(e.line, e.column) for e in result.errors] == [(2, "email")]
    assert "belongs to account “Holder”" in result.errors[0].message


def test_valid_only_imports_the_good_rows_and_reports_the_bad(specialist):
    raw = csv_bytes([row(1), row(2, cadence_override_days="366"), row(3), row(4, owner="ghost")])

    result = accounts_import(by=specialist, raw=raw, valid_only=True)

    assert not result.rejected
    assert (result.created, result.skipped) == (2, 2)
    assert [(e.line, e.column) for e in result.errors] == [(3, "cadence_override_days"), (5, "owner")]
    assert set(Account.objects.values_list("external_id", flat=True)) == {"ext-1", "ext-3"}
    assert result.summary() == "2 created, 0 updated, 0 unchanged, 2 skipped (rows with errors)"


def test_line_numbers_follow_the_spreadsheet_rows(specialist):
    header = ",".join(COLUMNS)
    text = (
        f"{header}\n"
        'Trader 1,t1@example.com,ext-1,Tier 1,spec,,,,,,,"two\nlines",,\n'
        "\n"
        "Trader 3,t3@example.com,ext-3,Tier 1,spec,,,0,,,,,,\n"
    )

    result = accounts_import(by=specialist, raw=text.encode())

    assert [(e.line, e.column) for e in result.errors] == [(4, "cadence_override_days")]


def test_row_with_more_cells_than_columns_is_an_error(specialist):
    text = "display_name,email,external_id,tier,owner\nA,a@example.com,a,Tier 1,spec,surplus\n"

    result = accounts_import(by=specialist, raw=text.encode())

    assert [(e.line, e.column) for e in result.errors] == [(2, "")]


def test_utf8_with_byte_order_mark_and_missing_optional_columns_is_fine(specialist):
    text = "\ufeffDisplay_Name,email,external_id,tier,owner\nZoë,zoe@example.com,z,TIER 1,spec\n"

    result = accounts_import(by=specialist, raw=text.encode())

    assert result.created == 1
    assert Account.objects.get(external_id="z").display_name == "Zoë"


FILE_ERRORS = [
    (
        b"display_name,e_mail,external_id,tier,owner,colour\n",
        "unknown columns “e_mail”, “colour”; required columns missing: “email”",
    ),
    ("display_name,email\nZo\xeb,z\n".encode("latin-1"), "not UTF-8"),
    ("display_name,email\n".encode("utf-16"), "not UTF-8"),
    ("display_name,email\n".encode("utf-16-le"), "not UTF-8"),
    (b"", "The file is empty"),
    (",".join(COLUMNS).encode() + b"\n\n", "no accounts below it"),
    (b"display_name;email;external_id;tier;owner\n", "semicolons"),
    (",".join(COLUMNS).encode() + b'\n"unclosed,a@example.com\n', "Line 2 is not valid CSV"),
    (b"display_name,email,email,external_id,tier,owner\n", "columns given twice: “email”"),
]


@pytest.mark.parametrize(("raw", "message"), FILE_ERRORS)
def test_unusable_file_gives_one_clear_message_and_writes_nothing(specialist, raw, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        accounts_import(by=specialist, raw=raw)

    assert len(caught.value.messages) == 1
    assert message in caught.value.messages[0]
    assert snapshot() == (0, 0, 0, 0)


def test_non_utf8_message_says_to_save_as_csv_utf8(specialist):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="CSV UTF-8"):
        accounts_import(by=specialist, raw="name\nZo\xeb\n".encode("cp1252"))


def test_file_over_5_mb_is_refused_before_it_is_kept(specialist):
    from django.core.exceptions import ValidationError

    upload = SimpleUploadedFile("big.csv", b"x" * (50 * 1024 * 1024), content_type="text/csv")

    with pytest.raises(ValidationError) as caught:
        importing.account_import_start(by=specialist, uploaded_file=upload, valid_only=False)

    assert caught.value.message_dict == {
        "file": ["The file is 50.0 MB; the limit is 5 MB — split it into smaller files."]
    }
    assert AccountImport.objects.count() == 0


def test_too_many_rows_are_refused(specialist, monkeypatch):
    from django.core.exceptions import ValidationError

    monkeypatch.setattr(parsing, "MAX_ROWS", 2)

    with pytest.raises(ValidationError, match="The file has 3 rows; the limit is 2"):
        accounts_import(by=specialist, raw=csv_bytes([row(1), row(2), row(3)]))


def test_crash_while_writing_leaves_nothing_written(specialist, monkeypatch):
    calls = []

    def crash_on_third(**kwargs):
        calls.append(kwargs)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real_account_create(**kwargs)

    monkeypatch.setattr(importing, "account_create", crash_on_third)

    with pytest.raises(RuntimeError):
        accounts_import(
            by=specialist,
            raw=csv_bytes([row(n, wallets=w) for n, w in enumerate([WALLET_A, WALLET_B, WALLET_C, ""], 1)]),
        )

    assert len(calls) == 3
    assert snapshot() == (0, 0, 0, 0)


def test_progress_is_reported_while_checking_and_writing(specialist):
    calls = []

    accounts_import(by=specialist, raw=csv_bytes([row(1), row(2)]), progress=lambda *args: calls.append(args))

    assert calls == [(CHECKING, 1, 2), (CHECKING, 2, 2), (WRITING, 0, 2), (WRITING, 1, 2), (WRITING, 2, 2)]


# --- uploaded imports ------------------------------------------------------------------------


def upload(raw: bytes, name: str = "book.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, raw, content_type="text/csv")


def test_small_upload_is_imported_at_once_and_recorded(specialist):
    account_import = importing.account_import_start(
        by=specialist, uploaded_file=upload(csv_bytes([row(1), row(2)])), valid_only=False
    )

    assert account_import.status == AccountImport.Status.DONE
    assert (account_import.total_rows, account_import.processed_rows, account_import.percent_done) == (
        2,
        2,
        100,
    )
    assert (account_import.created_count, account_import.unchanged_count) == (2, 0)
    assert account_import.message == "Imported: 2 created, 0 updated, 0 unchanged."
    assert account_import.finished_at is not None
    assert account_import.original_name == "book.csv"
    assert account_import.file.read().startswith(b"display_name,")


def test_invalid_upload_fails_with_errors_and_nothing_written(specialist):
    raw = csv_bytes([row(1), row(2, cadence_override_days="0"), row(3, owner="x"), row(4, tier="?")])

    account_import = importing.account_import_start(
        by=specialist, uploaded_file=upload(raw), valid_only=False
    )

    assert account_import.status == AccountImport.Status.FAILED
    assert account_import.message == (
        "Nothing was imported: 3 rows have errors. Fix them and upload again, "
        "or tick 'Import only the valid rows'."
    )
    assert [(e["line"], e["column"]) for e in account_import.errors] == [
        (3, "cadence_override_days"),
        (4, "owner"),
        (5, "tier"),
    ]
    assert account_import.created_count == 0
    assert Account.objects.count() == 0


def test_valid_only_upload_records_skipped_rows(specialist):
    raw = csv_bytes([row(1), row(2, cadence_override_days="0")])

    account_import = importing.account_import_start(by=specialist, uploaded_file=upload(raw), valid_only=True)

    assert account_import.status == AccountImport.Status.DONE
    assert (account_import.created_count, account_import.skipped_count) == (1, 1)
    assert account_import.errors[0]["line"] == 3


def test_unusable_upload_keeps_nothing(specialist):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        importing.account_import_start(by=specialist, uploaded_file=upload(b"\xff\xfe\x00"), valid_only=False)

    assert "not UTF-8" in caught.value.message_dict["file"][0]
    assert AccountImport.objects.count() == 0


def test_large_upload_runs_in_the_background_after_commit(
    specialist, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importing, "BACKGROUND_THRESHOLD_ROWS", 2)
    raw = csv_bytes([row(1), row(2), row(3)])

    with django_capture_on_commit_callbacks() as callbacks:
        account_import = importing.account_import_start(
            by=specialist, uploaded_file=upload(raw), valid_only=False
        )

    assert account_import.status == AccountImport.Status.PENDING
    assert Account.objects.count() == 0
    assert len(callbacks) == 1
    callbacks[0]()  # django-q2 runs tasks inline in the tests
    account_import.refresh_from_db()
    assert account_import.status == AccountImport.Status.DONE
    assert account_import.created_count == 3


def test_crash_marks_the_import_failed_with_the_reason(specialist, monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(importing, "account_create", crash)

    account_import = importing.account_import_start(
        by=specialist, uploaded_file=upload(csv_bytes([row(1)])), valid_only=False
    )

    assert account_import.status == AccountImport.Status.FAILED
    assert "unexpected error" in account_import.message
    assert "disk on fire" in account_import.message
    assert Account.objects.count() == 0


def test_running_a_finished_import_again_does_nothing(specialist):
    account_import = importing.account_import_start(
        by=specialist, uploaded_file=upload(csv_bytes([row(1)])), valid_only=False
    )
    Account.objects.all().delete()

    importing.account_import_run(import_id=account_import.pk)

    assert Account.objects.count() == 0
    account_import.refresh_from_db()
    assert account_import.created_count == 1


def test_example_file_imports_cleanly(specialist, portal_admin):
    raw = example_csv(owner=example_owner(portal_admin)).encode()

    result = accounts_import(by=portal_admin, raw=raw)

    assert result.errors == []
    assert result.created == 3
    assert accounts_import(by=portal_admin, raw=raw).unchanged == 3


def test_worker_time_limit_marks_the_import_failed_with_nothing_written(specialist, monkeypatch):
    from django_q.exceptions import TimeoutException

    def slow(**kwargs):
        if Account.objects.exists():
            raise TimeoutException("Task exceeded maximum timeout value (120 seconds)")
        return real_account_create(**kwargs)

    monkeypatch.setattr(importing, "account_create", slow)

    account_import = importing.account_import_start(
        by=specialist, uploaded_file=upload(csv_bytes([row(1), row(2), row(3)])), valid_only=False
    )

    assert account_import.status == AccountImport.Status.FAILED
    assert account_import.message.startswith("The import reached the background worker’s time limit")
    assert "writing row 1 of 3, so nothing was imported" in account_import.message
    assert Account.objects.count() == 0


def test_account_may_keep_an_owner_who_is_no_longer_a_specialist(specialist):
    account = make_account(owner=specialist, external_id="ext-1", email="trader1@example.com")
    raw = csv_bytes([row(1, display_name=account.display_name, notes="Still here")])
    specialist.groups.clear()

    result = accounts_import(by=specialist, raw=raw)

    assert (result.errors, result.updated) == ([], 1)
    account.refresh_from_db()
    assert (account.owner, account.notes) == (specialist, "Still here")


@pytest.mark.parametrize("valid_only", [False, True])
def test_a_row_a_service_refuses_while_writing_is_reported(specialist, monkeypatch, valid_only):
    from django.core.exceptions import ValidationError

    def refuse_second(*, by, data):
        if data.external_id == "ext-2":
            raise ValidationError({"address": "This wallet address already belongs to an account."})
        return real_account_create(by=by, data=data)

    monkeypatch.setattr(importing, "account_create", refuse_second)

    result = accounts_import(by=specialist, raw=csv_bytes([row(1), row(2), row(3)]), valid_only=valid_only)

    assert result.errors == [RowError(3, "wallets", "This wallet address already belongs to an account.")]
    written = set(Account.objects.values_list("external_id", flat=True))
    assert written == ({"ext-1", "ext-3"} if valid_only else set())
    assert (result.created, result.skipped) == ((2, 1) if valid_only else (0, 0))
