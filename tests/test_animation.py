"""Animated export: a frame's pixels are D's palette colour and the samples' colours where they
should be, a recording reads back with its frames, its stated size is the file's, and
`train --gif` writes a readable GIF."""

import imageio.v3 as iio
import numpy as np
import pytest

from gan_core import animation
from gan_core.animation import CAPTION_HEIGHT, D_PALETTE_RGB, SHADES, encode, render_frame, write_file
from gan_core.cli import main
from gan_core.snapshot import Snapshot


def plane_snapshot(d_grid, samples=None, probability=True):
    """A 2D snapshot on the box [-2, 2]^2 with D given on its grid ([y, x]) and these generated samples."""
    return Snapshot(step=7, dim=2, box_low=np.array([-2.0, -2.0]), box_high=np.array([2.0, 2.0]),
                    objective="nonsaturating" if probability else "wasserstein", d_is_probability=probability,
                    real=np.zeros((0, 2)), fixed_samples=None if samples is None else np.asarray(samples)[None],
                    scalars={}, alive=np.array([True]), diverged_at=np.array([-1]),
                    d_grid=np.asarray(d_grid, float)[None])


def pixel(data_x, data_y, size=animation.SIZE):
    """The image (row, column) of a data point on the [-2, 2]^2 box, counted independently."""
    return round((2 - data_y) / 4 * (size - 1)), round((data_x + 2) / 4 * (size - 1))


def test_d_is_drawn_through_the_palette_with_y_up():
    # D = 0.25 on the lower half of the plane, 1.0 on the upper half.
    grid = np.where(np.arange(8)[:, None] >= 4, 1.0, 0.25) * np.ones((8, 8))
    image = render_frame(plane_snapshot(grid))
    assert image.shape == (animation.SIZE + CAPTION_HEIGHT, animation.SIZE, 3) and image.dtype == np.uint8
    low_colour = D_PALETTE_RGB[round(0.25 * (SHADES - 1))]
    assert np.array_equal(image[pixel(0.5, -1.5)], low_colour)
    assert np.array_equal(image[pixel(-1.0, 1.5)], D_PALETTE_RGB[-1])  # high D: the palette's blue end
    assert D_PALETTE_RGB[-1][2] > D_PALETTE_RGB[-1][0] and low_colour[0] > low_colour[2]


def test_a_critic_is_scaled_to_its_range_on_the_frame():
    grid = np.linspace(-3.0, 5.0, 4)[None, :] * np.ones((4, 4))  # columns -3, -1/3, 7/3, 5
    image = render_frame(plane_snapshot(grid, probability=False))
    assert np.array_equal(image[pixel(-1.9, 0)], D_PALETTE_RGB[0])
    assert np.array_equal(image[pixel(1.9, 0)], D_PALETTE_RGB[-1])


def test_generated_samples_are_squares_on_top():
    image = render_frame(plane_snapshot(np.full((4, 4), 0.5), samples=[[1.0, 1.0]]))
    generated = animation.rgb(animation.GENERATED)
    row, column = pixel(1.0, 1.0)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            assert np.array_equal(image[row + dr, column + dc], generated)
    assert np.array_equal(image[row + 3, column], D_PALETTE_RGB[round(0.5 * (SHADES - 1))])


def test_the_caption_strip_carries_text():
    image = render_frame(plane_snapshot(np.full((4, 4), 0.5)), caption="roth · seed 5 · step 1,200")
    strip = image[-CAPTION_HEIGHT:]
    assert (strip < 128).any() and (strip == 255).mean() > 0.5  # dark letters on white
    blank = render_frame(plane_snapshot(np.full((4, 4), 0.5)))
    assert (blank[-CAPTION_HEIGHT:] == 255).all()


@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_a_recording_reads_back_with_its_frames_and_its_stated_size(tmp_path, fmt):
    frames = [render_frame(plane_snapshot(np.full((4, 4), v), samples=[[v, -v]])) for v in (0.1, 0.4, 0.7, 0.9)]
    data = encode(frames, fmt)
    path = tmp_path / f"run.{fmt}"
    write_file(path, data)
    assert path.stat().st_size == len(data)
    read = list(iio.imiter(path, plugin="pillow" if fmt == "gif" else "FFMPEG"))
    assert len(read) == 4 and read[0].shape[:2] == frames[0].shape[:2]
    if fmt == "gif":  # the colours come back (up to the GIF's 256-colour palette)
        assert np.abs(read[2][..., :3].astype(int) - frames[2]).mean() < 3


def test_train_gif_writes_a_readable_gif_and_says_its_size(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANLAB_DEVICE", "cpu")
    out = tmp_path / "run.gif"
    assert main(["train", "--preset", "nonsaturating", "--steps", "6", "--gif", str(out), "--gif-every", "2",
                 "--set", "g_width=16", "--set", "d_width=16", "--set", "batch_size=32",
                 "--out", str(tmp_path / "out")]) == 0
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == 4  # steps 0, 2, 4, 6
    said = capsys.readouterr().err
    assert f"writing {out}: 4 frames, 320 x 336, {animation.size_text(out.stat().st_size)}" in said
    assert main(["train", "--preset", "nonsaturating", "--steps", "5000", "--gif", str(tmp_path / "x.gif"),
                 "--gif-every", "1", "--out", str(tmp_path / "never")]) == 2
    assert "parameter '--gif-every' must be an integer of at least 13 (at most 400 frames)" in capsys.readouterr().err
    assert main(["train", "--preset", "nonsaturating", "--gif", str(tmp_path / "x.png"),
                 "--out", str(tmp_path / "never")]) == 2
    assert "parameter '--gif' must be a .gif or .mp4 file" in capsys.readouterr().err
    assert not (tmp_path / "never").exists() and not (tmp_path / "x.gif").exists()
