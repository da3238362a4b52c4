"""Recording the data view: while on, the frames the page draws are drawn again as images
(gan_core/animation.py: D's palette, the samples, a caption with the preset, seed and step) and
kept, a lesson's runs side by side; Stop encodes them as a GIF or MP4 in memory, so that its size
is known before anyone downloads it.

At most RECORD_FPS frames a second are kept (each costs the server ~20 ms to draw) and at most
animation.MAX_FRAMES in all: recording stops by itself there and says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gan_core import animation

RECORD_FPS = 5.0  # frames kept per second of the page: the file plays at the speed it was recorded


@dataclass
class Recording:
    """An encoded recording and what the page says of it."""

    data: bytes
    fmt: str
    frames: int
    width: int
    height: int

    def describe(self) -> str:
        return f"{self.frames} frames, {self.width} x {self.height}, about {animation.size_text(len(self.data))}"


class Recorder:
    def __init__(self, fps: float = RECORD_FPS, max_frames: int = animation.MAX_FRAMES):
        self.fps, self.max_frames = fps, max_frames
        self.frames: list[np.ndarray] = []
        self.recording = False
        self.full = False  # stopped by the frame cap
        self._due = 0.0

    def start(self) -> None:
        self.frames, self.recording, self.full, self._due = [], True, False, 0.0

    def add(self, snapshots: list, dataset: dict, captions: list[str], now: float | None = None) -> bool:
        """Keep this drawn frame (one snapshot per run) if recording and its time has come; True if kept."""
        now = time.monotonic() if now is None else now
        if not self.recording or now < self._due or snapshots[0].dim not in (2, 3):
            return False
        self._due = now + 1 / self.fps
        centres = dataset.get("centres")
        pictures = [animation.render_frame(snapshot, caption=caption, centres=centres)
                    for snapshot, caption in zip(snapshots, captions)]
        self.frames.append(np.concatenate(pictures, 1))
        if len(self.frames) >= self.max_frames:
            self.recording, self.full = False, True
        return True

    def stop(self, fmt: str) -> Recording | None:
        """Stop and encode what was kept (None if nothing was)."""
        self.recording = False
        if not self.frames:
            return None
        # A lesson's runs may change in number mid-recording: keep the frames of the last width.
        width = self.frames[-1].shape[1]
        frames = [frame for frame in self.frames if frame.shape[1] == width]
        data = animation.encode(frames, fmt, fps=self.fps)
        height = frames[0].shape[0]
        self.frames = []
        return Recording(data, fmt, len(frames), width, height)
