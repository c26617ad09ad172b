"""The reports' background work: keep the daily rollups caught up, so a page rarely counts a
changed day itself."""

from reports.rollups import rollups_rebuild, rollups_refresh


def reports_rollups_refresh() -> dict:
    return {"days": rollups_refresh()}


def reports_rollups_rebuild() -> dict:
    """03:41 every night: count every day again (also catches items deleted since, which leave
    no changed clock behind)."""
    return {"days": rollups_rebuild()}


def weekly_snapshots() -> dict:
    """Every hour: freeze each finished week that has no snapshot yet, from Monday 06:00 in the
    program's time zone (late webhooks and the night's imports have landed by then), queue its
    e-mail, and send the e-mails that are due (new ones, and refused ones whose retry has come).
    Safe to run twice at once and to retry: a week is frozen once and each e-mail sent once."""
    import datetime as dt

    from django.utils import timezone

    from reports.weekly.freezing import week_freeze, weeks_due
    from reports.weekly.mail import mails_queue, mails_send

    frozen = []
    for monday in weeks_due(timezone.now() - dt.timedelta(hours=6)):
        snapshot, made = week_freeze(monday)
        if made:
            mails_queue(snapshot)
            frozen.append(monday.isoformat())
    return {"frozen": frozen, **mails_send()}
