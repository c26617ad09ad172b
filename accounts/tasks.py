"""django-q2 tasks of the portfolio: thin, idempotent, each calls one service."""

from accounts.services import cadence_daily_pass as _cadence_daily_pass


def cadence_daily_pass() -> dict:
    """Daily: recompute due dates and health (with today's snapshot), mail overdue digests.
    Idempotent; safe to retry or to run twice."""
    return _cadence_daily_pass()


def wallet_portfolios_refresh(account_id: int) -> dict:
    """Fetch and store the Polymarket positions and value of every wallet of one account.
    Queued by the account page when its data is stale. Never fails on Polymarket trouble (the
    error is stored for the page); idempotent, so safe to retry or to run twice."""
    from accounts.services.wallet_data import wallet_portfolios_refresh as _wallet_portfolios_refresh

    return _wallet_portfolios_refresh(account_id=account_id)


def account_import_run(import_id: int) -> None:
    """Run an uploaded CSV import too large for the upload request. Never raises: a failure is
    recorded on the import. Safe to retry: a finished import is left alone, and one whose worker
    died restarts (nothing of it was committed)."""
    from accounts.services.importing import account_import_run as _account_import_run

    _account_import_run(import_id=import_id)


def exposure_sweep() -> dict:
    """Every 5 minutes: fetch the positions of the portfolio wallets that are due (Tier 1 every
    15 minutes, the others hourly) within the Data API budget all workers share, for 4 minutes
    at most (the next run carries on). Never fails on Polymarket trouble; idempotent."""
    from accounts.services.exposure import exposure_sweep as _exposure_sweep

    return _exposure_sweep(budget_seconds=240)


def market_exposure_refresh(condition_id: str) -> dict:
    """Queued from a market page's *Refresh holders*: the positions of the wallets that hold it,
    fetched again within the shared Data API budget. Idempotent (a wallet tried in the last
    minute is left)."""
    from accounts.services.exposure import market_exposure_refresh as _refresh

    return _refresh(condition_id)
