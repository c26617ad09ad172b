"""Small helpers for the benchmarks: repeat a callable and summarise its timings."""

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


def summary(stats: dict) -> str:
    return (
        f"median {stats['median_ms']} ms, p90 {stats['p90_ms']} ms, max {stats['max_ms']} ms (n={stats['n']})"
    )
