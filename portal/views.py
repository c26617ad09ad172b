import hmac

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.forms import PreferencesForm, add_service_errors
from portal.health import health_report, probe_report
from portal.myday import my_day
from portal.roles import ALL_ROLES, role_required
from portal.search import normalise_query, providers_for, search_everything
from portal.services import user_update_preferences


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
    return render(request, "portal/preferences.html", {"form": form})


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


def _may_read_health_detail(request) -> bool:
    token = settings.HEALTHZ_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if (
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    ):
        return True
    return request.user.is_authenticated and request.user.is_staff


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
