from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.models import Venue
from disputes import selectors, services
from disputes.forms import RulebookSectionForm
from disputes.selectors import RULE_READERS, RULEBOOK_EDITORS
from disputes.views.markets import pick_versions
from portal.forms import add_service_errors
from portal.roles import has_role, role_required
from portal.textdiff import diff_html, diff_stats


@role_required(*RULE_READERS)
def rulebook(request):
    venue = request.GET.get("venue") if request.GET.get("venue") in Venue.values else Venue.INTERNATIONAL
    context = {
        "venue": venue,
        "venues": Venue.choices,
        "sections": list(selectors.rulebook(venue=venue)),
        "can_edit": has_role(request.user, *RULEBOOK_EDITORS),
    }
    return render(request, "disputes/rulebook.html", context)


@role_required(*RULE_READERS)
def rulebook_section(request, pk):
    section = selectors.rulebook_section_get_for_user(user=request.user, pk=pk)
    versions = list(section.versions.select_related("recorded_by").order_by("-number"))
    diff = None
    if "from" in request.GET:
        old, new = pick_versions(request, versions)
        diff = {
            "old": old,
            "new": new,
            "html": diff_html(old.body, new.body),
            "stats": diff_stats(old.body, new.body),
        }
    context = {
        "section": section,
        "versions": versions,
        "diff": diff,
        "can_edit": has_role(request.user, *RULEBOOK_EDITORS),
    }
    return render(request, "disputes/rulebook_section.html", context)


@role_required(*RULEBOOK_EDITORS)
def rulebook_section_edit(request, pk=None):
    section = (
        selectors.rulebook_section_get_for_user(user=request.user, pk=pk, to_change=True) if pk else None
    )
    initial = {"effective_from": timezone.localdate()}
    if section is not None:
        current = section.current_version
        initial.update(
            venue=section.venue,
            number=section.number,
            title=section.title,
            body=current.body if current else "",
        )
    form = RulebookSectionForm(request.POST if request.method == "POST" else None, initial=initial)
    if section is not None:
        form.fields["venue"].disabled = form.fields["number"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            section, changed = services.rulebook_section_save(
                by=request.user, section=section, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved as a new version." if changed else "No changes to save.")
            return redirect("disputes:rulebook_section", section.pk)
    context = {"form": form, "section": section}
    return render(request, "disputes/rulebook_form.html", context, status=400 if form.errors else 200)
