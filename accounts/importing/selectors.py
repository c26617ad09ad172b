"""Reads of the CSV import for its page."""

from django.db.models import QuerySet

from accounts.models import AccountImport


def account_imports_recent(*, limit: int = 10) -> QuerySet[AccountImport]:
    """The latest imports, newest first, with who uploaded them."""
    return AccountImport.objects.select_related("created_by").order_by("-created_at", "-pk")[:limit]
