"""The report's metric families, one module each; every module defines `FAMILY` (a
reports.metrics.base.Family) and registers the row lists its figures link to (reports.rows),
some through a module of their own (ROW_MODULES). `load()` imports them all: the reports app
calls it when it starts, so every row list is known before any page asks for one."""

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


ROW_MODULES = ("escalation_rows", "dispute_rows", "productivity_rows")


def load() -> None:
    for name in (*FAMILY_MODULES, *ROW_MODULES):
        import_module(f"reports.metrics.{name}")


def families() -> list[Family]:
    """Every family, in page order."""
    found = [import_module(f"reports.metrics.{name}").FAMILY for name in FAMILY_MODULES]
    return sorted(found, key=lambda family: family.order)
