"""The reports' background work: keep the daily rollups caught up, so a page rarely counts a
changed day itself."""

from reports.rollups import rollups_rebuild, rollups_refresh


def reports_rollups_refresh() -> dict:
    return {"days": rollups_refresh()}


def reports_rollups_rebuild() -> dict:
    """03:41 every night: count every day again (also catches items deleted since, which leave
    no changed clock behind)."""
    return {"days": rollups_rebuild()}
