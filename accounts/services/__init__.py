"""Writes to the portfolio, one module per job:

- `portfolio`: the accounts themselves (create, edit, snooze, reassign; owners and tiers);
- `check_ins`: logging, editing and deleting check-ins, completing follow-ups;
- `wallets`: adding and removing an account's wallets;
- `health`: rescoring health; other apps ask through `health_refresh_soon` and
  `health_refresh_deferred`;
- `cadence`: when an account is next due, and the daily pass over every account;
- `contact_sync`: what Intercom keeps about an account, queued in the outbox;
- `timeline`: `account_event_record`, the timeline's one write;
- `importing` and `wallet_data`: the CSV import and wallet activity from Polymarket.

The modules import one another only at module level, in that order from the bottom up
(timeline, contact_sync, health, cadence, wallets, portfolio, check_ins)."""

from accounts.services.cadence import (
    cadence_daily_pass,
    compute_next_due,
    due_dates_recompute,
    overdue_digest_send,
)
from accounts.services.check_ins import (
    check_in_delete,
    check_in_log,
    check_in_update,
    follow_up_complete,
)
from accounts.services.contact_sync import contact_payload
from accounts.services.health import health_refresh, health_refresh_deferred, health_refresh_soon
from accounts.services.portfolio import (
    MAX_SNOOZE_DAYS,
    AccountInput,
    account_create,
    account_snooze,
    account_update,
    accounts_reassign,
    portfolio_reassign,
    tiers_ensure_defaults,
    validate_owner,
)
from accounts.services.timeline import account_event_record
from accounts.services.wallets import WalletInput, wallet_add, wallet_remove

__all__ = [
    "MAX_SNOOZE_DAYS",
    "AccountInput",
    "WalletInput",
    "account_create",
    "account_event_record",
    "account_snooze",
    "account_update",
    "accounts_reassign",
    "cadence_daily_pass",
    "check_in_delete",
    "check_in_log",
    "check_in_update",
    "compute_next_due",
    "contact_payload",
    "due_dates_recompute",
    "follow_up_complete",
    "health_refresh",
    "health_refresh_deferred",
    "health_refresh_soon",
    "overdue_digest_send",
    "portfolio_reassign",
    "tiers_ensure_defaults",
    "validate_owner",
    "wallet_add",
    "wallet_remove",
]
