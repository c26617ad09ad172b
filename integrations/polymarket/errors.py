"""Errors of the Polymarket clients, each with a message fit to show a person."""


class PolymarketError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PolymarketUnavailable(PolymarketError):
    """Polymarket could not answer now (network, timeout, 5xx, 429): worth trying again later."""


class PolymarketBadResponse(PolymarketError):
    """Polymarket answered, but not with what we asked for: retrying will not help by itself."""


class PolymarketNotFound(PolymarketBadResponse):
    """Polymarket answered that no such market or event exists: retrying will not help."""
