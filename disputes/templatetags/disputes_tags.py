from django import template
from django.template.defaultfilters import filesizeformat

from accounts.wallets import explorer_url, to_checksum_address
from disputes.services.snapshots import explorer_url as explorer_tx_url

register = template.Library()


@register.filter
def tx_url(tx_hash: str) -> str:
    """Polygonscan page of a transaction."""
    return explorer_tx_url(tx_hash)


@register.filter
def address_url(address: str) -> str:
    return explorer_url(address)


@register.filter
def checksummed(address: str) -> str:
    return to_checksum_address(address) if address else ""


@register.filter
def file_size(size_bytes: int) -> str:
    return filesizeformat(size_bytes)
