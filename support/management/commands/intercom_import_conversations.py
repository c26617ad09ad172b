import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from integrations.intercom.client import IntercomClient
from integrations.intercom.errors import IntercomError, IntercomNotConfigured
from support.importing import WATERMARK, ImportReport, conversations_import, watermark_since

BAR_WIDTH = 30


def parse_since(value: str) -> dt.datetime:
    """YYYY-MM-DD (midnight in the portal's time zone) or an ISO datetime (naive: portal time)."""
    text = (value or "").strip()
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = dt.datetime.combine(day, dt.time.min) if day is not None else None
    except ValueError:  # well formed but impossible, e.g. 2025-02-30
        moment = None
    if moment is None:
        raise CommandError(f"--since must be a date (YYYY-MM-DD) or an ISO datetime, not {value!r}.")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def progress_line(report: ImportReport) -> str:
    if report.total:
        filled = min(BAR_WIDTH, BAR_WIDTH * report.fetched // report.total)
        head = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {report.fetched:,}/{report.total:,}"
    else:
        head = f"{report.fetched:,} fetched"
    return (
        f"{head}  stored {report.stored:,}, unchanged {report.unchanged:,}, "
        f"older {report.older_skipped:,}, failed {report.failed:,}"
    )


class Command(BaseCommand):
    help = (
        "Import Intercom conversations updated since --since (default: the stored watermark, which "
        "the schedule moves every 15 minutes) into the mirror. Safe to interrupt and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", help="YYYY-MM-DD or ISO datetime (default: the watermark, or 24 hours ago)"
        )
        parser.add_argument(
            "--no-watermark", action="store_true", help="import without reading or moving the watermark"
        )

    def handle(self, *args, **options):
        since = parse_since(options["since"]) if options["since"] else watermark_since(WATERMARK)
        watermark_name = None if options["no_watermark"] else WATERMARK
        live = self.stderr.isatty()
        shown = {"tenth": -1}

        def progress(report: ImportReport) -> None:
            done = not report.total or report.fetched >= report.total
            tenth = 10 * report.fetched // report.total if report.total else report.pages
            if live:
                self.stderr.write(f"\r{progress_line(report)}", ending="")
                self.stderr.flush()
            elif tenth != shown["tenth"] or done:  # a log file gets a line every 10 %
                self.stderr.write(progress_line(report))
            shown["tenth"] = tenth

        self.stdout.write(f"Importing conversations updated since {since:%Y-%m-%d %H:%M %Z}")
        try:
            with IntercomClient() as client:
                report = conversations_import(
                    client=client, since=since, watermark_name=watermark_name, progress=progress
                )
        except IntercomNotConfigured as error:
            raise CommandError(
                "Intercom is not connected: set INTERCOM_ACCESS_TOKEN (and INTERCOM_ENABLED)."
            ) from error
        except IntercomError as error:
            if live:
                self.stderr.write("")
            raise CommandError(
                f"Import stopped: {error}. The pages read so far are stored and the watermark did "
                "not move: run the command again to resume."
            ) from error
        if live:
            self.stderr.write("")
        for message in report.errors[:10]:
            self.stderr.write(message)
        mark = (
            f"watermark {report.watermark:%Y-%m-%d %H:%M:%S %Z}"
            if report.watermark
            else "watermark not moved (--no-watermark)"
        )
        summary = (
            f"fetched {report.fetched}: stored {report.stored}, unchanged {report.unchanged}, "
            f"older skipped {report.older_skipped}, failed {report.failed}; "
            f"{report.calls} calls in {report.seconds:.1f}s; {mark}"
        )
        self.stdout.write(self.style.WARNING(summary) if report.failed else self.style.SUCCESS(summary))
