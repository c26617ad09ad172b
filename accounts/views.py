from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.filters import AccountFilter
from accounts.forms import (
    AccountForm,
    CheckInForm,
    PortfolioReassignForm,
    ReassignForm,
    SnoozeForm,
    WalletForm,
)
from accounts.models import CheckIn, Wallet
from accounts.selectors import ACCOUNT_PANELS, ACCOUNT_READERS, ACCOUNT_WRITERS
from accounts.tables import ACCOUNT_COLUMNS, AccountTable
from accounts.template_context import account_template_context
from accounts.wallet_panel import wallet_panel, wallet_panel_request_refresh
from integrations.selectors import account_sync_state
from playbooks.contexts import specialist_context
from playbooks.drafts import chosen_template, draft_from, offered_templates
from playbooks.services import template_use_record
from portal.columns import csv_response
from portal.forms import add_service_errors
from portal.page_panels import page_panels
from portal.redirects import next_url
from portal.roles import Role, has_role, role_required, user_roles
from portal.search import normalise_query
from portal.tables import configure_table

CHECK_IN_SCRIPTS = "check_in"


def _filter_data(request):
    """The filters as submitted; a Specialist who has not chosen an owner sees their own book."""
    data = request.GET.copy()
    if "owner" not in data and Role.SPECIALIST in user_roles(request.user):
        data["owner"] = str(request.user.pk)
    return data


@role_required(*ACCOUNT_READERS)
def account_list(request):
    query = normalise_query(request.GET.get("q"))
    account_filter = AccountFilter(_filter_data(request), queryset=selectors.account_list(query=query))
    valid = account_filter.is_valid()
    accounts = account_filter.qs if valid else account_filter.queryset.none()
    if request.GET.get("export") == "csv" and valid:
        return _export_csv(accounts)
    can_write = has_role(request.user, *ACCOUNT_WRITERS)
    table = configure_table(request, AccountTable(accounts, selectable=can_write))
    context = {"table": table, "filter": account_filter, "query": query, "can_write": can_write}
    if can_write:
        context["reassign_form"] = ReassignForm()
    return render(request, "accounts/account_list.html", context, status=200 if valid else 400)


def _export_csv(accounts):
    return csv_response(
        filename="accounts.csv", queryset=accounts.order_by("display_name", "pk"), columns=ACCOUNT_COLUMNS
    )


def _record_script_use(user, account, script, check_in) -> None:
    """Keep the script text used for this check-in with its template version (re-rendered
    here, not taken from the page)."""
    draft = draft_from(script, _script_context(user, account))
    if not draft.problems:
        template_use_record(
            revision=draft.revision,
            by=user,
            subject_kind="check_in",
            subject_ref=str(check_in.pk),
            drafted_body=draft.body,
            used_body=draft.body,
        )


def _check_in_script(request, account, raw_pk) -> dict:
    """The check-in scripts on offer and, when one is chosen, its text for this account."""
    chosen = chosen_template(CHECK_IN_SCRIPTS, raw_pk)
    return {
        "scripts": offered_templates(CHECK_IN_SCRIPTS),
        "script": draft_from(chosen, _script_context(request.user, account)) if chosen else None,
    }


def _script_context(user, account) -> dict:
    due = account.next_check_in_due
    return {
        **specialist_context(user),
        "account": account_template_context(account),
        "check_in": {"next_due": f"{due.day} {due:%B %Y}" if due else "", "channel": "Intercom"},
    }


@role_required(*ACCOUNT_READERS)
def account_detail(request, pk, *, check_in_form=None, snooze_form=None, wallet_form=None, status=200):
    account = selectors.account_get_for_user(user=request.user, pk=pk)
    can_write = has_role(request.user, *ACCOUNT_WRITERS)
    panel = wallet_panel(account)
    wallet_panel_request_refresh(account, panel=panel)
    context = {
        "account": account,
        "can_write": can_write,
        "timeline": selectors.account_timeline(account),
        "follow_ups": selectors.open_follow_ups(account),
        "health_trend": selectors.health_trend(account),
        "wallet_panel": panel,
        "check_in_form": check_in_form or CheckInForm(),
        **(_check_in_script(request, account, request.GET.get("script")) if can_write else {}),
        "snooze_form": snooze_form or SnoozeForm(),
        "wallet_form": wallet_form or WalletForm(),
        "intercom_sync": account_sync_state(account),
        "account_panels": page_panels(ACCOUNT_PANELS, obj=account, user=request.user),
    }
    return render(request, "accounts/account_detail.html", context, status=status)


@role_required(*ACCOUNT_WRITERS)
def account_new(request):
    form = AccountForm(request.POST if request.method == "POST" else None, with_wallets=True)
    if request.method == "POST" and form.is_valid():
        data = services.AccountInput(**form.account_fields(), wallets=form.cleaned_data["wallets"])
        try:
            account = services.account_create(by=request.user, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{account.display_name} is in {account.owner.display_name}’s portfolio."
            )
            return redirect("accounts:detail", account.pk)
    return render(request, "accounts/account_form.html", {"form": form}, status=400 if form.errors else 200)


