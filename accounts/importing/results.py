"""What an import reports: its progress as it goes, its errors by line and column, its counts."""

from collections.abc import Callable
from dataclasses import dataclass, field

CHECKING, WRITING = "checking", "writing"
# progress(phase, done, total): called as rows are checked, then as they are written.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet numbers it: the header is line 1
    column: str  # "" when the error concerns the whole row
    message: str


@dataclass
class ImportResult:
    total_rows: int
    valid_only: bool
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def invalid_rows(self) -> int:
        return len({error.line for error in self.errors})

    @property
    def rejected(self) -> bool:
        """True when nothing was written because rows are invalid."""
        return bool(self.errors) and not self.valid_only

    @property
    def skipped(self) -> int:
        return 0 if self.rejected else self.invalid_rows

    def summary(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.skipped:
            text += f", {self.skipped} skipped (rows with errors)"
        return text

    def rejection(self, *, what_next: str) -> str:
        rows = f"{self.invalid_rows} row has" if self.invalid_rows == 1 else f"{self.invalid_rows} rows have"
        return f"Nothing was imported: {rows} errors. {what_next}"
