from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.forms import AwayForm, PreferencesForm, WorkingHoursForm, add_service_errors
from portal.health import bearer_token_matches, health_report, probe_report, ready_report
from portal.myday import my_day
from portal.redirects import next_url
from portal.roles import ALL_ROLES, role_required
from portal.search import normalise_query, providers_for, search_everything
from portal.services import user_set_away, user_set_working_hours, user_update_preferences


@role_required(*ALL_ROLES)
def home(request):
    panels, applicable = my_day(request.user)
    return render(request, "portal/home.html", {"panels": panels, "applicable_panels": applicable})


@role_required(*ALL_ROLES)
@require_GET
def search(request):
    query = normalise_query(request.GET.get("q"))
    outcome = search_everything(user=request.user, query=query)
    if outcome.only_exact_match:
        return redirect(outcome.only_exact_match.url)
    providers = providers_for(request.user)
    return render(request, "portal/search.html", {"outcome": outcome, "providers": providers})


def preferences(request):
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user_update_preferences(user=request.user, **form.cleaned_data)
        except ValidationError as error:  # the address was taken since the form checked it
            add_service_errors(form, error)
        else:
            messages.success(request, "Your preferences are saved.")
            return redirect("preferences")
    return _preferences_page(request, form=form, hours_form=WorkingHoursForm(user=request.user))


def _preferences_page(request, *, form, hours_form):
    context = {"form": form, "hours_form": hours_form, "away_form": AwayForm()}
    status = 400 if hours_form.errors else 200
    return render(request, "portal/preferences.html", context, status=status)


@require_POST
def working_hours(request):
    hours_form = WorkingHoursForm(request.POST, user=request.user)
    if hours_form.is_valid():
        try:
            user_set_working_hours(user=request.user, days=hours_form.days())
        except ValidationError as error:
            add_service_errors(hours_form, error)
        else:
            messages.success(request, "Your working hours are saved.")
            return redirect("preferences")
    return _preferences_page(request, form=PreferencesForm(instance=request.user), hours_form=hours_form)


@require_POST
def away(request):
    """The header's toggle: away (with an optional return time) or back."""
    form = AwayForm(request.POST)
    going_away = request.POST.get("away") == "1"
    if form.is_valid():
        try:
            user_set_away(user=request.user, away=going_away, until=form.cleaned_data["until"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                "You are marked away: nothing new is routed to you." if going_away else "Welcome back.",
            )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(next_url(request, default="/"))


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """The load balancer's probe: one cheap query, no sign-in, plain HTTP allowed
    (SECURE_REDIRECT_EXEMPT). `?detail` adds the task queue and the Intercom outbox, for Admins
    and for monitoring that sends `Authorization: Bearer <HEALTHZ_TOKEN>`, over HTTPS only."""
    if "detail" not in request.GET:
        body, status = probe_report()
        return JsonResponse(body, status=status)
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return HttpResponsePermanentRedirect(f"https://{request.get_host()}{request.get_full_path()}")
    if not _may_read_health_detail(request):
        return JsonResponse(
            {"error": "The detail is for Admins and for monitoring with HEALTHZ_TOKEN."}, status=403
        )
    body, status = health_report()
    return JsonResponse(body, status=status)


@login_not_required
@never_cache
@require_GET
def healthz_ready(request):
    """A deploy's readiness gate: the probe's checks, every migration applied and the cache
    answering; 503 until then. Anonymous and over plain HTTP like /healthz; says only what is
    ready, nothing of the data."""
    body, status = ready_report()
    return JsonResponse(body, status=status)


@login_not_required
@never_cache
@require_GET
def metrics(request):
    """Prometheus's scrape (portal.metrics): for METRICS_TOKEN or METRICS_ALLOWED_NETWORKS only."""
    from portal.metrics import CONTENT_TYPE, may_scrape, metrics_text

    if not may_scrape(request):
        return JsonResponse(
            {"error": "Metrics are for a METRICS_TOKEN or METRICS_ALLOWED_NETWORKS."}, status=403
        )
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE)


def _may_read_health_detail(request) -> bool:
    if bearer_token_matches(request, settings.HEALTHZ_TOKEN):
        return True
    return request.user.is_authenticated and request.user.is_staff


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
