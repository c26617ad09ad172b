"""Writes of the CSV import (`accounts.importing` describes the contract): importing a file,
keeping an uploaded one and running it, at once or in the background."""

import logging
import threading
from collections import defaultdict
from dataclasses import asdict

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.exceptions import TimeoutException
from django_q.tasks import async_task

from accounts.importing.checks import RowPlan, check_rows, error_order
from accounts.importing.parsing import MAX_FILE_BYTES, file_too_large_message, read_csv
from accounts.importing.results import CHECKING, WRITING, ImportResult, Progress, RowError
from accounts.models import AccountImport
from accounts.services import (
    AccountInput,
    WalletInput,
    account_create,
    account_update,
    health_refresh_deferred,
    wallet_add,
)
from portal.files import file_store_save
from portal.models import User

logger = logging.getLogger(__name__)

# Larger files are imported by a worker, so the upload request returns at once.
BACKGROUND_THRESHOLD_ROWS = 500
# Enough to fix a file by; a file wrong in every cell would otherwise store megabytes of errors.
MAX_ERRORS_KEPT = 5_000
VALID_ONLY_LABEL = "Import only the valid rows"


def _account_input(plan: RowPlan) -> AccountInput:
    return AccountInput(**plan.values, wallets=[WalletInput(address=a) for a in plan.wallets])


def _write_row(plan: RowPlan, by: User) -> str:
    if plan.account is None:
        account_create(by=by, data=_account_input(plan))
        return "created"
    if plan.unchanged:
        return "unchanged"
    if plan.changes:
        account_update(account=plan.account, by=by, changes=plan.changes)
    for address in plan.new_wallets:
        wallet_add(account=plan.account, by=by, data=WalletInput(address=address))
    return "updated"


def _service_errors(line: int, error: ValidationError) -> list[RowError]:
    """A service's refusal (a race with another writer, say) as errors on the row."""
    columns = {"address": "wallets", NON_FIELD_ERRORS: ""}
    if not hasattr(error, "error_dict"):
        return [RowError(line, "", message) for message in error.messages]
    return [
        RowError(line, columns.get(name, name), message)
        for name, messages in error.message_dict.items()
        for message in messages
    ]


def _write(plans: list[RowPlan], *, by: User, result: ImportResult, progress: Progress) -> None:
    """Write the planned rows in one transaction. A row a service refuses is skipped under
    valid-only and otherwise rolls everything back."""
    progress(WRITING, 0, len(plans))  # before the transaction, so anyone can read it
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic(), health_refresh_deferred():
        for done, plan in enumerate(plans, start=1):
            try:
                with transaction.atomic():
                    counts[_write_row(plan, by)] += 1
            except ValidationError as error:
                result.errors.extend(_service_errors(plan.line, error))
            progress(WRITING, done, len(plans))
        if result.rejected:
            transaction.set_rollback(True)
            return
    result.created, result.updated, result.unchanged = (
        counts["created"],
        counts["updated"],
        counts["unchanged"],
    )


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def accounts_import(
    *, by: User, raw: bytes, valid_only: bool = False, progress: Progress | None = None
) -> ImportResult:
    """Import a CSV file of accounts as `accounts.importing` describes; `by` is recorded as the
    actor of every change. Raises ValidationError, writing nothing, when the file as a whole is
    unusable. Row errors come back in the result. Any other exception rolls back everything
    and propagates. Safe to repeat: a second run of the same file finds every row unchanged."""
    progress = progress or _no_progress
    table = read_csv(raw)
    plans, errors = check_rows(table, progress=progress)
    result = ImportResult(total_rows=len(table.rows), valid_only=valid_only, errors=errors)
    if not result.rejected:
        _write(plans, by=by, result=result, progress=progress)
        result.errors.sort(key=error_order)  # a service's late refusals among the others
    return result


def account_import_start(*, by: User, uploaded_file, valid_only: bool) -> AccountImport:
    """Keep an uploaded CSV and import it: at once when small, in the background otherwise.
    Raises ValidationError (on `file`), keeping nothing, when the file as a whole is unusable."""
    if uploaded_file.size > MAX_FILE_BYTES:
        raise ValidationError({"file": file_too_large_message(uploaded_file.size)})
    raw = uploaded_file.read()
    try:
        table = read_csv(raw)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    name = (uploaded_file.name or "accounts.csv").rsplit("/", 1)[-1][:200]
    account_import = AccountImport(
        created_by=by, original_name=name, valid_only=valid_only, total_rows=len(table.rows)
    )
    file_store_save(account_import.file, name, ContentFile(raw), form_field="file")
    account_import.save()
    if account_import.total_rows <= BACKGROUND_THRESHOLD_ROWS:
        account_import_run(import_id=account_import.pk)
        account_import.refresh_from_db()
    else:
        pk = account_import.pk
        transaction.on_commit(lambda: async_task("accounts.tasks.account_import_run", pk))
    return account_import


