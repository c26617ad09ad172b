"""Importing a book of business from CSV: the upload page and `manage.py import_accounts`.

The contract. Every row is checked before anything is written, and every error is reported by
line (as a spreadsheet numbers it: the header is line 1) and column. Rows match accounts by
external id: a new one is created, an existing one gets only the fields that differ (and the
wallets it lacks), an identical one is left alone, so importing the same file twice changes
nothing. An empty optional cell means "not given": the default for a new account, the current
value for an existing one; wallets are only ever added. Writing is one transaction: nothing is
written while any row is invalid unless the person asked for the valid rows only, and a crash
part-way leaves nothing behind.
"""

import csv
import io
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import DecimalValidator
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django_q.conf import Conf
from django_q.exceptions import TimeoutException
from django_q.tasks import async_task

from accounts.models import Account, AccountImport, Channel, Tier, Venue, Wallet
from accounts.services import (
    AccountInput,
    WalletInput,
    account_create,
    account_update,
    health_refresh_deferred,
    validate_owner,
    wallet_add,
)
from accounts.wallets import normalise_address, to_checksum_address
from portal.models import User
from portal.roles import Role, user_roles

logger = logging.getLogger(__name__)

COLUMNS = (
    "display_name", "email", "external_id", "tier", "owner", "venue", "status", "cadence_override_days",
    "time_zone", "preferred_channel", "volume_30d_usd", "notes", "wallets", "intercom_contact_id",
)  # fmt: skip
REQUIRED_COLUMNS = ("display_name", "email", "external_id", "tier", "owner")
MAX_FILE_BYTES = 5 * 1024 * 1024
# A new account costs ~8 ms to write on SQLite; 10,000 rows stay well inside the task queue's
# 120-second timeout (Q_TIMEOUT_SECONDS). A larger book is imported in several files.
MAX_ROWS = 10_000
# Larger files are imported by a worker, so the upload request returns at once.
BACKGROUND_THRESHOLD_ROWS = 500
# Enough to fix a file by; a file wrong in every cell would otherwise store megabytes of errors.
MAX_ERRORS_KEPT = 5_000
LOOKUP_CHUNK = 500  # values per `__in` query, well under SQLite's limit on bound parameters
SAVE_AS_UTF8 = (
    "Save it as “CSV UTF-8” (in Excel: File › Save As › CSV UTF-8 (Comma delimited); "
    "Google Sheets and Numbers export UTF-8 already), then try again."
)
VALID_ONLY_LABEL = "Import only the valid rows"

CHECKING, WRITING = "checking", "writing"
# progress(phase, done, total): called as rows are checked, then as they are written.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet numbers it: the header is line 1
    column: str  # "" when the error concerns the whole row
    message: str


@dataclass
class ImportResult:
    total_rows: int
    valid_only: bool
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def invalid_rows(self) -> int:
        return len({error.line for error in self.errors})

    @property
    def rejected(self) -> bool:
        """True when nothing was written because rows are invalid."""
        return bool(self.errors) and not self.valid_only

    @property
    def skipped(self) -> int:
        return 0 if self.rejected else self.invalid_rows

    def summary(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.skipped:
            text += f", {self.skipped} skipped (rows with errors)"
        return text

    def rejection(self, *, what_next: str) -> str:
        rows = f"{self.invalid_rows} row has" if self.invalid_rows == 1 else f"{self.invalid_rows} rows have"
        return f"Nothing was imported: {rows} errors. {what_next}"


# --- reading the file ------------------------------------------------------------------------


@dataclass
class CsvTable:
    columns: list[str]
    rows: list[tuple[int, list[str]]]  # (line, cells), blank rows left out


def file_too_large_message(size: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:.1f} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB "
        "— split it into smaller files."
    )


def read_csv(raw: bytes) -> CsvTable:
    """Decode and split a CSV file. Raises ValidationError with one message when the file as a
    whole is unusable: too large, not UTF-8, malformed quoting, wrong columns, no rows, too many."""
    if len(raw) > MAX_FILE_BYTES:
        raise ValidationError(file_too_large_message(len(raw)))
    records = _records(_decode(raw))
    if not records:
        raise ValidationError("The file is empty. Start with the header row; the example shows the format.")
    columns = _check_header(records[0])
    rows = [
        (line, values)
        for line, values in enumerate(records[1:], start=2)
        if any(value.strip() for value in values)
    ]
    if not rows:
        raise ValidationError("The file has a header row but no accounts below it.")
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            f"The file has {len(rows):,} rows; the limit is {MAX_ROWS:,} — split it into smaller files."
        )
    return CsvTable(columns=columns, rows=rows)


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValidationError(
            f"The file is not UTF-8 text (the first character it cannot read is on line {line}). "
            + SAVE_AS_UTF8
        ) from error
    if "\x00" in text:  # UTF-16 text with no byte-order mark decodes, NULs and all
        raise ValidationError("The file is not UTF-8 text (it looks like UTF-16). " + SAVE_AS_UTF8)
    return text


