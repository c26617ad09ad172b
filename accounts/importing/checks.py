"""Checking each row of a file against the file and the database, and planning its write. Reads only."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator

from accounts.importing.lookups import Lookups, load_lookups
from accounts.importing.parsing import COLUMNS, REQUIRED_COLUMNS, CsvTable, split_wallets
from accounts.importing.results import CHECKING, Progress, RowError
from accounts.models import Account, Channel, Tier, Venue
from accounts.wallets import normalise_address, to_checksum_address
from portal.models import User


def _parse_tier(raw: str, lookups: Lookups) -> Tier:
    tier = lookups.tiers.get(raw.lower())
    if tier is None:
        names = ", ".join(t.name for t in lookups.tiers.values())
        raise ValidationError(f"There is no tier “{raw}”. Use one of: {names}.")
    return tier


def _parse_owner(raw: str, lookups: Lookups) -> User:
    if raw in lookups.unknown_owners:
        raise ValidationError(f"No user has the username “{raw}”.")
    return lookups.owners[raw]


def _choice(choices: list[tuple[str, str]]) -> Callable[[str, Lookups], str]:
    def parse(raw: str, lookups: Lookups) -> str:
        for value, label in choices:
            if raw.lower() in (value.lower(), str(label).lower()):
                return value
        raise ValidationError(f"“{raw}” is not one of: {', '.join(value for value, _ in choices)}.")

    return parse


def _parse_cadence(raw: str, lookups: Lookups) -> int:
    try:
        days = Decimal(raw)
    except InvalidOperation:
        days = None
    if days is None or not days.is_finite() or days != days.to_integral_value():
        raise ValidationError(f"“{raw}” is not a whole number of days. Leave it empty to follow the tier.")
    if not 1 <= days <= 365:
        raise ValidationError(f"The cadence must be 1 to 365 days, not {days}.")
    return int(days)


def _parse_volume(raw: str, lookups: Lookups) -> Decimal:
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


def _parse_wallets(raw: str, lookups: Lookups) -> list[str]:
    addresses, messages = [], []
    for part in split_wallets(raw):
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


def _text(raw: str, lookups: Lookups) -> str:
    return raw


PARSERS: dict[str, Callable[[str, Lookups], object]] = {
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
class RowPlan:
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


def _check_row(line: int, cells: list[str], columns: list[str], lookups: Lookups):
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


def _unfit_owner(line: int, values: dict, lookups: Lookups) -> list[RowError]:
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


def _held_elsewhere(line: int, values: dict, wallets: list[str], lookups: Lookups) -> list[RowError]:
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


def _plan(line: int, values: dict, wallets: list[str], lookups: Lookups) -> RowPlan:
    account = lookups.accounts.get(values["external_id"])
    plan = RowPlan(line=line, values=values, wallets=wallets, account=account)
    if account is not None:
        plan.changes = {
            name: value
            for name, value in values.items()
            if name != "external_id" and getattr(account, name) != value
        }
        held = {wallet.address for wallet in account.wallets.all()}
        plan.new_wallets = [address for address in wallets if address not in held]
    return plan


def check_rows(table: CsvTable, *, progress: Progress) -> tuple[list[RowPlan], list[RowError]]:
    """Check every row against the file and the database; returns the plans of the valid rows
    and the errors of the others. Reads only."""
    lookups = load_lookups(table)
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
    return plans, sorted(errors, key=error_order)


def error_order(error: RowError) -> tuple[int, int]:
    return error.line, COLUMNS.index(error.column) if error.column in COLUMNS else -1
