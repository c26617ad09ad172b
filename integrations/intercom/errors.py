"""Typed Intercom errors. Each carries Intercom's own error list (`{"code", "message", "field"}`)
and the request id to quote to Intercom support."""


class IntercomError(Exception):
    """Any failure talking to Intercom. `retryable` says whether trying again later can help."""

    retryable = False

    def __init__(
        self, message: str, *, status: int | None = None, errors=None, request_id: str | None = None
    ):
        super().__init__(message)
        self.status = status
        self.errors = list(errors or [])
        self.request_id = request_id

    @property
    def codes(self) -> list[str]:
        return [str(e.get("code", "")) for e in self.errors if isinstance(e, dict)]

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} (request {self.request_id})" if self.request_id else base


class IntercomUnavailable(IntercomError):
    """Connection trouble, a timeout or a 5xx: try again later."""

    retryable = True


class IntercomRateLimited(IntercomUnavailable):
    """429 that outlasted the client's own waiting; `reset_at` is when the window reopens."""

    def __init__(self, message: str, *, reset_at: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.reset_at = reset_at


class IntercomNotFound(IntercomError):
    """404: the contact, tag, admin or conversation does not exist (any more)."""


class IntercomConflict(IntercomError):
    """409: e.g. a contact with this external id exists already."""


class IntercomRejected(IntercomError):
    """Any other 4xx: the request itself is wrong (bad token, unknown attribute, bad value)."""


class IntercomNotConfigured(IntercomError):
    """Intercom is switched off (INTERCOM_ENABLED false): jobs wait until it is connected."""

    retryable = True
