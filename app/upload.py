"""Upload a CSV of 2D or 3D points from the browser to become the run's data.

Only the uploaded bytes are read, by the same parser and with the same checks and messages as the
command line's ``csv`` family (ganlab_datasets.parse_points_csv: size, rows, dimension, finite
numbers); the server never opens a path a browser names. The points then travel inline, as the
``points`` family, through ``apply`` (the sidebar's way of changing the data): 2D data keeps the
networks training, a change of dimension restarts the run and the trainer says so.

Why not Panel's FileInput: it sends a file as one base64 message, and one over the server's
message limit (Bokeh's 20 MB: a CSV of about 15 MiB) closes the page's connection. The file input
here (app/js/upload.js) checks the size in the page, so a file over the CSV limit is refused
with the command line's message without being sent, and sends the rest in chunks.
"""

from __future__ import annotations

import base64
import binascii

import panel as pn
import param
from panel.custom import JSComponent

from ganlab_datasets import ParameterError, check_csv_size, parse_points_csv
from ganlab_datasets.user_data import MAX_CSV_BYTES, MAX_SOURCE_CHARS

from .canvas_js import js
from .drawing import Apply
from .server_limits import MIB, limits

UNNAMED = "uploaded.csv"
CHUNK_BYTES = 4 * 2 ** 20  # a chunk's base64 message stays well under the server's 20 MB limit
HELP = ("Or upload a CSV file: one point a line, 2 or 3 numbers separated by commas, one header "
        "line of names allowed.")


class CsvFileInput(JSComponent):
    """A file input whose file arrives as ``upload``: (count, name, size, bytes), the bytes None
    when the file is over ``max_bytes`` (the page does not send it)."""

    accept = param.String(default=".csv", constant=True)
    max_bytes = param.Integer(default=MAX_CSV_BYTES, constant=True, doc="Larger files are announced, not sent")
    chunk_bytes = param.Integer(default=CHUNK_BYTES, constant=True, doc="Bytes per message")
    upload = param.Tuple(default=None, length=4, allow_None=True,
                         doc="The last file: (count, name, size, bytes or None)")

    _esm = js("upload.js")

    def __init__(self, **params):
        super().__init__(**params)
        self._count = 0
        self._receiving: dict | None = None  # the file whose chunks are arriving

    def _handle_msg(self, msg) -> None:
        """The page's messages (app/js/upload.js); anything else is ignored."""
        if not isinstance(msg, dict):
            return
        kind, serial = msg.get("kind"), msg.get("serial")
        if kind == "start":
            size, name = msg.get("size"), msg.get("name")
            if not isinstance(size, int) or size < 0:
                return
            self._receiving = None
            if size > self.max_bytes:
                self._arrived(name, size, None)
            else:
                self._receiving = {"serial": serial, "name": name, "size": size, "chunks": [], "bytes": 0}
            return
        receiving = self._receiving
        if receiving is None or serial != receiving["serial"]:
            return
        if kind == "chunk" and msg.get("index") == len(receiving["chunks"]) and isinstance(msg.get("data"), str):
            try:
                chunk = base64.b64decode(msg["data"], validate=True)
            except binascii.Error:
                chunk = None
            receiving["bytes"] += len(chunk) if chunk is not None else 0
            if chunk is None or receiving["bytes"] > self.max_bytes:  # not what the page sends: dropped
                self._receiving = None
                return
            receiving["chunks"].append(chunk)
        elif kind == "end" and msg.get("chunks") == len(receiving["chunks"]):
            self._receiving = None
            data = b"".join(receiving["chunks"])
            self._arrived(receiving["name"], len(data), data)

    def _arrived(self, name, size: int, data: bytes | None) -> None:
        self._count += 1
        self.upload = (self._count, name, size, data)


class UploadPanel(pn.viewable.Viewer):
    """A file input whose CSV becomes the run's data, or whose fault is shown beside it."""

    def __init__(self, apply: Apply):
        super().__init__()
        self._apply = apply
        self.file = CsvFileInput(name="csv_upload", max_bytes=limits().max_upload_bytes, sizing_mode="stretch_width",
                                 height=34)
        self.status = pn.pane.Markdown("", styles={"font-size": "0.9em"}, sizing_mode="stretch_width", margin=(0, 10))
        self.error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.file.param.watch(lambda event: self.use_upload(), "upload")
        self._layout = pn.Column(pn.pane.Markdown(HELP, styles={"font-size": "0.85em", "color": "#444"},
                                                  sizing_mode="stretch_width"),
                                 self.file, self.status, self.error, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def use_upload(self) -> bool:
        """Parse the uploaded bytes and send them as the run's data; else say what is wrong."""
        if self.file.upload is None:
            return False
        _, filename, size, data = self.file.upload
        source = shown_name(filename)
        try:
            check_csv_size(size)  # a file over the limit was not sent: its size says why
            if size > self.file.max_bytes:  # this server's own limit (app/server_limits.py)
                raise ParameterError("csv upload", f"a file of at most {self.file.max_bytes / MIB:.3g} MiB on this "
                                                   f"server", f"{size} bytes")
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
