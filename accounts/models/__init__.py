"""The accounts app's models: the book (accounts.models.book) and what happens with an account
(accounts.models.activity)."""

from accounts.models.activity import (
    AccountEvent,
    AccountImport,
    CheckIn,
    Exposure,
    HealthSnapshot,
    WalletPortfolio,
)
from accounts.models.book import Account, Channel, Tier, Venue, Wallet, venue_currency

__all__ = [
    "Account",
    "AccountEvent",
    "AccountImport",
    "Channel",
    "CheckIn",
    "Exposure",
    "HealthSnapshot",
    "Tier",
    "Venue",
    "Wallet",
    "WalletPortfolio",
    "venue_currency",
]
