from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.selectors import market_holdings
from disputes import selectors, services
from disputes.case_forms import CaseBulkForm
from disputes.filters import MarketFilter
from disputes.forms import ClarificationForm, ManualMarketForm, ManualRulesForm, MarketImportForm, RulesAtForm
from disputes.models import Decision, DisputeCase
from disputes.radar.links import market_radar
from disputes.selectors import MARKET_WRITERS, RULE_READERS
from disputes.services.cases import cases_bulk_assign, cases_bulk_transition
from disputes.tables import MarketCaseTable, MarketTable
from portal.forms import add_service_errors
from portal.roles import has_role, role_required
from portal.search import normalise_query
from portal.tables import configure_table
from portal.textdiff import diff_html, diff_stats


@role_required(*RULE_READERS)
def market_list(request, *, import_form=None, status=200):
    query = normalise_query(request.GET.get("q"))
    market_filter = MarketFilter(request.GET, queryset=selectors.market_list(query=query))
    valid = market_filter.is_valid()
    markets = market_filter.qs if valid else market_filter.queryset.none()
    table = configure_table(request, MarketTable(markets))
    context = {
        "table": table,
        "filter": market_filter,
        "query": query,
        "can_write": has_role(request.user, *MARKET_WRITERS),
        "import_form": import_form or MarketImportForm(),
    }
    return render(request, "disputes/market_list.html", context, status=status if valid else 400)


@require_POST
@role_required(*MARKET_WRITERS)
def market_import(request):
    form = MarketImportForm(request.POST)
    if form.is_valid():
        try:
            imported = services.markets_import(reference=form.cleaned_data["reference"], by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            created = sum(i.created for i in imported)
            messages.success(
                request,
                f"Imported {len(imported)} market{'s' if len(imported) != 1 else ''} "
                f"({created} new, {sum(i.new_version for i in imported)} with new rules).",
            )
            if len(imported) == 1:
                return redirect("disputes:market_detail", imported[0].market.pk)
            return redirect("disputes:market_list")
    return market_list(request, import_form=form, status=400)


@role_required(*MARKET_WRITERS)
def market_new(request):
    form = ManualMarketForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            market = services.market_create_manual(
                by=request.user,
                question=data["question"],
                rules_text=data["rules_text"],
                resolution_source=data["resolution_source"],
                outcomes=data["outcomes"].splitlines(),
                end_date=data["end_date"],
                venue=data["venue"],
                slug=data["slug"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Market created with its rules as version 1.")
            return redirect("disputes:market_detail", market.pk)
    return render(request, "disputes/market_form.html", {"form": form}, status=400 if form.errors else 200)


@role_required(*RULE_READERS)
def market_detail(request, pk, *, clarification_form=None, status=200):
    market = selectors.market_get_for_user(user=request.user, pk=pk)
    at_form = RulesAtForm(request.GET if "at" in request.GET else None)
    rules_at = (
        selectors.rules_at(market, at_form.cleaned_data["at"])
        if at_form.is_bound and at_form.is_valid()
        else None
    )
    can_write = has_role(request.user, *MARKET_WRITERS)
    outcomes = {
        Decision.Outcome(outcome).label: count for outcome, count in selectors.market_outcomes(market).items()
    }
    context = {
        "market": market,
        "versions": selectors.rule_versions(market),
        "clarifications": list(market.clarification_records.select_related("recorded_by")),
        "cases_table": configure_table(
            request, MarketCaseTable(selectors.case_list().filter(market=market), selectable=can_write)
        ),
        "outcomes": outcomes,
        "outcomes_disagree": len(outcomes) > 1,
        "bulk_form": CaseBulkForm(),
        "can_write": can_write,
        "clarification_form": clarification_form
        or ClarificationForm(initial={"published_at": timezone.localtime()}),
        "at_form": at_form,
        "rules_at": rules_at,
        "holdings": market_holdings(market.condition_id) if market.condition_id else [],
        "signals": market_radar(market),
    }
    return render(request, "disputes/market_detail.html", context, status=status)


@require_POST
@role_required(*MARKET_WRITERS)
def market_clarify(request, pk):
    market = selectors.market_get_for_user(user=request.user, pk=pk, to_change=True)
    form = ClarificationForm(request.POST)
    if form.is_valid():
        try:
            services.clarification_record(market=market, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Clarification recorded; the rules have a new version.")
            return redirect("disputes:market_detail", market.pk)
    return market_detail(request, pk, clarification_form=form, status=400)


@role_required(*MARKET_WRITERS)
def market_rules_edit(request, pk):
    """New rules text for a hand-entered (US venue) market; imported markets take theirs from
    Polymarket and get clarifications instead."""
    market = selectors.market_get_for_user(user=request.user, pk=pk, to_change=True)
    if market.source != market.Source.MANUAL:
        raise Http404("Only hand-entered markets have rules edited here.")
    current = market.current_version
    initial = (
        {"rules_text": current.rules_text, "resolution_source": current.resolution_source} if current else {}
    )
    form = ManualRulesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.market_rules_update(market=market, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Saved as a new version of the rules." if changed else "No changes to save."
            )
            return redirect("disputes:market_detail", market.pk)
    context = {"form": form, "market": market}
    return render(request, "disputes/market_rules_form.html", context, status=400 if form.errors else 200)


def pick_versions(request, versions):
    """The two versions `?from=<n>&to=<n>` names, or 404."""
    by_number = {v.number: v for v in versions}
    try:
        old = by_number[int(request.GET.get("from", ""))]
        new = by_number[int(request.GET.get("to", ""))]
    except (KeyError, ValueError):
        raise Http404("Choose two existing versions to compare.") from None
    return old, new


@role_required(*RULE_READERS)
def market_diff(request, pk):
    market = selectors.market_get_for_user(user=request.user, pk=pk)
    old, new = pick_versions(request, selectors.rule_versions(market))
    context = {
        "market": market,
        "old": old,
        "new": new,
        "diff": diff_html(old.full_text, new.full_text),
        "stats": diff_stats(old.full_text, new.full_text),
    }
    return render(request, "disputes/market_diff.html", context)


@require_POST
@role_required(*MARKET_WRITERS)
def market_cases_bulk(request, pk):
    market = selectors.market_get_for_user(user=request.user, pk=pk, to_change=True)
    form = CaseBulkForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ids = [case.pk for case in data["selected"] if case.market_id == market.pk]
        try:
            if data["action"] == "assign":
                changed = cases_bulk_assign(case_ids=ids, by=request.user, assignee=data["assignee"])
                who = data["assignee"].display_name if data["assignee"] else "nobody"
                messages.success(request, f"{changed} case{'s' if changed != 1 else ''} assigned to {who}.")
            else:
                changed = cases_bulk_transition(
                    case_ids=ids, by=request.user, to=data["to"], reason=data["reason"]
                )
                label = DisputeCase.Status(data["to"]).label.lower()
                messages.success(request, f"{changed} case{'s' if changed != 1 else ''} moved to {label}.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, " ".join(msg for errors in form.errors.values() for msg in errors))
    return redirect(reverse("disputes:market_detail", args=[market.pk]) + "#cases-heading")
