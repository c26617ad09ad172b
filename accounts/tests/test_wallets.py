import pytest
from django.core.exceptions import ValidationError

from accounts.models import Wallet
from accounts.services import WalletInput, wallet_add
from accounts.tests.factories import make_account
from accounts.wallets import normalise_address, to_checksum_address

# EIP-55's own test vectors.
CHECKSUMMED = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", CHECKSUMMED)
def test_checksummed_addresses_pass_and_are_stored_lowercase(address):
    assert normalise_address(address) == address.lower()
    assert to_checksum_address(address.lower()) == address


@pytest.mark.parametrize("address", [CHECKSUMMED[0].lower(), "0x" + CHECKSUMMED[0][2:].upper()])
def test_single_case_addresses_skip_the_checksum(address):
    assert normalise_address(address) == CHECKSUMMED[0].lower()


def test_a_mistyped_mixed_case_address_fails_its_checksum():
    typo = CHECKSUMMED[0][:-1] + "D"  # last character's case flipped
    with pytest.raises(ValidationError, match="EIP-55 checksum"):
        normalise_address(typo)


@pytest.mark.parametrize(
    "bad", ["", "0x123", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x" + "g" * 40, "0x" + "a" * 41]
)
def test_malformed_addresses_are_refused(bad):
    with pytest.raises(ValidationError, match="not a wallet address"):
        normalise_address(bad)


@pytest.mark.django_db
def test_one_address_belongs_to_at_most_one_account():
    first = make_account(wallets=[CHECKSUMMED[0]])
    other = make_account()
    with pytest.raises(ValidationError, match=first.display_name):
        wallet_add(account=other, by=other.owner, data=WalletInput(address=CHECKSUMMED[0].lower()))
    with pytest.raises(ValidationError, match="this account"):
        wallet_add(account=first, by=first.owner, data=WalletInput(address=CHECKSUMMED[0]))
    assert Wallet.objects.count() == 1
    assert Wallet.objects.get().address == CHECKSUMMED[0].lower()
