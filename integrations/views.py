from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from integrations import selectors, services
from integrations.models import SyncJob
from portal.roles import Role, role_required

SYNC_READERS = (Role.ADMIN, Role.SPECIALIST)


@role_required(*SYNC_READERS)
def sync(request):
    context = {
        "overview": selectors.sync_overview(),
        "intercom_enabled": settings.INTERCOM_ENABLED,
        "dead_list_limit": selectors.DEAD_LIST_LIMIT,
    }
    return render(request, "integrations/sync.html", context)


@require_POST
@role_required(*SYNC_READERS)
def sync_retry(request, pk):
    job = get_object_or_404(SyncJob, pk=pk)
    result = services.sync_job_retry(job=job, by=request.user)
    if result.outcome == services.RETRIED:
        messages.success(request, f"{job.kind} for {job.key} will be sent again.")
    elif result.outcome == services.SUPERSEDED:
        if result.newer is not None and result.newer.status == SyncJob.Status.DONE:
            messages.info(
                request,
                "A newer change for this contact has already been delivered; it carried the latest "
                "data, so this one was closed.",
            )
        else:
            messages.info(
                request, "A newer change for this contact is already waiting; it carries the latest data."
            )
    else:
        messages.info(request, "That change is no longer waiting for a retry.")
    return redirect("integrations:sync")


@require_POST
@role_required(*SYNC_READERS)
def sync_retry_all(request):
    result = services.sync_jobs_retry_dead(by=request.user)
    retried, superseded = result[services.RETRIED], result[services.SUPERSEDED]
    if not retried and not superseded:
        messages.info(request, "No changes were waiting for a retry.")
    else:
        text = f"{retried} change{'s' if retried != 1 else ''} will be sent again."
        if superseded:
            text += (
                f" {superseded} had a newer change for the same contact, which carries the latest "
                "data, and were closed."
            )
        messages.success(request, text)
    return redirect("integrations:sync")
