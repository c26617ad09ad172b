"""The outbox sender: delivers pending SyncJobs to Intercom, in order per contact.

A worker claims every undelivered job of a few contacts at a time (a lease: a worker that dies
mid-batch leaves jobs "running" with an old `claimed_at`, and the next drain takes them over once
LEASE has passed). The lease is renewed contact by contact just before delivery, so it only has
to outlast one contact; a worker whose lease ran out and was taken over skips that contact.
For each contact the jobs go out oldest first; a failure stops that contact's later jobs until
the failed one is retried, so Intercom never sees an older state after a newer one. Failures are
retried with exponential backoff; after 24 hours of failures a job is dead (kept, shown on the
sync page with a retry button). Nothing is ever dropped.

Kinds:
- `contact.upsert` (key `account:<id>`): find or create the contact (the stored Intercom id first,
  then `find_by_external_id`, then create as a user — never a search right after creating, which
  lags), set its attributes and owner, and swap its tier tag.
- `contact.attributes` (e.g. `account:<id>:disputes`): custom attributes on the contact.
- `contact.note` (e.g. `decision:<id>`): a note on the contact, written once even if a worker died
  after sending it (a retried note is looked for first).
- `conversation.reply` (key `reply:<template use id>`): a reply the user sees in their Intercom
  conversation, as the specialist's teammate (the app's own admin when they have none). The
  conversation is read first: it must be with the account's contact, and the same text from
  that teammate already there means it was sent (so a retry never sends it twice).
"""

import logging

from integrations.intercom.sender.claiming import (
    CONTACTS_PER_CLAIM,
    LEASE,
    UNDELIVERED,
    _due_q,
    _is_due,
    claim,
)
from integrations.intercom.sender.delivery import Sender, _plain_text, _reply_in, reply_html
from integrations.intercom.sender.outcomes import (
    DEAD_AFTER,
    RETRY_BASE,
    RETRY_CAP,
    DrainReport,
    _done,
    _fail,
    _hold,
    deliver_group,
)
from integrations.intercom.sender.running import admins_sync, drain

logger = logging.getLogger(__name__)

__all__ = [
    "CONTACTS_PER_CLAIM",
    "DEAD_AFTER",
    "LEASE",
    "RETRY_BASE",
    "RETRY_CAP",
    "UNDELIVERED",
    "DrainReport",
    "Sender",
    "_done",
    "_due_q",
    "_fail",
    "_hold",
    "_is_due",
    "_plain_text",
    "_reply_in",
    "admins_sync",
    "claim",
    "deliver_group",
    "drain",
    "reply_html",
]
