"""`manage.py import_accounts FILE`: progress, summary, and a non-zero exit with the reason."""

import io

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from accounts.importing.parsing import COLUMNS
from accounts.models import Account, AccountEvent
from accounts.tests.test_importing import csv_bytes, row
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def write_csv(tmp_path):
    def write(raw: bytes, name: str = "book.csv") -> str:
        path = tmp_path / name
        path.write_bytes(raw)
        return str(path)

    return write


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_accounts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_with_a_progress_bar_and_a_summary(specialist, write_csv):
    path = write_csv(csv_bytes([row(1), row(2)]))

    out, err = run(path, "--as", "spec")

    assert "Checking [##########..........] 1/2 rows" in out
    assert "Checking [####################] 2/2 rows\n" in out
    assert "Writing  [####################] 2/2 rows\n" in out
    assert out.endswith(f"Imported {path}: 2 created, 0 updated, 0 unchanged.\n")
    assert err == ""
    assert set(AccountEvent.objects.values_list("actor__username", flat=True)) == {"spec"}


def test_running_it_again_changes_nothing(specialist, write_csv):
    path = write_csv(csv_bytes([row(1), row(2)]))
    run(path, "--as", "spec")
    events = AccountEvent.objects.count()

    out, _err = run(path, "--as", "spec")

    assert "0 created, 0 updated, 2 unchanged." in out
    assert AccountEvent.objects.count() == events


def test_acts_as_the_first_superuser_or_admin_by_default(specialist, portal_admin, write_csv):
    run(write_csv(csv_bytes([row(1)])))

    assert AccountEvent.objects.get().actor == portal_admin


def test_refuses_without_anyone_to_act_as(specialist, write_csv):
    with pytest.raises(CommandError, match="no superuser or Admin to record as the importer"):
        run(write_csv(csv_bytes([row(1)])))


@pytest.mark.parametrize(
    ("username", "message"),
    [("ghost", "No user has the username “ghost”"), ("lead", "not an active Specialist or Admin")],
)
def test_refuses_an_acting_user_who_may_not_import(people, write_csv, username, message):
    with pytest.raises(CommandError, match=message):
        run(write_csv(csv_bytes([row(1)])), "--as", username)


def test_invalid_rows_are_listed_and_nothing_is_written(specialist, write_csv):
    path = write_csv(csv_bytes([row(1), row(2, cadence_override_days="366"), row(3, owner="ghost")]))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("import_accounts", path, "--as", "spec", stdout=out, stderr=err)

    assert str(caught.value) == (
        "Nothing was imported: 2 rows have errors. Fix them and run again, "
        "or add --valid-only to import the valid rows."
    )
    assert err.getvalue().splitlines() == [
        "line 3, column cadence_override_days: The cadence must be 1 to 365 days, not 366.",
        "line 4, column owner: No user has the username “ghost”.",
    ]
    assert Account.objects.count() == 0


def test_valid_only_imports_the_good_rows_and_lists_the_bad(specialist, write_csv):
    path = write_csv(csv_bytes([row(1), row(2, wallets="0x12")]))

    out, err = run(path, "--as", "spec", "--valid-only")

    assert "1 created, 0 updated, 0 unchanged, 1 skipped (rows with errors)." in out
    assert err.startswith("line 3, column wallets: “0x12” is not a wallet address")
    assert Account.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"display_name,email,external_id,tier\n", "required columns missing: “owner”"),
        (",".join(COLUMNS).encode("utf-16"), "not UTF-8 text"),
        (b"", "The file is empty"),
    ],
)
def test_unusable_file_fails_with_the_reason(specialist, write_csv, raw, message):
    with pytest.raises(CommandError, match=message):
        run(write_csv(raw), "--as", "spec")


def test_file_over_5_mb_is_refused_unread(specialist, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing on disk

    with pytest.raises(CommandError) as caught:
        run(str(path), "--as", "spec")

    assert str(caught.value) == (
        f"{path}: The file is 50.0 MB; the limit is 5 MB — split it into smaller files."
    )


def test_missing_file_fails_with_the_reason(specialist, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "nope.csv"), "--as", "spec")


def test_exit_status_is_non_zero_with_the_reason_on_stderr(specialist, write_csv, capsys):
    UserFactory(username="root", is_superuser=True)
    path = write_csv(csv_bytes([row(1, tier="Tier 9")]))

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "import_accounts", path])

    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "line 2, column tier: There is no tier “Tier 9”." in err
    assert "CommandError: Nothing was imported: 1 row has errors." in err
