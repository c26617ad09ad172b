"""Signals other apps listen to, so accounts never imports them.

`accounts_weighing_changed(account_ids=[...])` is sent (inside the writing transaction) when the
30-day volume or the tier of accounts changed, or a tier's weight: whatever weighs accounts
elsewhere (feedback impact) recomputes for them."""

from django.dispatch import Signal

accounts_weighing_changed = Signal()
