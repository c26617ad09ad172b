from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from feedback import selectors, services
from feedback.filters import FeedbackFilter
from feedback.forms import CommentForm, FeedbackForm, LinkAccountForm, MergeForm, TriageForm
from feedback.models import FeedbackItem, FeedbackSource, FollowUp
from feedback.selectors import FEEDBACK_CAPTURERS, FEEDBACK_READERS, FEEDBACK_TRIAGERS
from feedback.tables import FEEDBACK_COLUMNS, FeedbackTable
from portal.columns import csv_response
from portal.forms import add_service_errors
from portal.redirects import next_url
from portal.roles import Role, has_role, role_required
from portal.search import normalise_query
from portal.tables import configure_table

HISTORY_SHOWN = 50  # the newest; an item linked to hundreds of accounts has a "linked" event for each


def _filtered(request, *, open_only_by_default: bool = True):
    query = normalise_query(request.GET.get("q"))
    item_filter = FeedbackFilter(
        request.GET, queryset=selectors.item_list(query=query), open_only_by_default=open_only_by_default
    )
    valid = item_filter.is_valid()
    return query, item_filter, (item_filter.qs if valid else item_filter.queryset.none()), valid


@role_required(*FEEDBACK_READERS)
def item_list(request):
    query, item_filter, items, valid = _filtered(request)
    if request.GET.get("export") == "csv" and valid:
        return csv_response(
            filename="feedback.csv", queryset=items.order_by("-impact_score", "-pk"), columns=FEEDBACK_COLUMNS
        )
    table = configure_table(request, FeedbackTable(items))
    context = {
        "table": table,
        "filter": item_filter,
        "query": query,
        "can_capture": has_role(request.user, *FEEDBACK_CAPTURERS),
        "can_manage_areas": has_role(request.user, *FEEDBACK_TRIAGERS),
    }
    return render(request, "feedback/item_list.html", context, status=200 if valid else 400)


@role_required(*FEEDBACK_READERS)
def board(request):
    # Every status has its column, shipped and declined included.
    query, item_filter, items, valid = _filtered(request, open_only_by_default=False)
    context = {"columns": selectors.board_columns(items), "filter": item_filter, "query": query}
    return render(request, "feedback/board.html", context, status=200 if valid else 400)


