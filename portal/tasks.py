from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone


def housekeeping() -> dict:
    """Delete expired sessions and old login-attempt records. Idempotent; safe to retry."""
    from axes.models import AccessAttempt, AccessFailureLog

    now = timezone.now()
    cutoff = now - timedelta(days=30)
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    attempts, _ = AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()
    return {"sessions": sessions, "access_attempts": attempts, "failure_logs": failures}
