"""Links an app above support adds to every row of the queue (oncall: *Escalate*). Support
cannot import those apps; they register here from their AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass

from portal.roles import has_role


@dataclass(frozen=True)
class QueueAction:
    label: str
    url: Callable  # (clock of support.selectors.queue_clocks()) -> str, no query
    roles: tuple[str, ...]


_actions: dict[str, QueueAction] = {}


def register_queue_action(key: str, action: QueueAction) -> None:
    """Registering the same key again replaces the action, so a re-import is harmless."""
    _actions[key] = action


def queue_actions_for(user) -> list[QueueAction]:
    return [action for _, action in sorted(_actions.items()) if has_role(user, *action.roles)]
