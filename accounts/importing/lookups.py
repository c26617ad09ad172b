"""What the rows of a file refer to (tiers, owners, accounts, who holds an e-mail, wallet or
Intercom id), loaded in a few queries per 500 rows rather than several per row. Reads only."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.functions import Lower

from accounts.importing.parsing import CsvTable, split_wallets
from accounts.models import Account, Tier, Wallet
from accounts.services import validate_owner
from accounts.wallets import normalise_address
from portal.models import User

LOOKUP_CHUNK = 500  # values per `__in` query, well under SQLite's limit on bound parameters


@dataclass(frozen=True)
class _Holder:
    """The account that already holds an e-mail, wallet or Intercom id."""

    external_id: str
    display_name: str

    def __str__(self):
        return f"account “{self.display_name}” (external id {self.external_id})"


@dataclass
class Lookups:
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


def load_lookups(table: CsvTable) -> Lookups:
    """Everything the rows refer to, in a few queries per 500 rows rather than several per row."""
    cells = _cells_by_column(table)
    owners, unfit_owners = _load_owners(cells["owner"])
    accounts = Account.objects.select_related("tier", "owner").prefetch_related("wallets")
    holders = Account.objects.annotate(email_lower=Lower("email"))
    wallet_holders = Wallet.objects.values_list("address", "account__external_id", "account__display_name")
    return Lookups(
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
        for raw in split_wallets(cell):
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
