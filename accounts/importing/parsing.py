"""Reading an accounts CSV file: its size, encoding, quoting, header and rows, as a whole."""

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

COLUMNS = (
    "display_name", "email", "external_id", "tier", "owner", "venue", "status", "cadence_override_days",
    "time_zone", "preferred_channel", "volume_30d_usd", "notes", "wallets", "intercom_contact_id",
)  # fmt: skip
REQUIRED_COLUMNS = ("display_name", "email", "external_id", "tier", "owner")
MAX_FILE_BYTES = 5 * 1024 * 1024
# A new account costs ~8 ms to write on SQLite; 10,000 rows stay well inside the task queue's
# 120-second timeout (Q_TIMEOUT_SECONDS). A larger book is imported in several files.
MAX_ROWS = 10_000
SAVE_AS_UTF8 = (
    "Save it as “CSV UTF-8” (in Excel: File › Save As › CSV UTF-8 (Comma delimited); "
    "Google Sheets and Numbers export UTF-8 already), then try again."
)


@dataclass
class CsvTable:
    columns: list[str]
    rows: list[tuple[int, list[str]]]  # (line, cells), blank rows left out


def file_too_large_message(size: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:.1f} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB "
        "— split it into smaller files."
    )


def read_csv(raw: bytes) -> CsvTable:
    """Decode and split a CSV file. Raises ValidationError with one message when the file as a
    whole is unusable: too large, not UTF-8, malformed quoting, wrong columns, no rows, too many."""
    if len(raw) > MAX_FILE_BYTES:
        raise ValidationError(file_too_large_message(len(raw)))
    records = _records(_decode(raw))
    if not records:
        raise ValidationError("The file is empty. Start with the header row; the example shows the format.")
    columns = _check_header(records[0])
    rows = [
        (line, values)
        for line, values in enumerate(records[1:], start=2)
        if any(value.strip() for value in values)
    ]
    if not rows:
        raise ValidationError("The file has a header row but no accounts below it.")
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            f"The file has {len(rows):,} rows; the limit is {MAX_ROWS:,} — split it into smaller files."
        )
    return CsvTable(columns=columns, rows=rows)


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValidationError(
            f"The file is not UTF-8 text (the first character it cannot read is on line {line}). "
            + SAVE_AS_UTF8
        ) from error
    if "\x00" in text:  # UTF-16 text with no byte-order mark decodes, NULs and all
        raise ValidationError("The file is not UTF-8 text (it looks like UTF-16). " + SAVE_AS_UTF8)
    return text


def _records(text: str) -> list[list[str]]:
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for values in reader:
            records.append(values)
    except csv.Error as error:
        raise ValidationError(
            f"Line {len(records) + 1} is not valid CSV ({error}). Check the quotation marks around it."
        ) from error
    return records


def _check_header(values: list[str]) -> list[str]:
    names = [value.strip().lower() for value in values]
    while names and not names[-1]:
        names.pop()
    if len(names) == 1 and ";" in names[0]:
        raise ValidationError("The columns are separated by semicolons, not commas. " + SAVE_AS_UTF8)
    problems = []
    unknown = [name for name in names if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    counts = Counter(names)
    repeated = sorted(name for name, count in counts.items() if name and count > 1)
    if unknown:
        problems.append(f"unknown columns {_quoted(unknown)}")
    if missing:
        problems.append(f"required columns missing: {_quoted(missing)}")
    if repeated:
        problems.append(f"columns given twice: {_quoted(repeated)}")
    if problems:
        raise ValidationError(
            f"The header row has {'; '.join(problems)}. The columns are {', '.join(COLUMNS)}; "
            f"the first {len(REQUIRED_COLUMNS)} are required."
        )
    return names


def _quoted(names: Iterable[str], limit: int = 20) -> str:
    names = list(names)
    shown = ", ".join(f"“{name[:60]}”" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def split_wallets(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]
