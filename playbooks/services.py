"""Writes for playbooks and response templates. Every edit is a new immutable revision; an edit
made from an out-of-date page is refused with the other person's change, never overwritten."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from playbooks.models import Playbook, PlaybookRevision, ResponseTemplate, TemplateRevision, TemplateUse
from playbooks.rendering import validate_template
from portal.models import User
from portal.revisions import revision_add

MAX_BODY_BYTES = 200 * 1024
# Slugs that would shadow the app's own pages under /playbooks/.
RESERVED_SLUGS = frozenset({"new", "templates", "search", "edit", "history", "diff", "uses", "api"})
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class StaleEdit(ValidationError):
    """Someone saved a newer revision since the editor opened the page."""

    def __init__(self, *, current):
        super().__init__(
            f"{current.author.get_full_name() or current.author.username} saved revision {current.number} "
            f"while you were editing. Nothing of yours was saved: their change is shown below and your "
            f"text is still in the form. Merge what you need, then save again."
        )
        self.current = current


def _check_body(body: str, *, field: str = "body") -> str:
    body = (body or "").replace("\r\n", "\n")
    if not body.strip():
        raise ValidationError({field: "The text can’t be empty."})
    size = len(body.encode("utf-8"))
    if size > MAX_BODY_BYTES:
        raise ValidationError(
            {
                field: f"The text is {size / 1024:.0f} KB; the limit is {MAX_BODY_BYTES // 1024} KB. Split it up."
            }
        )
    if "\x00" in body:
        raise ValidationError({field: "The text contains a NUL character; paste it again as plain text."})
    return body


def _check_summary(summary: str) -> str:
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": "Say in a line what changed and why."})
    return summary[:300]


def _check_slug(slug: str, *, exclude_pk=None) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug) or len(slug) > 100:
        raise ValidationError(
            {"slug": "Use lowercase letters, digits and single hyphens, e.g. “fee-disputes”."}
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"“{slug}” is the name of a page under /playbooks/; choose another."})
    if Playbook.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        raise ValidationError({"slug": f"Another playbook already uses “{slug}”."})
    return slug


def suggest_slug(title: str) -> str:
    base = slugify(title)[:90] or "playbook"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Playbook.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _refresh_search(playbook: Playbook) -> None:
    """Keep the stored search vector of the current text (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector

    Playbook.objects.filter(pk=playbook.pk).update(
        search_vector=SearchVector("title", weight="A", config="english")
        + SearchVector("current_body", weight="B", config="english")
    )


def _add_revision(
    playbook: Playbook, *, by: User, body: str, summary: str, reverted_from=None
) -> PlaybookRevision:
    revision = revision_add(
        PlaybookRevision,
        parent=playbook,
        body=body,
        summary=summary,
        author=by,
        created_at=timezone.now(),
        reverted_from=reverted_from,
    )
    playbook.current_body = body
    # Saving a revision is a review: the clock restarts.
    playbook.next_review_on = timezone.localdate() + dt.timedelta(days=playbook.review_interval_days)
    playbook.save()
    _refresh_search(playbook)
    return revision


def _check_interval(days) -> int:
    if days is None or not 1 <= int(days) <= 730:
        raise ValidationError({"review_interval_days": "Review every 1 to 730 days."})
    return int(days)


@transaction.atomic
def playbook_create(
    *,
    by: User,
    title: str,
    category: str,
    body: str,
    summary: str = "First version",
    slug: str = "",
    owner: User | None = None,
    review_interval_days: int = 90,
    status: str = Playbook.Status.DRAFT,
) -> Playbook:
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "Give the playbook a title."
    if category not in Playbook.Category.values:
        errors["category"] = "Choose a category."
    for check in (
        lambda: _check_body(body),
        lambda: _check_interval(review_interval_days),
        lambda: _check_slug(slug or suggest_slug(title)),
    ):
        try:
            check()
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    playbook = Playbook.objects.create(
        title=title[:200],
        slug=_check_slug(slug or suggest_slug(title)),
        category=category,
        owner=owner or by,
        status=status if status in Playbook.Status.values else Playbook.Status.DRAFT,
        review_interval_days=review_interval_days,
        next_review_on=timezone.localdate() + dt.timedelta(days=review_interval_days),
    )
    _add_revision(playbook, by=by, body=_check_body(body), summary=(summary or "First version").strip()[:300])
    return playbook


def _lock_playbook(playbook: Playbook) -> Playbook:
    return (
        Playbook.objects.select_for_update(of=("self",))
        .select_related("current_revision__author")
        .get(pk=playbook.pk)
    )


@transaction.atomic
def playbook_revise(
    *,
    playbook: Playbook,
    by: User,
    body: str,
    summary: str,
    based_on: int,
    title: str | None = None,
    category: str | None = None,
    owner: User | None = None,
    review_interval_days: int | None = None,
) -> PlaybookRevision | None:
    """Save an edit as a new revision. `based_on` is the revision number the editor opened;
    if someone saved since, StaleEdit is raised and nothing changes. Returns None when neither
    the text nor any detail changed."""
    playbook = _lock_playbook(playbook)
    if based_on != playbook.revision_count:
        raise StaleEdit(current=playbook.current_revision)
    body = _check_body(body)
    details_changed = False
    if title is not None and title.strip() and title.strip() != playbook.title:
        playbook.title, details_changed = title.strip()[:200], True
    if category is not None and category != playbook.category:
        if category not in Playbook.Category.values:
            raise ValidationError({"category": "Choose a category."})
        playbook.category, details_changed = category, True
    if owner is not None and owner.pk != playbook.owner_id:
        playbook.owner, details_changed = owner, True
    if review_interval_days is not None and review_interval_days != playbook.review_interval_days:
        playbook.review_interval_days, details_changed = _check_interval(review_interval_days), True
    if body == playbook.current_body:
        if details_changed:
            playbook.save()
            _refresh_search(playbook)
        return None
    return _add_revision(playbook, by=by, body=body, summary=_check_summary(summary))


@transaction.atomic
def playbook_revert(*, playbook: Playbook, by: User, revision: PlaybookRevision) -> PlaybookRevision:
    """Bring back an old text as a new revision; the history keeps everything in between."""
    playbook = _lock_playbook(playbook)
    if revision.playbook_id != playbook.pk:
        raise ValidationError("That revision belongs to another playbook.")
    if revision.pk == playbook.current_revision_id:
        raise ValidationError("That revision is already the current text.")
    return _add_revision(
        playbook,
        by=by,
        body=revision.body,
        summary=f"Reverted to revision {revision.number}",
        reverted_from=revision,
    )


@transaction.atomic
def playbook_set_status(*, playbook: Playbook, by: User, status: str) -> Playbook:
    if status not in Playbook.Status.values:
        raise ValidationError("Unknown status.")
    playbook = _lock_playbook(playbook)
    playbook.status = status
    playbook.save(update_fields=["status", "updated_at"])
    return playbook


@transaction.atomic
def playbook_mark_reviewed(*, playbook: Playbook, by: User) -> Playbook:
    """The owner read it and it still holds: the next review moves one interval on."""
    playbook = _lock_playbook(playbook)
    playbook.next_review_on = timezone.localdate() + dt.timedelta(days=playbook.review_interval_days)
    playbook.save(update_fields=["next_review_on", "updated_at"])
    return playbook


def _check_template_text(subject: str, body: str) -> tuple[str, str]:
    errors = {}
    subject = (subject or "").strip()
    if len(subject) > 300:
        errors["subject"] = "Keep the subject under 300 characters."
    try:
        body = _check_body(body)
    except ValidationError as error:
        errors.update(error.message_dict)
        body = ""
    for field, text in (("subject", subject), ("body", body)):
        if field in errors or not text:
            continue
        problems = validate_template(text)
        if problems:
            errors[field] = problems
    if errors:
        raise ValidationError(errors)
    return subject, body


def _add_template_revision(template, *, by, subject, body, summary, reverted_from=None) -> TemplateRevision:
    revision = revision_add(
        TemplateRevision,
        parent=template,
        subject=subject,
        body=body,
        summary=summary,
        author=by,
        created_at=timezone.now(),
        reverted_from=reverted_from,
    )
    template.save()
    return revision


@transaction.atomic
def template_create(
    *,
    by: User,
    name: str,
    playbook: Playbook,
    serves: str,
    subject: str,
    body: str,
    summary: str = "First version",
) -> ResponseTemplate:
    """A new response template; an unknown placeholder or broken syntax is refused."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Name the template."
    elif ResponseTemplate.objects.filter(name__iexact=name).exists():
        errors["name"] = f"A template called “{name}” exists already."
    if serves not in ResponseTemplate.Serves.values:
        errors["serves"] = "Choose what the template is for."
    try:
        subject, body = _check_template_text(subject, body)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    template = ResponseTemplate.objects.create(name=name[:200], playbook=playbook, serves=serves)
    _add_template_revision(
        template, by=by, subject=subject, body=body, summary=(summary or "First version").strip()[:300]
    )
    return template


@transaction.atomic
def template_revise(
    *,
    template: ResponseTemplate,
    by: User,
    subject: str,
    body: str,
    summary: str,
    based_on: int,
    name: str | None = None,
    serves: str | None = None,
    playbook: Playbook | None = None,
    is_active: bool | None = None,
) -> TemplateRevision | None:
    template = (
        ResponseTemplate.objects.select_for_update(of=("self",))
        .select_related("current_revision__author")
        .get(pk=template.pk)
    )
    if based_on != template.revision_count:
        raise StaleEdit(current=template.current_revision)
    subject, body = _check_template_text(subject, body)
    if name is not None and name.strip() and name.strip() != template.name:
        if ResponseTemplate.objects.filter(name__iexact=name.strip()).exclude(pk=template.pk).exists():
            raise ValidationError({"name": f"A template called “{name.strip()}” exists already."})
        template.name = name.strip()[:200]
    if serves is not None:
        if serves not in ResponseTemplate.Serves.values:
            raise ValidationError({"serves": "Choose what the template is for."})
        template.serves = serves
    if playbook is not None:
        template.playbook = playbook
    if is_active is not None:
        template.is_active = is_active
    current = template.current_revision
    if current and current.subject == subject and current.body == body:
        template.save()
        return None
    return _add_template_revision(
        template, by=by, subject=subject, body=body, summary=_check_summary(summary)
    )


@transaction.atomic
def template_revert(*, template: ResponseTemplate, by: User, revision: TemplateRevision) -> TemplateRevision:
    template = ResponseTemplate.objects.select_for_update(of=("self",)).get(pk=template.pk)
    if revision.template_id != template.pk:
        raise ValidationError("That revision belongs to another template.")
    if revision.pk == template.current_revision_id:
        raise ValidationError("That revision is already the current text.")
    # A revision that was valid then must still be valid now (the placeholders may have changed).
    subject, body = _check_template_text(revision.subject, revision.body)
    return _add_template_revision(
        template,
        by=by,
        subject=subject,
        body=body,
        summary=f"Reverted to revision {revision.number}",
        reverted_from=revision,
    )


@transaction.atomic
def template_use_record(
    *,
    revision: TemplateRevision,
    by: User,
    subject_kind: str,
    subject_ref: str,
    drafted_body: str,
    used_body: str,
    used_subject: str = "",
) -> TemplateUse:
    """Keep the text that was used with the template version it came from."""
    used_body = (used_body or "").replace("\r\n", "\n").strip()
    if not used_body:
        raise ValidationError({"body": "The reply is empty."})
    if len(used_body.encode("utf-8")) > MAX_BODY_BYTES:
        raise ValidationError({"body": "The reply is longer than 200 KB."})
    return TemplateUse.objects.create(
        revision=revision,
        subject_kind=subject_kind,
        subject_ref=str(subject_ref)[:40],
        rendered_subject=(used_subject or "").strip()[:300],
        rendered_body=used_body,
        edited=used_body != (drafted_body or "").replace("\r\n", "\n").strip(),
        used_by=by,
        used_at=timezone.now(),
    )
