"""The query plan a database chooses, for tests that a list reads through the index meant for it
(issue 23: a page's cost must follow what it shows, not the whole table)."""

from django.db import connection


def query_plan(queryset) -> str:
    """PostgreSQL's EXPLAIN (sequential scans off: a test's few rows would be scanned anyway) or
    SQLite's EXPLAIN QUERY PLAN of the queryset, as one string."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row) for row in cursor.fetchall())
