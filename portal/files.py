"""Keeping an uploaded file in the file store (the disk, or an S3 bucket: portal.storage_settings)
with a message on the form, not a 500, when the store refuses it: a bucket unreachable, wrong
credentials, a full disk."""

import logging

from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)
STORE_REFUSED = (
    "The file store did not take the file, so nothing was saved. Try again in a minute; if it "
    "keeps failing, tell an Admin (the portal's log says why)."
)


def _store_errors() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # the S3 backend is not installed: only the disk's errors
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


def file_store_save(field_file, name: str, content, *, form_field: str) -> None:
    """`field_file.save(name, content)` without saving its model; ValidationError on `form_field`
    when the store refuses (logged with its cause for the operator)."""
    try:
        field_file.save(name, content, save=False)
    except _store_errors() as error:
        logger.exception("The file store refused %r", name)
        raise ValidationError({form_field: STORE_REFUSED}) from error
