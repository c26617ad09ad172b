"""Benchmark runner: `make bench` (or `python bench/run.py [name ...]`).

Runs every `bench/bench_*.py` module's `run(report)` against a fresh SQLite database in a temp
dir (or DATABASE_URL when set) and prints the figures. Later issues add their own modules.
"""

import atexit
import importlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Too long for `make bench` with no names (it seeds 500,000 cases): `make bench ARGS=tenfold`.
ONLY_WHEN_NAMED = {"bench_tenfold"}
sys.path.insert(0, str(ROOT))


class Report:
    def __init__(self, name: str):
        self.name = name

    def figure(self, label: str, value, unit: str = "") -> None:
        print(f"  {label:<48} {value}{(' ' + unit) if unit else ''}")


def main(selected: list[str]) -> None:
    workdir = tempfile.mkdtemp(prefix="portal-bench-")
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("DEBUG", "true")  # the bench serves pages through the test client
    os.environ["DJANGO_READ_DOT_ENV_FILE"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]  # the Django test client calls itself "testserver"
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"Benchmarks on {engine} ({settings.DATABASES['default']['NAME']}), Python {sys.version.split()[0]}"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"  migrate: {time.perf_counter() - started:.2f}s")

    modules = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    for name in modules:
        chosen = name.removeprefix("bench_") in selected or name in selected
        if (selected and not chosen) or (not selected and name in ONLY_WHEN_NAMED):
            continue
        print(f"\n[{name.removeprefix('bench_')}]")
        importlib.import_module(f"bench.{name}").run(Report(name))


if __name__ == "__main__":
    main(sys.argv[1:])
