"""Foundation: how long seed_demo takes, and how fast "My day" answers."""

import io
import time

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.timing import measure, summary
from portal.models import User


def run(report):
    for specialists in (12, 200):
        started = time.perf_counter()
        call_command("seed_demo", "--force", "--specialists", str(specialists), stdout=io.StringIO())
        report.figure(f"seed_demo --specialists {specialists}", f"{time.perf_counter() - started:.2f}", "s")

    client = Client()
    client.force_login(User.objects.get(username="specialist"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    report.figure("My day: queries per request", len(queries))
    report.figure("My day (GET /)", summary(measure(lambda: client.get("/"), repeat=200)))
    report.figure("Health check (GET /healthz)", summary(measure(lambda: client.get("/healthz"), repeat=200)))
