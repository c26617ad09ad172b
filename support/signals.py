"""What the support program announces to the apps that act on it (the escalation pager, e-mails).

Both are sent after the transaction that recorded the event commits, once per clock, with
`clock` (a support.models.SlaClock; `clock.is_running` says whether the item still waits) and
`event` (the support.models.SlaEvent)."""

from django.dispatch import Signal

sla_warning = Signal()  # a clock is `warn_minutes` of working time from its due time
sla_breached = Signal()  # a clock passed its due time without its reply or resolution
