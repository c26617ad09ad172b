"""The acknowledgement link in every page: `/oncall/ack/<token>/`, a signed, expiring token that
names the escalation and the page (so the person paged). It grants nothing by itself: the page
it opens needs a signed-in Specialist, and only acknowledges that one escalation."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "oncall.ack"
MAX_AGE_SECONDS = 7 * 24 * 3600  # a page is stale long before; a week keeps late clicks readable


@dataclass(frozen=True)
class AckToken:
    escalation_id: int
    page_id: int


class BadToken(Exception):
    """The token is forged, malformed or expired; `expired` tells which, for the message."""

    def __init__(self, expired: bool = False):
        super().__init__("expired" if expired else "bad signature")
        self.expired = expired


def ack_token(*, escalation_id: int, page_id: int) -> str:
    return signing.dumps({"e": escalation_id, "p": page_id}, salt=SALT, compress=True)


def ack_token_read(token: str, *, max_age: int = MAX_AGE_SECONDS) -> AckToken:
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise BadToken(expired=True) from error
    except signing.BadSignature as error:
        raise BadToken() from error
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or not isinstance(data.get("p"), int):
        raise BadToken()
    return AckToken(escalation_id=data["e"], page_id=data["p"])


def ack_url(*, escalation_id: int, page_id: int) -> str:
    """The absolute link a page carries."""
    token = ack_token(escalation_id=escalation_id, page_id=page_id)
    return settings.PORTAL_BASE_URL + reverse("oncall:ack", args=[token])
