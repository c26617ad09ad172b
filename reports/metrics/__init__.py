"""The report's metric families, one module each; every module defines `FAMILY` (a
reports.metrics.base.Family) and registers the row lists its figures link to (reports.rows)."""

from importlib import import_module

from reports.metrics.base import Family

FAMILY_MODULES = (
    "csat",
    "times",
    "sla",
    "escalations",
    "productivity",
    "coverage",
    "disputes",
    "feedback",
)


def families() -> list[Family]:
    """Every family, in page order."""
    found = [import_module(f"reports.metrics.{name}").FAMILY for name in FAMILY_MODULES]
    return sorted(found, key=lambda family: family.order)
