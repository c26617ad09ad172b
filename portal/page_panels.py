"""Page panels: a spot on a lower app's page where apps above it show what they know.

The app that owns the page names the spot (`disputes.case_facts`), collects its panels with
`page_panels(page, obj=..., user=...)` in the selector that feeds the page, and renders them with
`{% for entry in page_panels %}{% include entry.panel.template with panel=entry.context %}{% endfor %}`.
An app above registers a panel from its AppConfig.ready(). A panel's `context` returns what its
template needs for that object, or None when it has nothing to show; it must run a fixed number
of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PagePanel:
    page: str
    name: str
    template: str
    context: Callable[..., dict | None]
    order: int = 100


@dataclass(frozen=True)
class RenderedPagePanel:
    panel: PagePanel
    context: dict


_panels: dict[tuple[str, str], PagePanel] = {}


def register_page_panel(
    *, page: str, name: str, template: str, context: Callable[..., dict | None], order: int = 100
) -> None:
    """Show `template` on `page`, filled by `context(obj=..., user=...)`. Registering the same
    name again replaces the panel, so a re-import is harmless."""
    _panels[(page, name)] = PagePanel(page=page, name=name, template=template, context=context, order=order)


def unregister_page_panel(*, page: str, name: str) -> None:
    _panels.pop((page, name), None)


def page_panels(page: str, *, obj, user) -> list[RenderedPagePanel]:
    """The panels of `page` with something to show about `obj` to `user`, in order."""
    rendered = []
    for panel in sorted((p for p in _panels.values() if p.page == page), key=lambda p: (p.order, p.name)):
        context = panel.context(obj=obj, user=user)
        if context:
            rendered.append(RenderedPagePanel(panel=panel, context=context))
    return rendered
