"""The workspace: its admins and teams, and `/me` (the token's admin and its app)."""

from __future__ import annotations

import copy
from typing import Any

from integrations.intercom.fake.errors import _ApiError

ME_ADMIN_ID = "991267001"
SUPPORT_TEAM_ID = "5017691"
APP_ID_CODE = "fakeintercomworkspace01"


class Workspace:
    @property
    def admin_ids(self) -> list[str]:
        return list(self._admins)

    def add_admin(
        self, name: str, email: str, *, team_ids: tuple[str, ...] = (), admin_id: str | None = None
    ) -> dict:
        """A teammate (with `admin_id`, or a new id), in the given teams (which must exist): for
        demos, tests and benchmarks that need more people than the seeded Ada and Grace."""
        with self._lock:
            admin_id = str(admin_id or 991268000 + self._next())
            admin = self._admin_record(admin_id, name, email, list(team_ids))
            self._admins[admin["id"]] = admin
            for team_id in team_ids:
                self._teams[str(team_id)]["admin_ids"].append(int(admin["id"]))
            return dict(admin)

    def remove_team(self, team_id: str) -> None:
        """The team is deleted in Intercom: gone from `/teams`, its admins no longer in it."""
        with self._lock:
            self._teams.pop(str(team_id), None)
            for admin in self._admins.values():
                admin["team_ids"] = [t for t in admin["team_ids"] if str(t) != str(team_id)]

    def _get_me(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        admin = self._admins[ME_ADMIN_ID]
        me = {
            "type": "admin",
            "id": admin["id"],
            "email": admin["email"],
            "name": admin["name"],
            "email_verified": True,
            "app": {**self.app, "timezone": self.workspace_timezone},
            "avatar": {"type": "avatar", "image_url": None},
            "has_inbox_seat": True,
        }
        return 200, me

    def _list_admins(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, {"type": "admin.list", "admins": [dict(a) for a in self._admins.values()]}

    def _get_admin(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        admin = self._admins.get(params["admin_id"])
        if admin is None:
            raise _ApiError(404, "admin_not_found", "Admin not found")
        return 200, dict(admin)

    def _list_teams(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        return 200, {"type": "team.list", "teams": [copy.deepcopy(t) for t in self._teams.values()]}

    def _get_team(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        team = self._teams.get(params["team_id"])
        if team is None:
            raise _ApiError(404, "team_not_found", "Team not found")
        return 200, copy.deepcopy(team)

    def _admin_or_404(
        self, admin_id: Any, code: str = "not_found", message: str = "Resource Not Found"
    ) -> dict:
        admin = self._admins.get(str(admin_id)) if admin_id is not None else None
        if admin is None:
            raise _ApiError(404, code, message)
        return admin
