"""Waiting in a test for what another thread or process does: a condition polled until a
deadline, and a clear failure when it never holds, instead of a sleep of a guessed length."""

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_until(condition: Callable[[], T], *, timeout: float, what: str, interval: float = 0.02) -> T:
    """The first truthy value `condition()` returns; fails the test, naming `what`, when none
    came within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"Waited {timeout:g} s for {what}.", pytrace=False)
        time.sleep(interval)
    return value
