"""Polling helper shared by the app tests (the app updates asynchronously)."""

import time


def wait_until(condition, timeout=30.0, what="condition", every=0.1):
    """Call ``condition`` until it returns something truthy; return that, or fail after ``timeout`` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what} not met within {timeout} s")