@role_required(*FEEDBACK_CAPTURERS)
def item_new(request):
    """Quick capture: look for an existing item first, link the account to it, or log a new one."""
    initial = {
        key: request.GET[key]
        for key in ("account", "note", "intercom_conversation_id", "dispute_case")
        if key in request.GET
    }
    form = FeedbackForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.feedback_create(by=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Feedback #{item.pk} logged.")
            return redirect("feedback:detail", item.pk)
    search = normalise_query(
        request.GET.get("q") or (request.POST.get("title") if request.method == "POST" else "")
    )
    similar = (
        list(selectors.item_list(query=search).exclude(status="duplicate").order_by("-impact_score")[:8])
        if search
        else []
    )
    context = {
        "form": form,
        "similar": similar,
        "search": search,
        "account_ref": request.GET.get("account", ""),
    }
    return render(request, "feedback/item_form.html", context, status=400 if form.errors else 200)


@role_required(*FEEDBACK_READERS)
def item_detail(
    request, pk, *, triage_form=None, comment_form=None, link_form=None, merge_form=None, status=200
):
    item = selectors.feedback_item_get_for_user(user=request.user, pk=pk)
    context = {
        "item": item,
        "sources": selectors.item_sources(item),
        "events": list(reversed(item.events.select_related("actor").order_by("-at", "-pk")[:HISTORY_SHOWN])),
        "events_total": item.events.count(),
        "comments": list(item.comments.select_related("author")),
        "duplicates": list(item.duplicates.only("pk", "title")),
        "can_capture": has_role(request.user, *FEEDBACK_CAPTURERS),
        "account_url_prefix": reverse("accounts:list"),
        "item_url": reverse("feedback:detail", args=[item.pk]),
        "can_triage": has_role(request.user, *FEEDBACK_TRIAGERS),
        "can_comment": has_role(request.user, Role.SPECIALIST, Role.PRODUCT, Role.ADMIN),
        "can_link_accounts": has_role(request.user, Role.SPECIALIST, Role.LEADERSHIP, Role.ADMIN),
        "is_admin": has_role(request.user, Role.ADMIN),
        "triage_form": triage_form
        or TriageForm(
            initial={
                "status": item.status,
                "owner_team": item.owner_team,
                "area": item.area_id,
                "severity": item.severity,
                "tracker_url": item.tracker_url,
            }
        ),
        "comment_form": comment_form or CommentForm(),
        "link_form": link_form or LinkAccountForm(),
        "merge_form": merge_form or MergeForm(),
    }
    return render(request, "feedback/item_detail.html", context, status=status)


def _back(item):
    return redirect(reverse("feedback:detail", args=[item.pk]))


@require_POST
@role_required(*FEEDBACK_TRIAGERS)
def item_triage(request, pk):
    item = selectors.feedback_item_get_for_user(user=request.user, pk=pk)
    form = TriageForm(request.POST)
    if form.is_valid():
        try:
            services.item_triage(item=item, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Triage saved.")
            return _back(item)
    return item_detail(request, pk, triage_form=form, status=400)


@require_POST
@role_required(Role.SPECIALIST, Role.PRODUCT, Role.ADMIN)
def item_comment(request, pk):
    item = selectors.feedback_item_get_for_user(user=request.user, pk=pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        services.comment_add(item=item, by=request.user, body=form.cleaned_data["body"])
        return _back(item)
    return item_detail(request, pk, comment_form=form, status=400)


@require_POST
@role_required(*FEEDBACK_CAPTURERS)
def item_link(request, pk):
    item = selectors.feedback_item_get_for_user(user=request.user, pk=pk)
    form = LinkAccountForm(request.POST)
    if form.is_valid():
        try:
            services.source_link(
                item=item,
                account=form.cleaned_data["account"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['account'].display_name} linked.")
            return _back(item)
    return item_detail(request, pk, link_form=form, status=400)


@require_POST
@role_required(*FEEDBACK_CAPTURERS)
def item_unlink(request, pk, source_pk):
    item = selectors.feedback_item_get_for_user(user=request.user, pk=pk)
    source = get_object_or_404(FeedbackSource, pk=source_pk, item=item)
    services.source_unlink(source=source, by=request.user)
    messages.success(request, "Account unlinked.")
    return _back(item)


@require_POST
@role_required(Role.SPECIALIST, Role.PRODUCT, Role.ADMIN)
def item_merge(request, pk):
    item = selectors.feedback_item_get_for_user(user=request.user, pk=pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        into = FeedbackItem.objects.filter(pk=form.cleaned_data["into"]).first()
        if into is None:
            form.add_error("into", "No feedback item has that number.")
        else:
            try:
                services.item_merge(item=item, into=into, by=request.user)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Merged into #{into.pk}.")
                return redirect("feedback:detail", into.pk)
    return item_detail(request, pk, merge_form=form, status=400)


@require_POST
@role_required(Role.ADMIN)
def item_unmerge(request, pk):
    item = selectors.feedback_item_get_for_user(user=request.user, pk=pk)
    try:
        services.merge_undo(item=item, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Merge undone.")
    return _back(item)


@require_POST
@role_required(Role.SPECIALIST, Role.ADMIN)
def follow_up_done(request, pk):
    follow_up = get_object_or_404(FollowUp.objects.select_related("item"), pk=pk)
    try:
        services.follow_up_complete(
            follow_up=follow_up, by=request.user, summary=request.POST.get("summary", "")[:2000]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Done: a follow-up check-in was logged and Intercom gets a note.")
    return redirect(next_url(request, default=reverse("home")))
