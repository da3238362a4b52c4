"""The lab's charts drawn as small multiples on one canvas: the charts' renderer (its JavaScript:
app/js/charts.js). One canvas, not a Bokeh figure per chart: eleven figures took ~170-200 ms of the
page's time a second on a 2-core machine, the canvas a few milliseconds (bench/app_speed.py).

``specs`` says once what each chart draws (columns by key, colours, dashes, a log axis, a "now"
line, bars); ``columns`` (float32 arrays by key, NaN = a gap; they travel in one buffer,
app/packed.py) and ``scalars`` (now, fair share, the histogram's title and unit) come with each
update. ``x_range`` is the step range the user has zoomed or panned every line chart to, shared
with the page both ways; empty, each chart spans its data (the schedules' planned lines reach to
the run's end).
"""

from __future__ import annotations

import numpy as np
import param

from .canvas_js import Canvas, js
from .packed import EMPTY, pack, unpack


class ChartCanvas(Canvas):
    """Small multiples on one canvas; see the module's docstring."""

    specs = param.List(default=[], doc="One dict per chart: name, title, log, lines, bars, hline, now")
    columns = param.Dict(default={}, doc="key -> [offset, length] of its float32 values in arrays['data']")
    arrays = param.Dict(default={"data": EMPTY}, doc="The columns' values in one buffer: {'data': uint8}")
    scalars = param.Dict(default={}, doc="now (step), fair (share), histogram_title, histogram_unit, histogram_units")
    cell = param.List(default=[390, 215], doc="Width and height of one chart, in CSS pixels")
    x_range = param.List(default=[], doc="[first, last] step every line chart shows; empty: each follows its run")

    _esm = js("canvas.js", "packed.js", "ticks.js", "charts.js")

    def show(self, columns: dict[str, np.ndarray], scalars: dict) -> None:
        """Send an update: these columns (packed into one buffer) and scalars."""
        (packed,), data = pack([columns], dict.fromkeys(columns, np.float32))
        self.param.update(columns=packed, arrays={"data": data}, scalars=scalars)

    def shown_columns(self) -> dict[str, np.ndarray]:
        """The columns of the last update, with their values."""
        return unpack([self.columns], self.arrays["data"], dict.fromkeys(self.columns, np.float32))[0]

    def follow_the_run(self) -> None:
        """Every line chart spans its data again (as a double click on a chart does)."""
        self.x_range = []
