"""Polling helpers shared by the app tests (the app updates asynchronously)."""

import time


def wait_until(condition, timeout=30.0, what="condition", every=0.1):
    """Call ``condition`` until it returns something truthy; return that, or fail after ``timeout`` s
    (``what``: the condition in words, or a function that says it with what was last seen)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what() if callable(what) else what} not met within {timeout} s")


def tick_until(lab, condition, timeout=60.0, what="condition"):
    """Tick ``lab`` (as the page's periodic callback does) until ``condition()`` holds; fail after
    ``timeout`` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lab.tick()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout} s")
