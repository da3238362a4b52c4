"""Animated export: snapshots drawn as RGB images (NumPy), and a run of them encoded as a GIF or
an MP4 (imageio), for slides and handouts. The app records what its data view shows; the command
line's ``train --gif FILE`` records every N-th step.

A 2D frame is the plane as the app draws it: D on its grid through the lab's palette (high D blue,
low D red; a critic's values auto-scaled per frame, as the plane scales them), the real samples,
the mode centres and the generated samples on top, each point a small square. A 3D frame shows
the points in a fixed oblique projection (no D: a volume has no single picture of it). A caption
strip under the picture names the preset, seed and step.

The lab's colours live here, where the app's views (app/colours.py) and these frames both read
them, so a recording looks like the page.

Encoding happens in memory first: the size a file will have is known, and said, before it is
written (atomically, as every result file).
"""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .files import atomic_path

REAL, GENERATED, CENTRES, GP_POINTS = "#1b9e77", "#7b3294", "#000000", "#e6ab02"
SHADES = 256
RDBU11 = ("#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d",
          "#b2182b", "#67001f")  # ColorBrewer's RdBu, dark blue to dark red


def _hex_to_rgb(colours) -> np.ndarray:
    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=np.float64)


def _interpolated(colours, n: int) -> np.ndarray:
    """``colours`` stretched to ``n`` by linear interpolation per channel (rounded down, as
    Bokeh's interp_palette does): (n, 3) uint8."""
    rgb = _hex_to_rgb(colours)
    at = np.linspace(0, len(colours) - 1, n)
    return np.stack([np.interp(at, np.arange(len(colours)), rgb[:, c]) for c in range(3)], 1).astype(np.uint8)


# D's palette, low D (index 0) red to high D blue: the plane's and the 3D scene's.
D_PALETTE_RGB = _interpolated(RDBU11, SHADES)[::-1].copy()
D_PALETTE = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in D_PALETTE_RGB]

SIZE = 320  # the picture's side in pixels; with the caption strip 320 x 336, whole 16-pixel blocks for MP4
CAPTION_HEIGHT = 16
MAX_FRAMES = 400  # about 130 MB of frames at 320 x 336 held until the file is encoded
FORMATS = ("gif", "mp4")
BACKGROUND_3D = (245, 245, 245)
PROJECTION_3D = np.array([[0.866, 0.0, -0.5], [0.25, 0.866, 0.433]])  # x right, z into the page, y up: oblique


def rgb(colour: str) -> np.ndarray:
    return _hex_to_rgb([colour])[0].astype(np.uint8)


def render_frame(snapshot, run: int = 0, size: int = SIZE, caption: str = "",
                 centres: np.ndarray | None = None) -> np.ndarray:
    """The snapshot's run ``run`` as an (size + CAPTION_HEIGHT, size, 3) uint8 image."""
    low, high = np.asarray(snapshot.box_low, float), np.asarray(snapshot.box_high, float)
    if snapshot.dim == 2:
        image = _d_background(snapshot, run, size)
        project = lambda points: points  # noqa: E731 - the plane's own coordinates
        plane_low, plane_high = low, high
    else:
        image = np.empty((size, size, 3), np.uint8)
        image[:] = BACKGROUND_3D
        corners = np.array(np.meshgrid(*zip(low, high), indexing="ij")).reshape(3, -1).T
        projected = (corners - (low + high) / 2) @ PROJECTION_3D.T
        span = np.abs(projected).max(0) * 1.05
        project = lambda points: ((np.asarray(points, float)[:, :3] - (low + high) / 2)  # noqa: E731
                                  @ PROJECTION_3D.T)
        plane_low, plane_high = -span, span
    layers = [(snapshot.real, REAL, 1)]
    if centres is not None and len(centres):
        layers.append((np.asarray(centres)[:, :snapshot.dim], CENTRES, 2))
    if snapshot.fixed_samples is not None:
        layers.append((snapshot.fixed_samples[run], GENERATED, 1))  # generated samples on top
    for points, colour, half in layers:
        _squares(image, project(points), plane_low, plane_high, rgb(colour), half)
    return np.concatenate([image, _caption(caption, size)], 0)


def _d_background(snapshot, run: int, size: int) -> np.ndarray:
    """D's grid through the palette, scaled up to size x size (nearest grid point), y up."""
    if snapshot.d_grid is None:
        return np.full((size, size, 3), 255, np.uint8)
    grid = np.asarray(snapshot.d_grid[run], float)  # [y, x]
    if snapshot.d_is_probability:
        low, high = 0.0, 1.0
    else:
        low, high = float(grid.min()), float(grid.max())
        high = max(high, low + 1e-9)
    index = np.rint(np.clip((grid - low) / (high - low), 0, 1) * (SHADES - 1)).astype(int)
    g = grid.shape[0]
    rows = (np.arange(size) * g // size)[::-1]  # image row 0 is the top: the highest y
    columns = np.arange(size) * g // size
    return D_PALETTE_RGB[index[np.ix_(rows, columns)]]


def _squares(image: np.ndarray, points: np.ndarray, low, high, colour: np.ndarray, half: int) -> None:
    """Draw each point as a (2 half + 1)-pixel square; points outside the picture are left out."""
    size = image.shape[0]
    points = np.asarray(points, float)
    if not len(points):
        return
    scale = (size - 1) / np.maximum(np.asarray(high) - np.asarray(low), 1e-12)
    columns = np.rint((points[:, 0] - low[0]) * scale[0]).astype(int)
    rows = np.rint((high[1] - points[:, 1]) * scale[1]).astype(int)
    inside = (columns >= 0) & (columns < size) & (rows >= 0) & (rows < size)
    columns, rows = columns[inside], rows[inside]
    for dy in range(-half, half + 1):
        for dx in range(-half, half + 1):
            r, c = np.clip(rows + dy, 0, size - 1), np.clip(columns + dx, 0, size - 1)
            image[r, c] = colour


def _caption(text: str, width: int) -> np.ndarray:
    strip = Image.new("RGB", (width, CAPTION_HEIGHT), "white")
    if text:
        ImageDraw.Draw(strip).text((4, 1), text, fill=(0, 0, 0), font=ImageFont.load_default(size=12))
    return np.asarray(strip)


def caption_text(preset: str | None, seed: int, step: int, run: str = "") -> str:
    """"roth · seed 5 · step 1,200" (the lesson's run named where there are several)."""
    name = " / ".join(part for part in (preset, run) if part)
    return " · ".join(part for part in (name, f"seed {seed}", f"step {step:,}") if part)


def encode(frames: list[np.ndarray], fmt: str, fps: float = 10.0) -> bytes:
    """The frames as a GIF (looping) or MP4 (H.264) file's bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: one of {FORMATS}")
    if not frames:
        raise ValueError("no frames")
    stack = np.stack(frames)
    if fmt == "gif":
        return iio.imwrite("<bytes>", stack, extension=".gif", duration=int(round(1000 / fps)), loop=0)
    return iio.imwrite("<bytes>", stack, extension=".mp4", plugin="FFMPEG", fps=fps, macro_block_size=16)


def write_file(path, data: bytes) -> None:
    """Write encoded bytes atomically."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.0f} kB"
