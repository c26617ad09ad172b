"""Charts drawn once per content: the same title, description and numbers give the same SVG, so
a process keeps the last few hundred it drew (pygal and the SVG clean-up cost 10–25 ms a chart).
Each copy handed out gets ids of its own, so one chart drawn twice on a page never clashes."""

import functools
import itertools
import re
import threading
from collections import OrderedDict

from django.utils.safestring import mark_safe

from reports.charts.style import Chart

SIZE = 256  # charts kept per process (a few KB each)
_drawn: OrderedDict[str, Chart] = OrderedDict()
_lock = threading.Lock()
_copies = itertools.count(1)
_ROOT_ID = re.compile(r'<svg[^>]*?\sid="(chart-[^"]+)"')


def memoised(draw):
    @functools.wraps(draw)
    def drawn(**kwargs) -> Chart:
        key = repr((draw.__name__, sorted(kwargs.items())))
        with _lock:
            chart = _drawn.get(key)
            if chart is not None:
                _drawn.move_to_end(key)
        if chart is None:
            chart = draw(**kwargs)
            with _lock:
                _drawn[key] = chart
                while len(_drawn) > SIZE:
                    _drawn.popitem(last=False)
        return _with_own_ids(chart)

    return drawn


def _with_own_ids(chart: Chart) -> Chart:
    """A copy whose ids (the root's, and its title's, description's and hatches' built on it)
    no other copy has."""
    found = _ROOT_ID.search(chart.svg)
    if found is None:
        return chart
    old = found.group(1)
    # The root id is a token no text holds (a slug, a counter and a digest): renamed everywhere.
    svg = mark_safe(chart.svg.replace(old, f"{old}-c{next(_copies)}"))  # noqa: S308 — our own SVG, ids renamed
    return Chart(title=chart.title, description=chart.description, svg=svg)
