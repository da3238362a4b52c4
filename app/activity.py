"""Idle pause: a served lab page that nobody has used for a while pauses its training, so that an
abandoned tab or a class that listens stops taking a core (app/server_limits.py: idle_minutes).

Use is seen in the browser (a pointer, a key, the wheel: app/js/activity.js, at most one message
every REPORT_EVERY_MS) and on the server (a setting changed). The page's tick asks ``check()``,
which pauses once per idle spell and says why; the next use starts a new spell. The time of the
last use is kept on the page's entry in the classroom, for the lecturer's page."""

from __future__ import annotations

import time
from collections.abc import Callable

import param
from panel.custom import JSComponent

from .canvas_js import js
from .classroom import Page

REPORT_EVERY_MS = 20_000  # one message per 20 s is enough for limits counted in minutes


def idle_text(minutes: float) -> str:
    return f"Paused after {minutes:g} minutes without interaction: press Play to go on."


class BrowserActivity(JSComponent):
    """An invisible component that reports the page's use (pointer, key, wheel)."""

    report_every_ms = param.Integer(default=REPORT_EVERY_MS, constant=True)

    _esm = js("activity.js")

    def __init__(self, on_activity: Callable[[], None], **params):
        super().__init__(**{"name": "activity", "height": 0, "width": 0, "margin": 0, **params})
        self._on_activity = on_activity

    def _handle_msg(self, msg) -> None:
        if isinstance(msg, dict) and msg.get("kind") == "active":
            self._on_activity()


class IdlePause:
    def __init__(self, idle_minutes: float, pause: Callable[[], None], playing: Callable[[], bool],
                 tell: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        """``idle_minutes``: 0 never pauses; ``pause()`` pauses the training, ``playing()`` says
        whether it trains, ``tell(text)`` shows the page a message."""
        self.idle_minutes = idle_minutes
        self._pause, self._playing, self._tell, self._clock = pause, playing, tell, clock
        self.page: Page | None = None  # the page's entry in the classroom (served pages)
        self.last_active = clock()
        self._spell_over = False  # this idle spell has been dealt with
        self.browser = BrowserActivity(self.touch)

    def touch(self, *events) -> None:
        """The page was used now (a watcher's events, if any, are not needed)."""
        self.last_active = self._clock()
        self._spell_over = False
        if self.page is not None:
            self.page.active = self.last_active

    @property
    def idle_s(self) -> float:
        return self._clock() - self.last_active

    @property
    def idle(self) -> bool:
        """Unused for idle_minutes or longer (never, with idle_minutes 0)."""
        return bool(self.idle_minutes) and self.idle_s >= 60 * self.idle_minutes

    def check(self) -> bool:
        """Pause the training if the page has been idle for idle_minutes (once a spell); True if it did."""
        if self._spell_over or not self.idle:
            return False
        self._spell_over = True
        if not self._playing():
            return False
        self._pause()
        self._tell(idle_text(self.idle_minutes))
        return True
