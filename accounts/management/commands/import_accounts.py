"""`manage.py import_accounts FILE`: import a book of business from CSV, as the upload page does
(the format is documented there), synchronously and with a progress bar."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db.models import Q

from accounts.importing.parsing import MAX_FILE_BYTES, file_too_large_message
from accounts.importing.results import CHECKING
from accounts.services.importing import accounts_import
from portal.models import User
from portal.roles import Role, has_role


class ProgressBar:
    """Draws `Checking [#####.....] 512/1024 rows` in place, one line per phase."""

    WIDTH = 20

    def __init__(self, out: OutputWrapper):
        self.out = out
        self.drawn: tuple[str, int] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        filled = self.WIDTH * done // total if total else self.WIDTH
        if self.drawn == (phase, filled) and done != total:
            return
        self.drawn = (phase, filled)
        label = "Checking" if phase == CHECKING else "Writing"
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.out.write(f"\r{label:<8} [{bar}] {done}/{total} rows", ending="\n" if done == total else "")
        self.out.flush()


class Command(BaseCommand):
    help = (
        "Import accounts from a UTF-8 CSV file (columns as documented on /accounts/import/). "
        "Nothing is written while any row is invalid, unless --valid-only is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument(
            "--valid-only", action="store_true", help="Import the valid rows and skip the invalid ones."
        )
        parser.add_argument(
            "--as",
            dest="username",
            help="The Specialist or Admin recorded as making the changes (default: the first "
            "superuser, else the first Admin).",
        )

    def handle(self, *args, file: str, valid_only: bool, username: str | None, **options):
        by = _acting_user(username)
        raw = _read(Path(file))
        try:
            result = accounts_import(by=by, raw=raw, valid_only=valid_only, progress=ProgressBar(self.stdout))
        except ValidationError as error:
            raise CommandError(f"{file}: {' '.join(error.messages)}") from error
        for error in result.errors:
            self.stderr.write(f"line {error.line}, column {error.column or '(whole row)'}: {error.message}")
        if result.rejected:
            raise CommandError(
                result.rejection(
                    what_next="Fix them and run again, or add --valid-only to import the valid rows."
                )
            )
        self.stdout.write(self.style.SUCCESS(f"Imported {file}: {result.summary()}."))


def _acting_user(username: str | None) -> User:
    if username:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user has the username “{username}”.")
        if not has_role(user, Role.SPECIALIST, Role.ADMIN):
            raise CommandError(f"{username} is not an active Specialist or Admin, so cannot import accounts.")
        return user
    user = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN))
        .order_by("-is_superuser", "pk")
        .first()
    )
    if user is None:
        raise CommandError("There is no superuser or Admin to record as the importer: pass --as USERNAME.")
    return user


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise CommandError(f"{path}: no such file.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CommandError(f"{path}: {file_too_large_message(size)}")
    return path.read_bytes()
