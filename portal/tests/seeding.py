"""`seed_demo` from inside a test (the demo tests of every app use it)."""

from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test import override_settings


def seed(*args: str) -> str:
    """Run `seed_demo` with these arguments; returns what it printed."""
    if "--force" in args and connection.vendor == "postgresql":
        # The test wraps everything in one transaction, where PostgreSQL refuses to TRUNCATE
        # tables with deferred foreign-key checks still pending; firing them now is what a
        # commit would do. Outside tests, seed_demo runs in autocommit and needs none of this.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    out = StringIO()
    # The test settings run with DEBUG off, where seed_demo refuses to run without
    # --i-know-this-is-production; the demo tests build the data set `make run` builds (DEBUG on).
    with override_settings(DEBUG=True):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()
