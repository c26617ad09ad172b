from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from playbooks import selectors, services
from playbooks.contexts import context_for, context_sources, preview_context
from playbooks.filters import PlaybookFilter
from playbooks.forms import PlaybookEditForm, PlaybookForm, PreviewForm, TemplateForm
from playbooks.markdown import rendered_revision
from playbooks.models import Playbook, PlaybookRevision, ResponseTemplate, TemplateRevision
from playbooks.rendering import TemplateProblem, placeholder_help, render_preview, render_template
from playbooks.selectors import PLAYBOOK_EDITORS, PLAYBOOK_READERS, can_edit
from playbooks.tables import PlaybookTable, TemplateTable
from portal.forms import add_service_errors
from portal.roles import role_required
from portal.search import normalise_query
from portal.tables import configure_table
from portal.textdiff import diff_html, diff_stats


@role_required(*PLAYBOOK_READERS)
def playbook_list(request):
    query = normalise_query(request.GET.get("q"))
    base = selectors.playbook_search(selectors.visible_playbooks(request.user), query)
    playbook_filter = PlaybookFilter(request.GET, queryset=base, request=request)
    valid = playbook_filter.is_valid()
    playbooks = playbook_filter.qs if valid else base.none()
    table = configure_table(request, PlaybookTable(playbooks, ranked=bool(query)))
    context = {"table": table, "filter": playbook_filter, "query": query, "can_edit": can_edit(request.user)}
    return render(request, "playbooks/playbook_list.html", context, status=200 if valid else 400)


@role_required(*PLAYBOOK_EDITORS)
def playbook_new(request):
    form = PlaybookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            playbook = services.playbook_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"“{playbook.title}” saved as a draft. Publish it when it is ready.")
            return redirect("playbooks:detail", playbook.slug)
    return render(request, "playbooks/playbook_form.html", {"form": form}, status=400 if form.errors else 200)


@role_required(*PLAYBOOK_READERS)
def playbook_detail(request, slug):
    playbook = selectors.playbook_get_for_user(user=request.user, slug=slug)
    rendered = rendered_revision(playbook)
    context = {
        "playbook": playbook,
        "rendered": rendered,
        "templates": list(
            selectors.templates_visible(request.user).filter(playbook=playbook).order_by("name")
        ),
        "can_edit": can_edit(request.user),
    }
    return render(request, "playbooks/playbook_detail.html", context)


@role_required(*PLAYBOOK_EDITORS)
def playbook_edit(request, slug):
    playbook = selectors.playbook_get_for_user(user=request.user, slug=slug, to_change=True)
    initial = {
        "title": playbook.title,
        "category": playbook.category,
        "owner": playbook.owner_id,
        "review_interval_days": playbook.review_interval_days,
        "body": playbook.current_body,
        "based_on": playbook.revision_count,
    }
    form = PlaybookEditForm(request.POST if request.method == "POST" else None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            revision = services.playbook_revise(playbook=playbook, by=request.user, **data)
        except services.StaleEdit as stale:
            conflict = _conflict(playbook, data["based_on"], stale.current, data["body"])
            form.add_error(None, stale.messages[0])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Saved as revision {revision.number}." if revision else "Nothing changed in the text.",
            )
            return redirect("playbooks:detail", playbook.slug)
    context = {"form": form, "playbook": playbook, "conflict": conflict}
    return render(
        request,
        "playbooks/playbook_edit.html",
        context,
        status=409 if conflict else 400 if form.errors else 200,
    )


def _conflict(versioned, based_on: int, current, my_text: str) -> dict:
    """What the other person changed since the editor opened the page, and how the editor's
    text differs from theirs, so nothing is lost and merging is easy. `versioned` is a playbook
    or a response template (both keep numbered `revisions` with a `body`)."""
    opened = versioned.revisions.filter(number=based_on).first()
    opened_text = opened.body if opened else ""
    return {
        "current": current,
        "their_change": diff_html(opened_text, current.body),
        "mine_vs_theirs": diff_html(current.body, my_text),
    }


@role_required(*PLAYBOOK_READERS)
def playbook_history(request, slug):
    playbook = selectors.playbook_get_for_user(user=request.user, slug=slug)
    context = {
        "playbook": playbook,
        "revisions": selectors.revisions(playbook),
        "can_edit": can_edit(request.user),
    }
    return render(request, "playbooks/playbook_history.html", context)


