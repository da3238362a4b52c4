"""When a data view may send the browser a new frame: a redraw budget and back-pressure.

Shared by the 2D plane and the 3D scene, both canvases that echo each frame they have drawn.
A browser slower than the trainer (a busy CPU, no GPU) would otherwise queue frames in its
websocket, fall seconds behind, and spend its time decoding frames it never paints."""

from __future__ import annotations

import time

from .protocol import FRAME_INTERVAL_S

# At most one redraw per FRAME_INTERVAL_S on average, with a budget that saves up to BURST redraws,
# since snapshots come irregularly (a busy training process, a late tick) and a per-gap cap dropped
# every one that followed a short gap.
BURST = 2
# No new frame while more than MAX_IN_FLIGHT are unacknowledged, unless for STALL_S.
MAX_IN_FLIGHT = 1
STALL_S = 2.0


class FramePacer:
    """Says whether a frame may go now; the latest one that may not is kept as ``pending``, for
    the view to draw when it may (a paused run's last frame must not be lost)."""

    def __init__(self, canvas):
        """``canvas`` has ``frame`` (bumped per frame sent), ``drawn`` (the browser's echo) and
        ``on_page()`` (whether any browser shows it)."""
        self.canvas = canvas
        self._last = time.monotonic()
        self._behind_since = None
        self._budget = float(BURST)
        self.pending = None

    def admit(self, frame, force: bool = False) -> bool:
        """Whether ``frame`` may be sent now (always if ``force``); if not, it becomes ``pending``."""
        if force or self.may_send():
            self.pending = None
            return True
        self.pending = frame
        return False

    def may_send(self) -> bool:
        now = time.monotonic()
        return not self._browser_behind(now) and self._take_budget(now)

    def _browser_behind(self, now: float) -> bool:
        """Whether the browser still owes acknowledgements of the frames sent (none are owed
        where the canvas is not on a page: nothing to wait for)."""
        if not self.canvas.on_page() or self.canvas.frame - self.canvas.drawn <= MAX_IN_FLIGHT:
            self._behind_since = None
            return False
        if self._behind_since is None:
            self._behind_since = now
        if now - self._behind_since < STALL_S:
            return True
        self._behind_since = now  # no acknowledgement for that long: one frame, then wait again
        return False

    def _take_budget(self, now: float) -> bool:
        """Spend one redraw of the budget, refilled at one per FRAME_INTERVAL_S, if there is one."""
        self._budget = min(float(BURST), self._budget + (now - self._last) / FRAME_INTERVAL_S)
        self._last = now
        if self._budget < 1:
            return False
        self._budget -= 1
        return True
