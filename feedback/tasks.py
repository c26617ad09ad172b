"""django-q2 tasks of the feedback log: thin, idempotent, each calls one service."""


def weekly_digest() -> dict:
    """Mondays: mail Product the week's new items, biggest movers and items waiting on triage.
    Idempotent per ISO week (a DigestRun row), so safe to retry or to run twice."""
    from feedback.digest import weekly_digest_send

    return weekly_digest_send()
