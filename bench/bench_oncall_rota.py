"""On-call rota (oncall/rota.py): who is on call at any instant, and the /oncall/ page.

Target: "who is on call at T" ≤ 1 ms, for a rota in America/New_York (both daylight-saving
changes inside the year) of 2 layers × 8 members with 200 overrides, at 10,000 random instants
over a year; figures in microseconds, per call, median and p90. Also timed: building the specs
(three queries), the shifts of 14 days, and /oncall/ with 5 such rotas (median and query count,
which must not grow with the rotas)."""

import datetime as dt
import io
import itertools
import os
import random
import time

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.timing import measure, measure_us, summary, summary_us

SEED = 20_270_301
INSTANTS = 10_000
OVERRIDES = 200
MEMBERS = 8
PAGE_ROTAS = 5
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
TARGET_US = 1_000
YEAR_START = dt.datetime(2027, 1, 1, 5, tzinfo=dt.UTC)
YEAR = dt.timedelta(days=365)


def run(report):
    from django.core.management import call_command

    from oncall.rota import on_call_at, rota_specs, shifts

    call_command("setup_roles", verbosity=0, stdout=io.StringIO())
    rng = random.Random(SEED)
    admin = _person("bench-oncall-admin", "Admin")
    rotas = [_rota(n, admin, rng) for n in range(PAGE_ROTAS)]
    rota = rotas[0]

    started = time.perf_counter()
    spec = rota_specs([rota], since=YEAR_START - dt.timedelta(days=1))[rota.pk]
    report.figure(
        "rota",
        f"{rota.time_zone}, 2 layers × {MEMBERS} members, {sum(len(layer.overrides) for layer in spec.layers.values())} "
        f"overrides; spec built in {(time.perf_counter() - started) * 1000:.1f} ms (3 queries)",
    )
    instants = [YEAR_START + dt.timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(INSTANTS)]
    layers = itertools.cycle((1, 2))
    stats = measure_us(lambda at: on_call_at(spec, next(layers), at), instants)
    verdict = "met" if stats["median"] <= TARGET_US and stats["p90"] <= TARGET_US else "MISSED"
    report.figure("who is on call at T (10,000 instants)", f"{summary_us(stats)} [target ≤ 1 ms: {verdict}]")
    fortnights = instants[:500]
    stats = measure_us(lambda at: shifts(spec, 1, at, at + dt.timedelta(days=14)), fortnights)
    report.figure("shifts of one layer over 14 days", summary_us(stats))
    _page(report, admin)


def _person(username: str, role: str):
    from django.contrib.auth.models import Group

    from portal.models import User

    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    if created:
        user.groups.add(Group.objects.get(name=role))
    return user


def _rota(number: int, admin, rng: random.Random):
    from oncall.services.rota import LayerInput, handoff_note_create, override_create, rota_save

    people = [_person(f"bench-oncall-{number}-{m}", "Specialist") for m in range(MEMBERS)]
    rota = rota_save(
        name=f"Bench rota {number}",
        time_zone="America/New_York",
        starts_on=dt.date(2026, 12, 28),
        handoff_time=dt.time(9, 0),
        rotation_days=7,
        layers=[LayerInput("Primary", people), LayerInput("Secondary", people[::-1])],
    )
    layers = list(rota.layers.order_by("position"))
    for _ in range(OVERRIDES if number == 0 else 20):
        starts_at = YEAR_START + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
        override_create(
            rota=rota,
            layer=rng.choice(layers),
            user=rng.choice(people),
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=rng.randrange(1, 72)),
            reason="swap",
            by=admin,
        )
    for n in range(8):
        handoff_note_create(rota=rota, author=people[0], body=f"Hand-off {n}: two disputes open.")
    return rota


def _page(report, admin):
    from django.utils import timezone

    from oncall.selectors.rota import oncall_overview

    client = Client()
    client.force_login(admin)
    client.get("/oncall/")
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/oncall/")
    stats = measure(lambda: client.get("/oncall/"), repeat=REPEAT)
    selector = measure(lambda: oncall_overview(timezone.now()), repeat=REPEAT)
    report.figure(
        f"/oncall/ with {PAGE_ROTAS} rotas (14 days each)",
        f"{summary(stats)}; {len(queries)} queries; HTTP {response.status_code}",
    )
    report.figure("  of which the overview selector", summary(selector))
