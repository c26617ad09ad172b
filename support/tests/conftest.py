import copy

import pytest

from integrations.intercom.fake import FakeIntercom


class FakeIntercomWithStates(FakeIntercom):
    """The fake Intercom, able to serve a conversation in any state a real one passes through.

    The fake's API cannot reply-as-admin-with-statistics, assign, rate or close, so a test moves
    a conversation on with `conversation_set(id, updated_at=..., state=..., extras={...})`:
    record fields (state, priority, assignees, waiting_since, updated_at, ...) change as the fake
    stores them, and `extras` (statistics, conversation_rating, sla_applied, tags, ...) replace
    those keys in every JSON the fake returns for it, retrieve and search alike. The change is
    searchable at once."""

    def _conversation_json(self, record: dict, *, with_parts: bool, plaintext: bool = False) -> dict:
        data = super()._conversation_json(record, with_parts=with_parts, plaintext=plaintext)
        data.update(copy.deepcopy(record.get("extras") or {}))
        return data

    def conversation_set(self, conversation_id: str, *, extras: dict | None = None, **fields) -> dict:
        """Set the stored conversation's fields (and extras); returns it as retrieved."""
        with self._lock:
            record = self._conversations[conversation_id]
            unknown = set(fields) - set(record)
            if unknown:
                raise TypeError(f"not fields of a fake conversation: {sorted(unknown)}")
            record.update(copy.deepcopy(fields))
            if extras is not None:
                record["extras"] = copy.deepcopy(extras)
            self._index_now(self._conversation_index, conversation_id, record)
            return self._conversation_json(record, with_parts=True)


@pytest.fixture(scope="session")
def intercom_server():
    """The root conftest's `intercom` fixture serves this subclass to the support tests."""
    with FakeIntercomWithStates(search_delay_seconds=0) as fake:
        yield fake
