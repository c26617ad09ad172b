""" "My day": the signed-in person's work queue, built from panels that apps register.

A panel's `build` returns the context its template needs, or None when the panel has nothing
to say to this person today. A panel must run a fixed number of queries whatever its size.
"""

from collections.abc import Callable
from dataclasses import dataclass

from portal.roles import has_role


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    roles: tuple[str, ...]
    build: Callable[..., dict | None]
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    panel: Panel
    context: dict


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[panel.key] = panel


def unregister_panel(key: str) -> None:
    _panels.pop(key, None)


def panels_for(user) -> list[Panel]:
    return sorted(
        (p for p in _panels.values() if has_role(user, *p.roles)),
        key=lambda p: (p.order, p.title),
    )


def my_day(user) -> tuple[list[RenderedPanel], int]:
    """The panels with something to show, and how many panels apply to this user at all."""
    applicable = panels_for(user)
    rendered = []
    for panel in applicable:
        context = panel.build(user=user)
        if context:
            rendered.append(RenderedPanel(panel=panel, context=context))
    return rendered, len(applicable)