def _records(text: str) -> list[list[str]]:
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for values in reader:
            records.append(values)
    except csv.Error as error:
        raise ValidationError(
            f"Line {len(records) + 1} is not valid CSV ({error}). Check the quotation marks around it."
        ) from error
    return records


def _check_header(values: list[str]) -> list[str]:
    names = [value.strip().lower() for value in values]
    while names and not names[-1]:
        names.pop()
    if len(names) == 1 and ";" in names[0]:
        raise ValidationError("The columns are separated by semicolons, not commas. " + SAVE_AS_UTF8)
    problems = []
    unknown = [name for name in names if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    counts = Counter(names)
    repeated = sorted(name for name, count in counts.items() if name and count > 1)
    if unknown:
        problems.append(f"unknown columns {_quoted(unknown)}")
    if missing:
        problems.append(f"required columns missing: {_quoted(missing)}")
    if repeated:
        problems.append(f"columns given twice: {_quoted(repeated)}")
    if problems:
        raise ValidationError(
            f"The header row has {'; '.join(problems)}. The columns are {', '.join(COLUMNS)}; "
            f"the first {len(REQUIRED_COLUMNS)} are required."
        )
    return names


def _quoted(names: Iterable[str], limit: int = 20) -> str:
    names = list(names)
    shown = ", ".join(f"“{name[:60]}”" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# --- what the rows refer to ------------------------------------------------------------------


@dataclass(frozen=True)
class _Holder:
    """The account that already holds an e-mail, wallet or Intercom id."""

    external_id: str
    display_name: str

    def __str__(self):
        return f"account “{self.display_name}” (external id {self.external_id})"


@dataclass
class _Lookups:
    tiers: dict[str, Tier]
    owners: dict[str, User]
    unknown_owners: set[str]
    unfit_owners: dict[str, str]  # username -> why they cannot own accounts
    accounts: dict[str, Account]
    holders: dict[str, dict[str, _Holder]]  # column -> value -> holder


def _in_chunks(queryset: QuerySet, lookup: str, values: Iterable) -> Iterable:
    values = list(values)
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield from queryset.filter(**{f"{lookup}__in": values[start : start + LOOKUP_CHUNK]})


def _load_lookups(table: CsvTable) -> _Lookups:
    """Everything the rows refer to, in a few queries per 500 rows rather than several per row."""
    cells = _cells_by_column(table)
    owners, unfit_owners = _load_owners(cells["owner"])
    accounts = Account.objects.select_related("tier", "owner").prefetch_related("wallets")
    holders = Account.objects.annotate(email_lower=Lower("email"))
    wallet_holders = Wallet.objects.values_list("address", "account__external_id", "account__display_name")
    return _Lookups(
        tiers={tier.name.lower(): tier for tier in Tier.objects.order_by("rank")},
        owners=owners,
        unknown_owners=cells["owner"] - owners.keys(),
        unfit_owners=unfit_owners,
        accounts={a.external_id: a for a in _in_chunks(accounts, "external_id", cells["external_id"])},
        holders={
            "email": _holders(holders, "email_lower", {e.lower() for e in cells["email"]}),
            "intercom_contact_id": _holders(holders, "intercom_contact_id", cells["intercom_contact_id"]),
            "wallets": {
                address: _Holder(external_id, name)
                for address, external_id, name in _in_chunks(
                    wallet_holders, "address", _addresses(cells["wallets"])
                )
            },
        },
    )


def _cells_by_column(table: CsvTable) -> dict[str, set[str]]:
    cells: dict[str, set[str]] = defaultdict(set)
    for _line, values in table.rows:
        for column, value in zip(table.columns, values, strict=False):
            if value.strip():
                cells[column].add(value.strip())
    return cells


def _holders(queryset: QuerySet, lookup: str, values: Iterable[str]) -> dict[str, _Holder]:
    rows = queryset.values_list(lookup, "external_id", "display_name")
    return {
        value: _Holder(external_id, name) for value, external_id, name in _in_chunks(rows, lookup, values)
    }


def _addresses(cells: Iterable[str]) -> set[str]:
    found = set()
    for cell in cells:
        for raw in _split_wallets(cell):
            try:
                found.add(normalise_address(raw))
            except ValidationError:
                continue  # reported when its row is checked
    return found


def _load_owners(usernames: set[str]) -> tuple[dict[str, User], dict[str, str]]:
    """The users named as owners, and why those who may not own accounts may not."""
    owners = {user.username: user for user in _in_chunks(User.objects.all(), "username", usernames)}
    errors = {}
    for name, user in owners.items():
        try:
            validate_owner(user)
        except ValidationError as error:
            errors[name] = " ".join(error.message_dict["owner"])
    return owners, errors


# --- checking each row -----------------------------------------------------------------------


def _parse_tier(raw: str, lookups: _Lookups) -> Tier:
    tier = lookups.tiers.get(raw.lower())
    if tier is None:
        names = ", ".join(t.name for t in lookups.tiers.values())
        raise ValidationError(f"There is no tier “{raw}”. Use one of: {names}.")
    return tier


def _parse_owner(raw: str, lookups: _Lookups) -> User:
    if raw in lookups.unknown_owners:
        raise ValidationError(f"No user has the username “{raw}”.")
    return lookups.owners[raw]


def _choice(choices: list[tuple[str, str]]) -> Callable[[str, _Lookups], str]:
    def parse(raw: str, lookups: _Lookups) -> str:
        for value, label in choices:
            if raw.lower() in (value.lower(), str(label).lower()):
                return value
        raise ValidationError(f"“{raw}” is not one of: {', '.join(value for value, _ in choices)}.")

    return parse


def _parse_cadence(raw: str, lookups: _Lookups) -> int:
    try:
        days = Decimal(raw)
    except InvalidOperation:
        days = None
    if days is None or not days.is_finite() or days != days.to_integral_value():
        raise ValidationError(f"“{raw}” is not a whole number of days. Leave it empty to follow the tier.")
    if not 1 <= days <= 365:
        raise ValidationError(f"The cadence must be 1 to 365 days, not {days}.")
    return int(days)


def _parse_volume(raw: str, lookups: _Lookups) -> Decimal:
    cleaned = raw.replace(",", "").replace("$", "").replace(" ", "")
    try:
        volume = Decimal(cleaned)
    except InvalidOperation:
        volume = None
    if volume is None or not volume.is_finite():
        raise ValidationError(f"“{raw}” is not an amount in USD, such as 125000.50.")
    if volume < 0:
        raise ValidationError("The 30-day volume can’t be negative.")
    DecimalValidator(max_digits=16, decimal_places=2)(volume)
    return volume


def _split_wallets(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _parse_wallets(raw: str, lookups: _Lookups) -> list[str]:
    addresses, messages = [], []
    for part in _split_wallets(raw):
        try:
            address = normalise_address(part)
        except ValidationError as error:
            messages.extend(error.messages)
            continue
        if address not in addresses:
            addresses.append(address)
    if messages:
        raise ValidationError(messages)
    return addresses


def _text(raw: str, lookups: _Lookups) -> str:
    return raw


PARSERS: dict[str, Callable[[str, _Lookups], object]] = {
    "display_name": _text,
    "email": lambda raw, lookups: raw.lower(),
    "external_id": _text,
    "tier": _parse_tier,
    "owner": _parse_owner,
    "venue": _choice(Venue.choices),
    "status": _choice(Account.Status.choices),
    "cadence_override_days": _parse_cadence,
    "time_zone": _text,
    "preferred_channel": _choice(Channel.choices),
    "volume_30d_usd": _parse_volume,
    "notes": _text,
    "wallets": _parse_wallets,
    "intercom_contact_id": _text,
}


@dataclass
class _RowPlan:
    """A valid row and what writing it means."""

    line: int
    values: dict
    wallets: list[str]
    account: Account | None  # the existing account with this external id
    changes: dict = field(default_factory=dict)
    new_wallets: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return self.account is not None and not self.changes and not self.new_wallets


def _check_row(line: int, cells: list[str], columns: list[str], lookups: _Lookups):
    """Parse and check one row; returns (values, wallets, errors)."""
    errors, values = [], {}
    if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
        errors.append(
            RowError(line, "", f"This row has more cells than the header has columns ({len(columns)}).")
        )
    for column, cell in zip(columns, cells, strict=False):
        raw = cell.strip()
        if not raw:
            continue
        try:
            values[column] = PARSERS[column](raw, lookups)
        except ValidationError as error:
            errors.extend(RowError(line, column, message) for message in error.messages)
    for column in REQUIRED_COLUMNS:
        if column not in values and not any(e.column == column for e in errors):
            errors.append(RowError(line, column, f"{column} is required."))
    wallets = values.pop("wallets", [])
    errors.extend(_field_errors(line, values))
    errors.extend(_unfit_owner(line, values, lookups))
    errors.extend(_held_elsewhere(line, values, wallets, lookups))
    return values, wallets, errors


def _unfit_owner(line: int, values: dict, lookups: _Lookups) -> list[RowError]:
    """A new or changed owner must be an active Specialist; an account may keep the one it has
    (as `account_update` allows), so a file re-imported after someone left still imports."""
    owner = values.get("owner")
    if owner is None or owner.username not in lookups.unfit_owners:
        return []
    account = lookups.accounts.get(values.get("external_id"))
    if account is not None and account.owner_id == owner.pk:
        return []
    return [RowError(line, "owner", lookups.unfit_owners[owner.username])]


def _field_errors(line: int, values: dict) -> list[RowError]:
    """The model's own checks (lengths, e-mail and time-zone format) on the given values."""
    candidate = Account(**{name: value for name, value in values.items() if name not in ("tier", "owner")})
    exclude = [f.name for f in Account._meta.fields if f.name not in values or f.name in ("tier", "owner")]
    try:
        candidate.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return [RowError(line, name, m) for name, messages in error.message_dict.items() for m in messages]
    return []


def _held_elsewhere(line: int, values: dict, wallets: list[str], lookups: _Lookups) -> list[RowError]:
    """E-mails, Intercom ids and wallets that already belong to a different account."""
    own = values.get("external_id")
    found = [(column, values[column]) for column in ("email", "intercom_contact_id") if column in values]
    found += [("wallets", address) for address in wallets]
    errors = []
    for column, value in found:
        holder = lookups.holders[column].get(value)
        if holder is not None and holder.external_id != own:
            shown = to_checksum_address(value) if column == "wallets" else value
            errors.append(RowError(line, column, f"{shown} already belongs to {holder}."))
    return errors


def _duplicate_errors(seen: dict[tuple[str, str], list[int]]) -> list[RowError]:
    errors = []
    for (column, value), lines in seen.items():
        if len(lines) < 2:
            continue
        shown = to_checksum_address(value) if column == "wallets" else value
        for line in lines:
            # Name a few of the other lines, not all: a value repeated on N rows would
            # otherwise make N² text.
            others = [str(other) for other in lines if other != line]
            listed = ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
            where = f"line {others[0]}" if len(others) == 1 else f"lines {listed}"
            errors.append(
                RowError(line, column, f"{shown} is also on {where}; it may appear on one row only.")
            )
    return errors


def _plan(line: int, values: dict, wallets: list[str], lookups: _Lookups) -> _RowPlan:
    account = lookups.accounts.get(values["external_id"])
    plan = _RowPlan(line=line, values=values, wallets=wallets, account=account)
    if account is not None:
        plan.changes = {
            name: value
            for name, value in values.items()
            if name != "external_id" and getattr(account, name) != value
        }
        held = {wallet.address for wallet in account.wallets.all()}
        plan.new_wallets = [address for address in wallets if address not in held]
    return plan


def check_rows(table: CsvTable, *, progress: Progress) -> tuple[list[_RowPlan], list[RowError]]:
    """Check every row against the file and the database; returns the plans of the valid rows
    and the errors of the others. Reads only."""
    lookups = _load_lookups(table)
    parsed, errors = [], []
    seen: dict[tuple[str, str], list[int]] = defaultdict(list)
    for done, (line, cells) in enumerate(table.rows, start=1):
        values, wallets, row_errors = _check_row(line, cells, table.columns, lookups)
        errors.extend(row_errors)
        for column in ("external_id", "email", "intercom_contact_id"):
            if column in values:
                seen[(column, values[column])].append(line)
        for address in wallets:
            seen[("wallets", address)].append(line)
        if not row_errors:
            parsed.append((line, values, wallets))
        progress(CHECKING, done, len(table.rows))
    errors.extend(_duplicate_errors(seen))
    invalid = {error.line for error in errors}
    plans = [_plan(line, values, wallets, lookups) for line, values, wallets in parsed if line not in invalid]
    return plans, sorted(errors, key=_error_order)


def _error_order(error: RowError) -> tuple[int, int]:
    return error.line, COLUMNS.index(error.column) if error.column in COLUMNS else -1


# --- writing ---------------------------------------------------------------------------------


def _account_input(plan: _RowPlan) -> AccountInput:
    return AccountInput(**plan.values, wallets=[WalletInput(address=a) for a in plan.wallets])


def _write_row(plan: _RowPlan, by: User) -> str:
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


def _write(plans: list[_RowPlan], *, by: User, result: ImportResult, progress: Progress) -> None:
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
    """Import a CSV file of accounts as the module docstring describes; `by` is recorded as the
    actor of every change. Raises ValidationError, writing nothing, when the file as a whole is
    unusable. Row errors come back in the result. Any other exception rolls back everything
    and propagates. Safe to repeat: a second run of the same file finds every row unchanged."""
    progress = progress or _no_progress
    table = read_csv(raw)
    plans, errors = check_rows(table, progress=progress)
    result = ImportResult(total_rows=len(table.rows), valid_only=valid_only, errors=errors)
    if not result.rejected:
        _write(plans, by=by, result=result, progress=progress)
        result.errors.sort(key=_error_order)  # a service's late refusals among the others
    return result


# --- imports uploaded on the page ------------------------------------------------------------


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
    account_import.file.save(name, ContentFile(raw), save=False)
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


def account_imports_recent(*, limit: int = 10) -> QuerySet[AccountImport]:
    """The latest imports, newest first, with who uploaded them."""
    return AccountImport.objects.select_related("created_by").order_by("-created_at", "-pk")[:limit]


# --- the documented format -------------------------------------------------------------------


def _names(choices) -> str:
    return ", ".join(value for value, _ in choices)


COLUMN_HELP = (
    ("display_name", True, "The name shown in the portal (up to 120 characters)."),
    ("email", True, "Primary e-mail; no two accounts share one (case does not matter)."),
    ("external_id", True, "The user’s id on the platform. Rows update the account with this id, if any."),
    ("tier", True, "A tier name such as Tier 1 (case does not matter)."),
    ("owner", True, "The username of the Specialist who owns the account."),
    ("venue", False, f"One of {_names(Venue.choices)}. New accounts: international."),
    ("status", False, f"One of {_names(Account.Status.choices)}. New accounts: active."),
    ("cadence_override_days", False, "Days between check-ins, 1 to 365. Empty follows the tier."),
    ("time_zone", False, "An IANA time zone such as Europe/London. New accounts: UTC."),
    ("preferred_channel", False, f"One of {_names(Channel.choices)}. New accounts: intercom."),
    ("volume_30d_usd", False, "Volume over the last 30 days in USD, such as 125000.50."),
    ("notes", False, "Free text."),
    ("wallets", False, "Polygon wallet addresses separated by “;”. Mixed-case ones must pass EIP-55."),
    ("intercom_contact_id", False, "The Intercom contact id, if known."),
)


def example_owner(user: User) -> str:
    """The owner the example file names: the person downloading it if a Specialist, else one."""
    if user.is_active and Role.SPECIALIST in user_roles(user):
        return user.username
    specialist = (
        User.objects.filter(groups__name=Role.SPECIALIST, is_active=True).order_by("username").first()
    )
    return specialist.username if specialist else "specialist.username"


def example_csv(*, owner: str) -> str:
    """A small file in the documented format that imports cleanly when `owner` is a Specialist."""
    tiers = [tier.name for tier in Tier.objects.order_by("rank")[:3]] or ["Tier 1"]
    wallets = [
        to_checksum_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
        to_checksum_address("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"),
        "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb",
    ]
    rows = [
        COLUMNS,
        ("Northwind Capital", "desk@northwind.example.com", "example-1001", tiers[0], owner,
         "international", "active", "", "Europe/London", "telegram", "2500000.00",
         "Market maker; quotes the election markets.", f"{wallets[0]};{wallets[1]}", ""),
        ("Harbor Quant", "ops@harborquant.example.com", "example-1002", tiers[1 % len(tiers)], owner,
         "us", "active", "10", "America/New_York", "email", "480000", "", wallets[2], ""),
        ("Ada Trader", "ada@example.com", "example-1003", tiers[-1], owner,
         "", "", "", "", "", "", "", "", ""),
    ]  # fmt: skip
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return "\ufeff" + out.getvalue()  # the byte-order mark makes Excel read it as UTF-8