def _pick_pair(request, latest: int) -> tuple[int, int]:
    def number(name, default):
        raw = request.GET.get(name, "")
        if raw == "":
            return default
        if not raw.isdigit() or len(raw) > 9:
            raise ValueError
        return int(raw)

    return number("from", max(1, latest - 1)), number("to", latest)


@role_required(*PLAYBOOK_READERS)
def playbook_diff(request, slug):
    playbook = selectors.playbook_get_for_user(user=request.user, slug=slug)
    try:
        old_number, new_number = _pick_pair(request, playbook.revision_count)
    except ValueError:
        return render(
            request,
            "playbooks/diff.html",
            {"playbook": playbook, "error": "Choose two revision numbers."},
            status=400,
        )
    old = selectors.revision_get(playbook, old_number)
    new = selectors.revision_get(playbook, new_number)
    context = {
        "playbook": playbook,
        "old": old,
        "new": new,
        "diff": diff_html(old.body, new.body),
        "stats": diff_stats(old.body, new.body),
        "numbers": range(1, playbook.revision_count + 1),
    }
    return render(request, "playbooks/diff.html", context)


@dataclass(frozen=True)
class Reverting:
    """What differs between bringing back an old playbook text and an old template text."""

    get_for_user: Callable[..., Playbook | ResponseTemplate]
    # The service; it takes the parent by its revisions' `parent_field` name, `by` and `revision`.
    revert: Callable[..., PlaybookRevision | TemplateRevision]
    done: str  # the success message, with the {old} and {new} revision numbers
    history: str  # the history page's URL name; it takes the same `slug` or `pk` as the revert URL


REVERTING = {
    "playbook": Reverting(
        get_for_user=selectors.playbook_get_for_user,
        revert=services.playbook_revert,
        done="Revision {old} is the current text again (saved as revision {new}).",
        history="playbooks:history",
    ),
    "template": Reverting(
        get_for_user=selectors.template_get_for_user,
        revert=services.template_revert,
        done="Revision {old} is current again (saved as revision {new}).",
        history="playbooks:template_history",
    ),
}


@require_POST
@role_required(*PLAYBOOK_EDITORS)
def revision_revert(request, kind, number, **key):
    """Bring back revision `number` of a playbook (`slug`) or a template (`pk`) as a new revision
    and go back to its history. `kind`, "playbook" or "template", is set by the URL pattern."""
    reverting = REVERTING[kind]
    parent = reverting.get_for_user(user=request.user, to_change=True, **key)
    revisions = parent.revisions
    revision = get_object_or_404(revisions, number=number)
    try:
        new = reverting.revert(**{revisions.model.parent_field: parent}, by=request.user, revision=revision)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, reverting.done.format(old=revision.number, new=new.number))
    return redirect(reverting.history, **key)


@require_POST
@role_required(*PLAYBOOK_EDITORS)
def playbook_status(request, slug):
    playbook = selectors.playbook_get_for_user(user=request.user, slug=slug, to_change=True)
    status = request.POST.get("status", "")
    if status == "reviewed":
        services.playbook_mark_reviewed(playbook=playbook, by=request.user)
        messages.success(request, "Marked as reviewed; the next review moves one interval on.")
    elif status in Playbook.Status.values:
        services.playbook_set_status(playbook=playbook, by=request.user, status=status)
        messages.success(request, f"The playbook is now {Playbook.Status(status).label.lower()}.")
    else:
        messages.error(request, "Choose publish, archive, back to draft or reviewed.")
    return redirect("playbooks:detail", playbook.slug)


@role_required(*PLAYBOOK_READERS)
def template_list(request):
    templates = selectors.templates_visible(request.user)
    serves = request.GET.get("serves", "")
    if serves in ResponseTemplate.Serves.values:
        templates = templates.filter(serves=serves)
    table = configure_table(request, TemplateTable(templates))
    context = {
        "table": table,
        "serves": serves,
        "serves_choices": ResponseTemplate.Serves.choices,
        "can_edit": can_edit(request.user),
    }
    return render(request, "playbooks/template_list.html", context)


def _template_form_page(request, form, *, template=None, conflict=None, status=200):
    context = {
        "form": form,
        "template": template,
        "conflict": conflict,
        "placeholders": placeholder_help(),
        "preview": _safe_preview(form),
    }
    return render(request, "playbooks/template_form.html", context, status=status)