@role_required(*ACCOUNT_WRITERS)
def account_edit(request, pk):
    account = selectors.account_get_for_user(user=request.user, pk=pk, to_change=True)
    form = AccountForm(request.POST if request.method == "POST" else None, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(account=account, by=request.user, changes=form.account_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("accounts:detail", account.pk)
    account.refresh_from_db()
    context = {"form": form, "account": account}
    return render(request, "accounts/account_form.html", context, status=400 if form.errors else 200)


@require_POST
@role_required(*ACCOUNT_WRITERS)
def check_in_new(request, pk):
    account = selectors.account_get_for_user(user=request.user, pk=pk, to_change=True)
    form = CheckInForm(request.POST)
    script = chosen_template(CHECK_IN_SCRIPTS, request.POST.get("script"))
    if form.is_valid():
        try:
            with transaction.atomic():
                check_in = services.check_in_log(account=account, by=request.user, **form.cleaned_data)
                if script is not None:
                    _record_script_use(request.user, account, script, check_in)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Check-in logged.")
            return redirect("accounts:detail", account.pk)
    return account_detail(request, pk, check_in_form=form, status=400)


@role_required(*ACCOUNT_WRITERS)
def check_in_edit(request, pk):
    check_in = selectors.check_in_get_for_user(user=request.user, pk=pk)
    form = CheckInForm(request.POST if request.method == "POST" else None, instance=check_in)
    if request.method == "POST" and form.is_valid():
        try:
            services.check_in_update(check_in=check_in, by=request.user, changes=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Check-in updated.")
            return redirect("accounts:detail", check_in.account_id)
    context = {"form": form, "check_in": check_in, "account": check_in.account}
    return render(request, "accounts/check_in_form.html", context, status=400 if form.errors else 200)


@require_POST
@role_required(*ACCOUNT_WRITERS)
def check_in_delete(request, pk):
    check_in = selectors.check_in_get_for_user(user=request.user, pk=pk)
    account_pk = check_in.account_id
    services.check_in_delete(check_in=check_in, by=request.user)
    messages.success(request, "Check-in deleted; the account’s dates are recomputed.")
    return redirect("accounts:detail", account_pk)


@require_POST
@role_required(*ACCOUNT_WRITERS)
def follow_up_done(request, pk):
    check_in = get_object_or_404(CheckIn, pk=pk)
    selectors.account_get_for_user(user=request.user, pk=check_in.account_id, to_change=True)
    try:
        services.follow_up_complete(check_in=check_in, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Follow-up done: {check_in.follow_up}")
    return redirect(next_url(request, default=reverse("accounts:detail", args=[check_in.account_id])))


@require_POST
@role_required(*ACCOUNT_WRITERS)
def account_snooze(request, pk):
    account = selectors.account_get_for_user(user=request.user, pk=pk, to_change=True)
    form = SnoozeForm(request.POST)
    if form.is_valid():
        try:
            account = services.account_snooze(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Check-in snoozed until {account.next_check_in_due:%d %b}.")
            return redirect("accounts:detail", account.pk)
    return account_detail(request, pk, snooze_form=form, status=400)


@require_POST
@role_required(*ACCOUNT_WRITERS)
def wallet_new(request, pk):
    account = selectors.account_get_for_user(user=request.user, pk=pk, to_change=True)
    form = WalletForm(request.POST)
    if form.is_valid():
        data = services.WalletInput(**form.cleaned_data)
        try:
            wallet = services.wallet_add(account=account, by=request.user, data=data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Wallet {wallet.checksum_address} added.")
            return redirect("accounts:detail", account.pk)
    return account_detail(request, pk, wallet_form=form, status=400)


@require_POST
@role_required(*ACCOUNT_WRITERS)
def wallet_remove(request, pk, wallet_pk):
    account = selectors.account_get_for_user(user=request.user, pk=pk, to_change=True)
    wallet = get_object_or_404(Wallet, pk=wallet_pk, account=account)
    services.wallet_remove(wallet=wallet, by=request.user)
    messages.success(request, "Wallet removed.")
    return redirect("accounts:detail", account.pk)


@require_POST
@role_required(*ACCOUNT_WRITERS)
def accounts_reassign(request):
    form = ReassignForm(request.POST)
    if form.is_valid():
        try:
            moved = services.accounts_reassign(
                accounts=form.cleaned_data["selected"],
                to=form.cleaned_data["to"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"{moved} account{'s' if moved != 1 else ''} moved to {form.cleaned_data['to'].display_name}.",
            )
    else:
        messages.error(request, " ".join(msg for errors in form.errors.values() for msg in errors))
    return redirect(next_url(request, default=reverse("accounts:list")))


@role_required(*ACCOUNT_WRITERS)
def portfolio_reassign(request):
    form = PortfolioReassignForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                moved = services.portfolio_reassign(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            data = form.cleaned_data
            messages.success(
                request,
                f"{moved} account{'s' if moved != 1 else ''} moved from {data['from_owner'].display_name} to {data['to'].display_name}.",
            )
            return redirect(reverse("accounts:list") + f"?owner={data['to'].pk}")
    return render(
        request, "accounts/portfolio_reassign.html", {"form": form}, status=400 if form.errors else 200
    )
