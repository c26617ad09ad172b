"""An account's wallets: adding one (checked, normalised and unique across accounts) and
removing one, each kept in the account's timeline."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account, AccountEvent, Wallet
from accounts.services.timeline import account_event_record
from accounts.wallets import normalise_address, to_checksum_address
from portal.models import User


@dataclass(frozen=True)
class WalletInput:
    address: str
    label: str = ""
    is_proxy: bool = True


def wallet_attach(account: Account, data: WalletInput) -> Wallet:
    """Save a new wallet on the account, with no timeline row (`account_create` records the
    account's creation instead). Raises ValidationError like `wallet_add`."""
    address = normalise_address(data.address)
    owner = Wallet.objects.filter(address=address).select_related("account").first()
    if owner is not None:
        where = (
            "this account" if owner.account_id == account.pk else f"account “{owner.account.display_name}”"
        )
        raise ValidationError({"address": f"{to_checksum_address(address)} already belongs to {where}."})
    wallet = Wallet(account=account, address=address, label=data.label.strip(), is_proxy=data.is_proxy)
    wallet.full_clean(exclude=["account"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            wallet.save()
    except IntegrityError as error:
        raise ValidationError({"address": "This wallet address already belongs to an account."}) from error
    return wallet


@transaction.atomic
def wallet_add(*, account: Account, by: User, data: WalletInput) -> Wallet:
    """Attach a wallet. Raises ValidationError for a malformed address, a failed EIP-55
    checksum, or an address that already belongs to an account."""
    wallet = wallet_attach(account, data)
    account_event_record(
        account_id=account.pk,
        kind=AccountEvent.Kind.WALLET_ADDED,
        actor=by,
        summary=f"Wallet {wallet.checksum_address} added",
    )
    return wallet


@transaction.atomic
def wallet_remove(*, wallet: Wallet, by: User) -> None:
    """Detach a wallet; the timeline keeps its address."""
    account = wallet.account
    address = wallet.checksum_address
    wallet.delete()
    account_event_record(
        account_id=account.pk,
        kind=AccountEvent.Kind.WALLET_REMOVED,
        actor=by,
        summary=f"Wallet {address} removed",
    )
