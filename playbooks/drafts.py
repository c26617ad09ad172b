"""Drafting a reply or a script from a response template, for the pages that offer them (a
dispute case, a check-in). The caller supplies the plain context; this renders the template's
current revision and says what went wrong in words when it can't."""

from dataclasses import dataclass

from playbooks.models import ResponseTemplate, TemplateRevision
from playbooks.rendering import TemplateProblem, render_template
from playbooks.selectors import templates_serving


@dataclass(frozen=True)
class Draft:
    template: ResponseTemplate
    revision: TemplateRevision
    subject: str
    body: str
    problems: tuple[str, ...] = ()


def draft_from(template: ResponseTemplate, context: dict) -> Draft:
    revision = template.current_revision
    try:
        subject = render_template(revision.subject, context) if revision.subject else ""
        body = render_template(revision.body, context)
    except TemplateProblem as problem:
        return Draft(template, revision, "", "", tuple(problem.messages))
    return Draft(template, revision, subject, body)


def offered_templates(serves: str) -> list[ResponseTemplate]:
    return templates_serving(serves)


def chosen_template(serves: str, raw_pk) -> ResponseTemplate | None:
    """The offered template with this id, or None for anything else (other purpose, bad id)."""
    if not str(raw_pk or "").isdigit() or len(str(raw_pk)) > 18:
        return None
    return next((t for t in templates_serving(serves) if t.pk == int(raw_pk)), None)
