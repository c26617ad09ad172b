"""Evidence on a case: identifiers the user gave (order, trade, transaction, wallet), links and
uploaded files. Files go through Django's storage API, outside the web root, and are served only
by a view that checks who may see the case."""

import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from accounts.wallets import normalise_address
from disputes.models import CaseEvent, DisputeCase, EvidenceItem
from portal.files import file_store_save
from portal.models import User

Kind = EvidenceItem.Kind
HASH_32 = re.compile(r"^0x[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileType:
    content_type: str
    signatures: tuple[bytes, ...]  # how the file's first bytes must begin; empty for plain text
    inline: bool  # safe to show in the browser rather than download


# What may be uploaded, checked by extension AND by the file's first bytes, so a renamed
# executable or HTML page is refused. No SVG or HTML: they can carry scripts.
FILE_TYPES = {
    "pdf": FileType("application/pdf", (b"%PDF-",), inline=True),
    "png": FileType("image/png", (b"\x89PNG\r\n\x1a\n",), inline=True),
    "jpg": FileType("image/jpeg", (b"\xff\xd8\xff",), inline=True),
    "jpeg": FileType("image/jpeg", (b"\xff\xd8\xff",), inline=True),
    "gif": FileType("image/gif", (b"GIF87a", b"GIF89a"), inline=True),
    "webp": FileType("image/webp", (b"RIFF",), inline=True),
    "txt": FileType("text/plain; charset=utf-8", (), inline=False),
    "csv": FileType("text/csv; charset=utf-8", (), inline=False),
    "json": FileType("application/json", (), inline=False),
}


def evidence_max_bytes() -> int:
    return settings.DISPUTE_EVIDENCE_MAX_MB * 1024 * 1024


def normalise_identifier(kind: str, raw: str) -> str:
    """The stored form of an identifier, or ValidationError saying what was expected."""
    value = (raw or "").strip()
    if kind in (Kind.ORDER, Kind.TRANSACTION):
        what = "An order id" if kind == Kind.ORDER else "A transaction hash"
        if not HASH_32.match(value.lower()):
            raise ValidationError(f"{what} is 0x followed by 64 hexadecimal characters.")
        return value.lower()
    if kind == Kind.TRADE:
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValidationError(
                "A trade id is a UUID such as 28c4d2eb-bbea-40e7-a9f0-b2fdb56b2c2e."
            ) from None
    if kind == Kind.WALLET:
        return normalise_address(value)
    if kind == Kind.LINK:
        if len(value) > 500:
            raise ValidationError("Links are limited to 500 characters.")
        URLValidator(schemes=["https", "http"], message="Enter a full http(s) link.")(value)
        return value
    raise ValidationError("Choose what kind of evidence this is.")


def _check_upload(upload: UploadedFile) -> FileType:
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    file_type = FILE_TYPES.get(extension)
    allowed = ", ".join(sorted({e.upper() for e in FILE_TYPES if e != "jpeg"}))
    if file_type is None:
        raise ValidationError(f"Files of this type can’t be attached. Allowed: {allowed}.")
    if upload.size > evidence_max_bytes():
        raise ValidationError(
            f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {settings.DISPUTE_EVIDENCE_MAX_MB} MB."
        )
    if upload.size == 0:
        raise ValidationError("The file is empty.")
    upload.seek(0)
    head = upload.read(512)
    upload.seek(0)
    if file_type.signatures and not any(head.startswith(s) for s in file_type.signatures):
        raise ValidationError(f"The file’s content is not a {extension.upper()} file.")
    if not file_type.signatures and b"\x00" in head:
        raise ValidationError(f"The file’s content is not {extension.upper()} text.")
    return file_type


def evidence_add(
    *,
    case: DisputeCase,
    by: User,
    kind: str,
    value: str = "",
    description: str = "",
    upload: UploadedFile | None = None,
) -> EvidenceItem:
    """Attach one piece of evidence. Malformed identifiers, and files of a wrong type or too big,
    are refused with a message; nothing is stored then. Adding evidence changes no field of the
    case, so it does not make anyone's open form out of date."""
    description = (description or "").strip()[:300]
    item = EvidenceItem(case=case, kind=kind, description=description, added_by=by, added_at=timezone.now())
    if kind == Kind.FILE:
        if upload is None:
            raise ValidationError({"upload": "Choose the file to attach."})
        try:
            file_type = _check_upload(upload)
        except ValidationError as error:
            raise ValidationError({"upload": error.messages}) from None
        item.file_name = (upload.name or "upload").replace("\\", "/").rsplit("/", 1)[-1][-200:]
        item.content_type = file_type.content_type
        item.size_bytes = upload.size
        file_store_save(item.file, upload.name, upload, form_field="upload")
    else:
        try:
            item.value = normalise_identifier(kind, value)
        except ValidationError as error:
            raise ValidationError({"value": error.messages}) from None
    try:
        with transaction.atomic():
            item.save()
            summary = f"Evidence added: {item.get_kind_display()} {item.value or item.file_name}"
            CaseEvent.objects.create(
                case=case,
                kind=CaseEvent.Kind.EVIDENCE,
                actor=by,
                at=item.added_at,
                summary=summary[:300],
                after={"evidence": item.pk, "kind": kind, "value": item.value, "file": item.file_name},
                note=description,
            )
    except Exception:
        if item.file:  # the row never landed: don't leave its file behind
            item.file.storage.delete(item.file.name)
        raise
    return item


def file_type_of(item: EvidenceItem) -> FileType | None:
    extension = item.file_name.rsplit(".", 1)[-1].lower() if "." in item.file_name else ""
    return FILE_TYPES.get(extension)
