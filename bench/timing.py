"""Small helpers for the benchmarks: seed the database, repeat a callable and summarise its timings."""

import itertools
import statistics
import time


def measure(action, *, repeat: int, warmup: int = 1) -> dict:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[max(0, int(len(samples) * 0.9) - 1)], 2),
        "max_ms": round(samples[-1], 2),
        "n": len(samples),
    }


def measure_us(action, inputs: list, *, warmup: int = 50) -> dict:
    """Time `action(x)` once per input, in microseconds (for calls far below a millisecond, where
    `measure`'s milliseconds would read 0.0), after `warmup` calls on the first inputs."""
    for x in itertools.islice(itertools.cycle(inputs), warmup):
        action(x)
    samples = []
    for x in inputs:
        began = time.perf_counter()
        action(x)
        samples.append((time.perf_counter() - began) * 1_000_000)
    samples.sort()
    return {
        "median": statistics.median(samples),
        "p90": samples[max(0, int(len(samples) * 0.9) - 1)],
        "max": samples[-1],
        "n": len(samples),
    }


def summary_us(stats: dict) -> str:
    return f"median {stats['median']:.1f} µs, p90 {stats['p90']:.1f} µs, max {stats['max']:.0f} µs (n={stats['n']})"


def summary(stats: dict) -> str:
    return (
        f"median {stats['median_ms']} ms, p90 {stats['p90_ms']} ms, max {stats['max_ms']} ms (n={stats['n']})"
    )


def seed_demo(report, *, target_s: float | None = None, **counts: int) -> float:
    """Run `seed_demo --force --<name> <count> …` (one option per keyword, in order), report how
    long it took (against `target_s` when given) and return the seconds."""
    import io

    from django.core.management import call_command

    options = [part for name, count in counts.items() for part in (f"--{name}", str(count))]
    started = time.perf_counter()
    call_command("seed_demo", "--force", *options, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    verdict = f" (target < {target_s} s: {'met' if seconds < target_s else 'MISSED'})" if target_s else ""
    report.figure(f"seed_demo {' '.join(options)}", f"{seconds:.1f} s{verdict}")
    return seconds