def _safe_preview(form):
    """The body rendered with sample data, when the posted text is valid (shown on errors too)."""
    body = form.data.get("body") if form.is_bound else (form.initial.get("body") or "")
    if not body:
        return None
    try:
        return render_preview(body)
    except (TemplateProblem, TypeError):
        return None


@role_required(*PLAYBOOK_EDITORS)
def template_new(request):
    initial = (
        {"playbook": request.GET.get("playbook")} if (request.GET.get("playbook") or "").isdigit() else {}
    )
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            template = services.template_create(
                by=request.user,
                name=data["name"],
                playbook=data["playbook"],
                serves=data["serves"],
                subject=data["subject"],
                body=data["body"],
                summary=data["summary"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Template “{template.name}” saved.")
            return redirect("playbooks:template_edit", template.pk)
    return _template_form_page(request, form, status=400 if form.errors else 200)


@role_required(*PLAYBOOK_EDITORS)
def template_edit(request, pk):
    template = selectors.template_get_for_user(user=request.user, pk=pk, to_change=True)
    current = template.current_revision
    initial = {
        "name": template.name,
        "playbook": template.playbook_id,
        "serves": template.serves,
        "subject": current.subject if current else "",
        "body": current.body if current else "",
        "is_active": template.is_active,
        "summary": "",
        "based_on": template.revision_count,
    }
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            revision = services.template_revise(
                template=template,
                by=request.user,
                subject=data["subject"],
                body=data["body"],
                summary=data["summary"],
                based_on=data["based_on"] if data["based_on"] is not None else -1,
                name=data["name"],
                serves=data["serves"],
                playbook=data["playbook"],
                is_active=data["is_active"],
            )
        except services.StaleEdit as stale:
            conflict = _conflict(template, data["based_on"] or 0, stale.current, data["body"])
            form.add_error(None, stale.messages[0])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Saved as revision {revision.number}." if revision else "Saved; the text did not change.",
            )
            return redirect("playbooks:template_edit", template.pk)
    status = 409 if conflict else 400 if form.errors else 200
    return _template_form_page(request, form, template=template, conflict=conflict, status=status)


@role_required(*PLAYBOOK_READERS)
def template_preview(request, pk):
    """The template filled from the real records chosen (an account, a case, a feedback item),
    with sample data for what they cannot supply, named as such; or from sample data alone."""
    template = selectors.template_get_for_user(user=request.user, pk=pk)
    revision = template.current_revision
    form = PreviewForm(request.GET or None)
    found = {}
    if form.is_bound and form.is_valid():
        for source in context_sources():
            reference = form.cleaned_data.get(source.key, "").strip()
            if not reference:
                continue
            parts = context_for(user=request.user, key=source.key, reference=reference)
            if parts is None:
                form.add_error(source.key, f"No {source.label.lower()} matches “{reference}”.")
            else:
                found[source.key] = (reference, parts)
    preview = preview_context(user=request.user, found=found, texts=(revision.subject, revision.body))
    subject = body = ""
    problem = None
    if not form.errors:
        try:
            subject = render_template(revision.subject, preview.data) if revision.subject else ""
            body = render_template(revision.body, preview.data)
        except TemplateProblem as error:
            problem = error.messages
    context = {
        "template": template,
        "revision": revision,
        "form": form,
        "subject": subject,
        "body": body,
        "preview": preview,
        "problem": problem,
        "can_edit": can_edit(request.user),
    }
    return render(request, "playbooks/template_preview.html", context, status=400 if form.errors else 200)


@role_required(*PLAYBOOK_READERS)
def template_history(request, pk):
    template = selectors.template_get_for_user(user=request.user, pk=pk)
    revisions = list(template.revisions.select_related("author").order_by("-number"))
    compare = None
    if "from" in request.GET or "to" in request.GET:
        try:
            old_number, new_number = _pick_pair(request, template.revision_count)
        except ValueError:
            old_number = new_number = None
        if old_number is not None:
            old = selectors.template_revision_get(template, old_number)
            new = selectors.template_revision_get(template, new_number)
            compare = {
                "old": old,
                "new": new,
                "diff": diff_html(f"{old.subject}\n\n{old.body}", f"{new.subject}\n\n{new.body}"),
            }
    context = {
        "template": template,
        "revisions": revisions,
        "compare": compare,
        "can_edit": can_edit(request.user),
    }
    return render(request, "playbooks/template_history.html", context)
