"""Every periodic task of the portal, declared once; `manage.py setup_schedules` applies them.

Each app adds its tasks to SCHEDULES, with a comment that explains the cron string.
Cron strings are evaluated in settings.TIME_ZONE.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduledTask:
    name: str
    func: str  # dotted path to a task function
    cron: str


SCHEDULES: list[ScheduledTask] = [
    # Every minute: apply webhook notifications stored over 5 minutes ago but never processed, and
    # queue a drain for newer ones whose drain task was lost (a broker restart): they wait a
    # minute or two, not until a later notification. Cheap when nothing waits (one indexed read).
    ScheduledTask(
        name="integrations.webhooks_reprocess",
        func="integrations.tasks.intercom_reprocess_stale_webhooks",
        cron="* * * * *",
    ),
    # Every minute: deliver the outbox to Intercom (a run ends within ~50 s; jobs for one contact
    # stay in order, failures wait for their retry time).
    ScheduledTask(
        name="integrations.intercom_drain", func="integrations.tasks.intercom_drain_outbox", cron="* * * * *"
    ),
    # 03:17 every day: delete expired sessions and login-attempt records older than 30 days.
    ScheduledTask(name="portal.housekeeping", func="portal.tasks.housekeeping", cron="17 3 * * *"),
    # Every 5 minutes: the portfolio wallets' positions (exposure for the resolution radar), Tier 1
    # every 15 minutes and the others hourly, within the Data API budget all workers share.
    ScheduledTask(name="accounts.exposure_sweep", func="accounts.tasks.exposure_sweep", cron="*/5 * * * *"),
    # 05:00 every day (before the Americas' and Europe's working day, after Asia's): due dates,
    # health scores and their daily history, and one overdue digest e-mail per owner.
    ScheduledTask(
        name="accounts.cadence_daily_pass", func="accounts.tasks.cadence_daily_pass", cron="0 5 * * *"
    ),
    # Every 15 minutes (:00, :15, :30, :45): import the Intercom conversations updated since the
    # stored watermark, so a state that a webhook missed reaches the mirror within 15 minutes.
    ScheduledTask(
        name="support.conversations_reconcile",
        func="support.tasks.conversations_reconcile",
        cron="*/15 * * * *",
    ),
    # Minute 37 of every hour ("37 * * * *", off the quarter hours and the market refresh at :23):
    # mark the routing teams Intercom deleted as gone, so their rules are skipped instead of
    # failing in the outbox, and clear the mark of teams Intercom lists again.
    ScheduledTask(
        name="support.routing_teams_sync", func="support.tasks.routing_teams_sync", cron="37 * * * *"
    ),
    # Every minute ("* * * * *"): record the SLA warnings and breaches whose time has come; the
    # pass reads only the clocks whose next deadline has passed, so it stays short.
    ScheduledTask(name="support.sla_tick", func="support.tasks.sla_tick", cron="* * * * *"),
    # Every minute ("* * * * *"): page the next step of every escalation whose acknowledgement
    # deadline passed, and send (or retry) the pages; a page goes out within a minute of its time.
    ScheduledTask(name="oncall.escalations_page", func="oncall.tasks.escalations_page", cron="* * * * *"),
    # Minute 23 of every hour ("23 * * * *", off the quarter hours the other jobs use): re-fetch
    # open and recently closed markets from Gamma, so rules, clarifications and resolution move
    # into the portal within the hour. The run stops inside the task timeout; the stalest go first.
    ScheduledTask(name="disputes.markets_refresh", func="disputes.tasks.markets_refresh", cron="23 * * * *"),
    # Every 5 minutes ("*/5 * * * *"): re-fetch from Gamma the markets Tier 1 accounts hold once
    # they are 15 minutes old, so the radar sees their proposals and disputes within ~20 minutes.
    # A run stops after 4 minutes at most; the stalest go first.
    ScheduledTask(
        name="disputes.tier_one_markets_refresh",
        func="disputes.tasks.tier_one_markets_refresh",
        cron="*/5 * * * *",
    ),
    # Every 15 minutes ("*/15 * * * *"): import the markets portfolio wallets hold that the portal
    # does not follow yet (Tier 1 holdings first, 100 a run), so the radar watches them too.
    ScheduledTask(
        name="disputes.held_markets_follow", func="disputes.tasks.held_markets_follow", cron="*/15 * * * *"
    ),
    # 07:00 every Monday ("0 7 * * 1": minute 0, hour 7, any day of month, any month, weekday 1 =
    # Monday): the weekly feedback digest to Product, covering the seven days before. Sent once
    # per ISO week (a DigestRun row), so a retry or a second run that week sends nothing.
    ScheduledTask(name="feedback.weekly_digest", func="feedback.tasks.weekly_digest", cron="0 7 * * 1"),
    # Every 5 minutes ("*/5 * * * *"): the reports' daily rollups count again the days whose SLA
    # clocks changed (a page does it too when it finds them behind; this keeps that rare).
    ScheduledTask(
        name="reports.rollups_refresh", func="reports.tasks.reports_rollups_refresh", cron="*/5 * * * *"
    ),
    # Minute 7 of every hour ("7 * * * *"): freeze each finished week not frozen yet — the first
    # run after Monday 06:00 freezes the week that ended, and a worker that was down catches up —
    # and send the weekly figures e-mail to Leadership, or retry a refused one.
    ScheduledTask(name="reports.weekly_snapshots", func="reports.tasks.weekly_snapshots", cron="7 * * * *"),
    # 03:41 every day ("41 3 * * *", off the other nightly jobs): count every day again, which also
    # drops the clocks of items deleted since.
    ScheduledTask(
        name="reports.rollups_rebuild", func="reports.tasks.reports_rollups_rebuild", cron="41 3 * * *"
    ),
]