class _ImportProgress:
    """Writes an import's progress where the page can read it while the import runs.

    Checking happens outside any transaction, so a plain update is committed at once. Writing
    happens inside one transaction, whose updates nobody sees before it commits: there progress
    goes through a connection of its own (a short-lived thread gets one), which PostgreSQL allows
    beside an open transaction that never touches the import's row. SQLite has one writer at a
    time, so there the page shows the writing step without a count until the commit.
    """

    def __init__(self, import_id: int, *, beside_transaction: bool):
        self.import_id = import_id
        self.beside_transaction = beside_transaction
        self.reached = (CHECKING, 0, 0)

    def __call__(self, phase: str, done: int, total: int) -> None:
        self.reached = (phase, done, total)
        step = max(1, total // 100)
        if done % step and done != total:
            return
        verb = "Checking" if phase == CHECKING else "Writing"
        fields = {"processed_rows": done, "message": f"{verb} {total:,} rows…", "updated_at": timezone.now()}
        if phase == CHECKING or done == 0:
            AccountImport.objects.filter(pk=self.import_id).update(**fields)
        elif self.beside_transaction:
            _update_on_own_connection(self.import_id, fields)


def _update_on_own_connection(import_id: int, fields: dict) -> None:
    def update():
        try:
            AccountImport.objects.filter(pk=import_id).update(**fields)
        except DatabaseError:
            logger.warning("Could not record the progress of import %s", import_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=update, name=f"account-import-{import_id}-progress")
    thread.start()
    thread.join()


def account_import_run(*, import_id: int) -> None:
    """Run an uploaded import and record its outcome, errors and counts on it. Never raises: an
    unexpected error marks it FAILED with the reason, with nothing written. Safe to retry: a
    finished import is left alone, and one whose worker died restarts (its transaction never
    committed)."""
    claimed = AccountImport.objects.filter(
        pk=import_id, status__in=[AccountImport.Status.PENDING, AccountImport.Status.RUNNING]
    ).update(
        status=AccountImport.Status.RUNNING, processed_rows=0, message="Starting…", updated_at=timezone.now()
    )
    if not claimed:
        return
    account_import = AccountImport.objects.select_related("created_by").get(pk=import_id)
    progress = _ImportProgress(
        import_id, beside_transaction=connection.vendor != "sqlite" and not connection.in_atomic_block
    )
    try:
        with account_import.file.open("rb") as uploaded:
            raw = uploaded.read()
        result = accounts_import(
            by=account_import.created_by, raw=raw, valid_only=account_import.valid_only, progress=progress
        )
    except ValidationError as error:
        _finish(import_id, AccountImport.Status.FAILED, " ".join(error.messages))
    except TimeoutException:  # django-q2's time limit, raised inside the task (a SystemExit)
        _finish(import_id, AccountImport.Status.FAILED, _timed_out_message(progress.reached))
    except Exception as error:
        logger.exception("Import %s failed", import_id)
        reason = f"The import stopped on an unexpected error, so nothing was imported: {error!r}"
        _finish(import_id, AccountImport.Status.FAILED, reason)
    else:
        _finish_with_result(import_id, result)


def _timed_out_message(reached: tuple[str, int, int]) -> str:
    phase, done, total = reached
    return (
        f"The import reached the background worker’s time limit ({Conf.TIMEOUT} s) while {phase} "
        f"row {done:,} of {total:,}, so nothing was imported. Split the file into smaller files."
    )


def _finish_with_result(import_id: int, result: ImportResult) -> None:
    if result.rejected:
        status = AccountImport.Status.FAILED
        message = result.rejection(what_next=f"Fix them and upload again, or tick '{VALID_ONLY_LABEL}'.")
    else:
        status, message = AccountImport.Status.DONE, f"Imported: {result.summary()}."
    _finish(
        import_id,
        status,
        message,
        processed_rows=result.total_rows,
        created_count=result.created,
        updated_count=result.updated,
        unchanged_count=result.unchanged,
        skipped_count=result.skipped,
        errors=[asdict(error) for error in result.errors[:MAX_ERRORS_KEPT]],
    )


def _finish(import_id: int, status: str, message: str, **fields) -> None:
    now = timezone.now()
    AccountImport.objects.filter(pk=import_id).update(
        status=status, message=message[:300], finished_at=now, updated_at=now, **fields
    )
