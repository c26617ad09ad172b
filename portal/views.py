from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.forms import PreferencesForm
from portal.health import health_report
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
        user_update_preferences(user=request.user, **form.cleaned_data)
        messages.success(request, "Your preferences are saved.")
        return redirect("preferences")
    return render(request, "portal/preferences.html", {"form": form})


@login_not_required
@never_cache
@require_GET
def healthz(request):
    body, status = health_report()
    return JsonResponse(body, status=status)


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
