"""The documented format of an accounts CSV file: what each column means, and an example file."""

import csv
import io

from accounts.importing.parsing import COLUMNS
from accounts.models import Account, Channel, Tier, Venue
from accounts.wallets import to_checksum_address
from portal.models import User
from portal.roles import Role, user_roles


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
