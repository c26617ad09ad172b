from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.models import User

EMAIL_TAKEN = "That e-mail is already used by another person."


def user_email_check_free(*, user: User, email: str) -> None:
    """Raise ValidationError when another person already has `email` (case-insensitively)."""
    if email and User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationError(EMAIL_TAKEN, code="email_taken")


def user_email_change_allowed(*, user: User, stored_email: str, email: str, current_password: str) -> None:
    """A changed e-mail needs the person's current password: the address receives password
    resets, so a session left open must not be enough to take the account over."""
    if email.strip().lower() == (stored_email or "").strip().lower():
        return
    if not current_password:
        raise ValidationError("Enter your current password to change your e-mail.", code="password_required")
    if not user.check_password(current_password):
        raise ValidationError(
            "Your current password was entered incorrectly; your e-mail was not changed.",
            code="password_incorrect",
        )


@transaction.atomic
def user_update_preferences(
    *, user: User, first_name: str, last_name: str, email: str, time_zone: str, current_password: str = ""
) -> User:
    """Save a person's own name, e-mail and time zone. Validates the zone; a changed e-mail
    needs the current password and must be nobody else's. Raises ValidationError (keyed by
    field) otherwise and saves nothing; safe to repeat."""
    email = email.strip()
    stored_email = User.objects.select_for_update().values_list("email", flat=True).get(pk=user.pk)
    errors = {}
    for field, check in (
        ("email", lambda: user_email_check_free(user=user, email=email)),
        (
            "current_password",
            lambda: user_email_change_allowed(
                user=user, stored_email=stored_email, email=email, current_password=current_password
            ),
        ),
    ):
        try:
            check()
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    user.first_name = first_name
    user.last_name = last_name
    user.email = email
    user.time_zone = time_zone
    user.full_clean(validate_unique=False, exclude=["password", "username"])
    try:
        with transaction.atomic():
            user.save(update_fields=["first_name", "last_name", "email", "time_zone"])
    except IntegrityError as error:  # another person took the address a moment ago
        raise ValidationError({"email": EMAIL_TAKEN}) from error
    return user


def user_set_working_hours(*, user: User, days: list[str]) -> User:
    """Save a person's weekly working hours from one text per weekday, Monday first
    (`09:00-17:00, 18:00-20:00`; empty: not working). ValidationError keyed by the weekday's
    field (`monday` …) for every day it cannot read, and nothing saved."""
    from portal.availability import WEEKDAYS, parse_day

    if len(days) != len(WEEKDAYS):
        raise ValidationError("Give the hours of all seven days.")
    rows, errors = [], {}
    for weekday, (name, text) in enumerate(zip(WEEKDAYS, days, strict=True)):
        try:
            rows += [[weekday, start, end] for start, end in parse_day(text)]
        except ValidationError as error:
            errors[name.lower()] = error.messages
    if errors:
        raise ValidationError(errors)
    User.objects.filter(pk=user.pk).update(working_hours=rows)
    user.working_hours = rows
    return user


def user_set_away(*, user: User, away: bool, until=None, now=None) -> User:
    """Mark a person away (optionally until a return time, which must be in the future) or
    back. Routing sends them nothing while away."""
    from django.utils import timezone

    now = now or timezone.now()
    if away and until is not None and until <= now:
        raise ValidationError({"until": "The return time has passed: give a later one, or none."})
    user.is_away, user.away_until = away, (until if away else None)
    User.objects.filter(pk=user.pk).update(is_away=user.is_away, away_until=user.away_until)
    return user


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Make the role groups and their permissions match portal.roles exactly.

    Idempotent. Also keeps `is_staff` true for Admins and false for everyone else who is not
    a superuser, so only Admins reach the Django admin, and removes per-user permissions from
    everyone who is not a superuser: a role is a group, and what a person may do is exactly
    what their groups declare. Raises ImproperlyConfigured when a declared permission does not
    exist (a typo, or a missing migration).
    """
    from django.contrib.auth.models import Group, Permission
    from django.core.exceptions import ImproperlyConfigured

    from portal.roles import ROLE_PERMISSIONS, Role

    wanted = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms}
    found = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    missing = sorted(wanted - found.keys())
    if missing:
        raise ImproperlyConfigured(f"Unknown permissions in ROLE_PERMISSIONS: {', '.join(missing)}")
    counts = {}
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set([found[name] for name in ROLE_PERMISSIONS[role]])
        counts[role.value] = len(ROLE_PERMISSIONS[role])
    User.objects.filter(groups__name=Role.ADMIN, is_staff=False).update(is_staff=True)
    User.objects.filter(is_staff=True, is_superuser=False).exclude(groups__name=Role.ADMIN).update(
        is_staff=False
    )
    User.user_permissions.through.objects.filter(user__is_superuser=False).delete()
    return counts


@transaction.atomic
def schedules_sync() -> dict[str, str]:
    """Create or update every schedule in portal.schedules, matched by name, and delete any
    schedule not declared there. Idempotent.

    The next run is recomputed only when a schedule is new or its cron string changed, so
    re-running the command never postpones or repeats a run. Undeclared schedules go because the
    worker runs whatever dotted name a schedule holds: the declaration is the only way in.
    """
    from croniter import croniter
    from django.utils import timezone
    from django_q.models import Schedule

    from portal.schedules import SCHEDULES

    outcome = {}
    for declared in SCHEDULES:
        next_run = croniter(declared.cron, timezone.localtime()).get_next(type(timezone.now()))
        schedule = Schedule.objects.filter(name=declared.name).first()
        if schedule is None:
            Schedule.objects.create(
                name=declared.name,
                func=declared.func,
                schedule_type=Schedule.CRON,
                cron=declared.cron,
                repeats=-1,
                next_run=next_run,
            )
            outcome[declared.name] = "created"
            continue
        changed = schedule.func != declared.func or schedule.cron != declared.cron
        if schedule.cron != declared.cron or schedule.schedule_type != Schedule.CRON:
            schedule.next_run = next_run
        schedule.func = declared.func
        schedule.cron = declared.cron
        schedule.schedule_type = Schedule.CRON
        schedule.repeats = -1
        schedule.save()
        outcome[declared.name] = "updated" if changed else "unchanged"
    undeclared = Schedule.objects.exclude(name__in=[declared.name for declared in SCHEDULES])
    for name in undeclared.values_list("name", flat=True):
        outcome[name or "(unnamed)"] = "removed (not declared in portal/schedules.py)"
    undeclared.delete()
    return outcome
