"""/support/: the queue of open conversations and cases, most urgent first."""

from django.shortcuts import render
from django.utils import timezone

from portal.roles import role_required
from portal.tables import configure_table
from support.filters import QueueFilter, default_who
from support.routing.facts import unrouted
from support.selectors import SLA_READERS, queue_clocks
from support.tables import QueueTable


@role_required(*SLA_READERS)
def queue(request):
    data = request.GET.copy()
    if not data.get("who"):
        data["who"] = default_who(request.user)
    queue_filter = QueueFilter(data, queryset=queue_clocks(), request=request)
    valid = queue_filter.is_valid()
    table = configure_table(request, QueueTable(queue_filter.qs if valid else queue_clocks().none()))
    table.annotate_page(timezone.now(), request.user)
    waiting, waiting_count = unrouted()
    context = {
        "table": table,
        "filter": queue_filter,
        "unrouted": waiting,
        "unrouted_count": waiting_count,
        "unrouted_more": waiting_count - len(waiting),
    }
    return render(request, "support/queue.html", context, status=200 if valid else 400)
