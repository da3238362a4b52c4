"""The data views' colours: the samples' colours, the palettes the plane and the 3D scene share,
and values as palette indices ("shades": one byte a value on the wire)."""

from __future__ import annotations

import numpy as np
from bokeh.palettes import BrBG11, Viridis256, interp_palette

# The samples' colours and D's palette are gan_core's, which draws the recorded frames in them too.
from gan_core.animation import CENTRES, D_PALETTE, GENERATED, GP_POINTS, REAL, SHADES

__all__ = ["CENTRES", "GENERATED", "GP_POINTS", "REAL", "SHADES", "PALETTES", "shades"]

# High D ("looks real") blue, low D red, in the plane and the 3D scene alike; |grad D| in viridis.
PALETTES = {"d": list(D_PALETTE), "grad": list(Viridis256)}
# How much G stretches its latent grid (log of an area ratio): squeezed cells brown, a kept area
# white, stretched cells teal.
PALETTES["stretch"] = list(reversed(interp_palette(BrBG11, SHADES)))


def shades(values: np.ndarray, low: float, high: float, log: bool = False) -> np.ndarray:
    """Values as palette indices 0..SHADES-1 over [low, high] (clipped; on a log scale if ``log``)."""
    values = np.asarray(values, dtype=np.float64)
    if log:
        values, low, high = np.log10(np.maximum(values, 1e-300)), np.log10(low), np.log10(high)
    scaled = np.clip((values - low) / max(high - low, 1e-12), 0.0, 1.0)
    return np.rint(np.nan_to_num(scaled) * (SHADES - 1)).astype(np.uint8)
