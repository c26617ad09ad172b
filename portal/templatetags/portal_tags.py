"""Filters every page uses to show people, money and times the same way (loaded as builtins)."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape, format_html

register = template.Library()


@register.filter
def person(user) -> str:
    """A person as people know them: their full name, or their username when they gave none."""
    if not user:
        return ""
    return user.get_full_name() or user.get_username()


@register.filter
def money(amount, currency: str = "") -> str:
    """`25,000.00 USDC`: thousands separated, two decimals, the currency named."""
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    return f"{value:,.2f} {currency}".strip()


@register.filter
def zone_name(moment=None) -> str:
    """The abbreviation of the viewer's time zone at `moment` (now without one): `EST`, `UTC`."""
    when = moment if isinstance(moment, dt.datetime) else timezone.now()
    return timezone.localtime(when).tzname() or ""


@register.simple_tag
def external_link(url: str, text) -> str:
    """A link that opens in a new tab, or the text alone when there is no address that works."""
    if not url:
        return conditional_escape(text)
    return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', url, text)
