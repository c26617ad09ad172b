"""Polygon wallet addresses: validation (EIP-55), the stored form, and the displayed form."""

import re

from Crypto.Hash import keccak
from django.core.exceptions import ValidationError

ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
POLYGONSCAN_ADDRESS_URL = "https://polygonscan.com/address/{}"


def _keccak_hex(text: str) -> str:
    digest = keccak.new(digest_bits=256)
    digest.update(text.encode("ascii"))
    return digest.hexdigest()


def to_checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a valid address."""
    lower = address[2:].lower()
    hashed = _keccak_hex(lower)
    return "0x" + "".join(
        c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, hashed[:40], strict=True)
    )


def normalise_address(raw: str) -> str:
    """The canonical stored form (lowercase, as the Polymarket APIs return it).

    Raises ValidationError for anything that is not `0x` + 40 hex digits, and for a
    mixed-case address whose EIP-55 checksum does not match (usually a typo).
    """
    address = (raw or "").strip()
    if not ADDRESS_RE.match(address):
        raise ValidationError(
            "“%(value)s” is not a wallet address: expected 0x followed by 40 hexadecimal characters.",
            params={"value": address[:80]},
            code="invalid_address",
        )
    body = address[2:]
    mixed_case = body != body.lower() and body != body.upper()
    if mixed_case and to_checksum_address(address) != address:
        raise ValidationError(
            "%(value)s fails its EIP-55 checksum — a character is probably mistyped. "
            "Paste the address again, or enter it in all lowercase to skip the check.",
            params={"value": address},
            code="bad_checksum",
        )
    return "0x" + body.lower()


def explorer_url(address: str) -> str:
    return POLYGONSCAN_ADDRESS_URL.format(to_checksum_address(address))
