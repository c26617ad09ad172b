"""/reports/weeks/: the frozen weeks (Leadership and Admins), each as it was sent, their trends,
exports, and for Admins recompute, the e-mail's extra recipients and its failed sends."""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.csv_export import stream_csv
from portal.forms import add_service_errors
from portal.roles import Role, has_role, role_required
from reports.drawing import draw
from reports.exporting import FIGURE_HEADER, snapshot_rows
from reports.models import MetricSnapshot, WeeklyMail, WeeklyMailRecipient
from reports.weekly.freezing import week_freeze, week_period
from reports.weekly.mail import mail_retry
from reports.weekly.reading import (
    TREND_WEEKS,
    current_snapshots,
    live_differences,
    monday_of,
    snapshot_sections,
    trends,
)

WEEK_READERS = (Role.LEADERSHIP, Role.ADMIN)


class RecomputeForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept beside both snapshots: why the week is counted again.",
    )


class RecipientForm(forms.Form):
    email = forms.EmailField(label="Also send it to", max_length=254)


def _snapshot(monday: str) -> MetricSnapshot:
    day = monday_of(monday)
    if day is None:
        raise Http404("A week is named by its Monday, YYYY-MM-DD.")
    return get_object_or_404(
        MetricSnapshot.objects.select_related("made_by"), week=day, replaced_at__isnull=True
    )


@role_required(*WEEK_READERS)
def weeks(request, recipient_form=None):
    snapshots = list(current_snapshots())
    admin = has_role(request.user, Role.ADMIN)
    context = {
        "snapshots": snapshots,
        "charts": [(chart, draw(chart)) for chart in trends(snapshots[:TREND_WEEKS])],
        "admin": admin,
    }
    if admin:
        context["recipients"] = list(WeeklyMailRecipient.objects.order_by("email"))
        context["recipient_form"] = recipient_form or RecipientForm()
        context["troubled"] = list(
            WeeklyMail.objects.filter(status__in=(WeeklyMail.Status.FAILED, WeeklyMail.Status.DEAD)).order_by(
                "-week", "email"
            )[:50]
        )
    status = 400 if recipient_form is not None and recipient_form.errors else 200
    return render(request, "reports/weeks.html", context, status=status)


@role_required(*WEEK_READERS)
def week(request, monday):
    snapshot = _snapshot(monday)
    differences, definitions_changed = live_differences(snapshot)
    context = {
        "snapshot": snapshot,
        "sections": snapshot_sections(snapshot),
        "period": week_period(snapshot.week),
        "differences": differences,
        "definitions_changed": definitions_changed,
        "replaced": list(
            MetricSnapshot.objects.filter(week=snapshot.week, replaced_at__isnull=False)
            .defer("sections")
            .select_related("made_by")
            .order_by("-made_at")
        ),
        "admin": has_role(request.user, Role.ADMIN),
    }
    return render(request, "reports/week.html", context)


@role_required(Role.ADMIN)
def week_recompute(request, monday):
    snapshot = _snapshot(monday)
    form = RecomputeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            week_freeze(snapshot.week, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"The week of {snapshot.week:%-d %b %Y} is counted again; the figures it replaces are kept.",
            )
            return redirect("reports:week", monday=snapshot.week.isoformat())
    return render(
        request,
        "reports/week_recompute.html",
        {"snapshot": snapshot, "form": form},
        status=400 if form.errors else 200,
    )


@role_required(*WEEK_READERS)
def week_csv(request, monday):
    snapshot = _snapshot(monday)
    return stream_csv(
        filename=f"support-week-{snapshot.week.isoformat()}.csv",
        header=FIGURE_HEADER,
        rows=snapshot_rows(snapshot_sections(snapshot), week_period(snapshot.week)),
    )


@role_required(*WEEK_READERS)
def week_json(request, monday):
    snapshot = _snapshot(monday)
    data = {
        "week": snapshot.week.isoformat(),
        "time_zone": snapshot.time_zone,
        "starts_at": snapshot.starts_at.isoformat(),
        "ends_at": snapshot.ends_at.isoformat(),
        "definitions_version": snapshot.definitions_version,
        "frozen_at": snapshot.made_at.isoformat(),
        "frozen_by": snapshot.made_by.username if snapshot.made_by else "schedule",
        "recompute_reason": snapshot.reason,
        "items": snapshot.items,
        "sections": snapshot.sections,
    }
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="support-week-{snapshot.week.isoformat()}.json"'
    return response


@role_required(Role.ADMIN)
@require_POST
def recipient_add(request):
    form = RecipientForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"].lower()
        _, added = WeeklyMailRecipient.objects.get_or_create(
            email=email, defaults={"added_by": request.user, "added_at": timezone.now()}
        )
        messages.success(
            request,
            f"{email} gets the weekly e-mail from next week." if added else f"{email} gets it already.",
        )
        return redirect("reports:weeks")
    return weeks(request, recipient_form=form)


@role_required(Role.ADMIN)
@require_POST
def recipient_remove(request, pk):
    recipient = get_object_or_404(WeeklyMailRecipient, pk=pk)
    recipient.delete()
    messages.success(request, f"{recipient.email} no longer gets the weekly e-mail.")
    return redirect("reports:weeks")


@role_required(Role.ADMIN)
@require_POST
def mail_retry_view(request, pk):
    mail = get_object_or_404(WeeklyMail, pk=pk)
    mail_retry(mail=mail)
    messages.success(
        request,
        f"The e-mail to {mail.email} for the week of {mail.week:%-d %b} is sent again within the hour.",
    )
    return redirect("reports:weeks")
