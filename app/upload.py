"""Upload a CSV of 2D or 3D points from the browser to become the run's data.

Only the uploaded bytes are read, by the same parser and with the same checks and messages as the
command line's ``csv`` family (ganlab_datasets.parse_points_csv: size, rows, dimension, finite
numbers); the server never opens a path a browser names. The points then travel inline, as the
``points`` family, through ``apply`` (the sidebar's way of changing the data): 2D data keeps the
networks training, a change of dimension restarts the run and the trainer says so.
"""

from __future__ import annotations

import panel as pn

from ganlab_datasets import ParameterError, parse_points_csv
from ganlab_datasets.user_data import MAX_SOURCE_CHARS

from .drawing import Apply
from .widgets import make

UNNAMED = "uploaded.csv"
HELP = ("Or upload a CSV file: one point a line, 2 or 3 numbers separated by commas, one header "
        "line of names allowed.")


class UploadPanel(pn.viewable.Viewer):
    """A file input whose CSV becomes the run's data, or whose fault is shown beside it."""

    def __init__(self, apply: Apply):
        super().__init__()
        self._apply = apply
        self.file = make(pn.widgets.FileInput, accept=".csv", multiple=False, sizing_mode="stretch_width")
        self.status = pn.pane.Markdown("", styles={"font-size": "0.9em"}, sizing_mode="stretch_width", margin=(0, 10))
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.file.param.watch(lambda event: self.use_upload(), "value")
        self._layout = pn.Column(pn.pane.Markdown(HELP, styles={"font-size": "0.85em", "color": "#444"},
                                                  sizing_mode="stretch_width"),
                                 self.file, self.status, self.error, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def use_upload(self) -> bool:
        """Parse the uploaded bytes and send them as the run's data; else say what is wrong."""
        data = self.file.value
        if data is None:
            return False
        source = shown_name(self.file.filename)
        try:
            points = parse_points_csv(data)
        except ParameterError as error:
            refusal = f"{source}: {error}"
        else:
            refusal = self._apply("points", {"points": points.tolist(), "source": source})
            if refusal is None:
                self.status.object = f"The run trains on **{source}**: {len(points)} points in {points.shape[1]}D."
        self.error.param.update(object=refusal or "", visible=refusal is not None)
        if refusal is not None:
            self.status.object = ""
        return refusal is None


def shown_name(filename) -> str:
    """The uploaded file's name as the page shows it (a label only, never opened): its last
    path part, printable characters only, at most MAX_SOURCE_CHARS."""
    name = filename if isinstance(filename, str) else ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable())[:MAX_SOURCE_CHARS]
    return name or UNNAMED
