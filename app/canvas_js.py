"""What the lab's canvases (the plane, the 3D scene, the charts) share: JavaScript prepended to
each one's module (the canvas itself and its "PNG" button, which saves the figure as the page shows
it, as Bokeh's and Plotly's save tools did before the views became canvases), and their base
classes: ``Canvas`` spares the server two kinds of Panel bookkeeping per frame; ``LayerCanvas``
sends frames of layers whose arrays travel in one buffer (app/packed.py) and are echoed when drawn."""

import json
from pathlib import Path

import param

from .panel_internals import QuietComponent
from .packed import EMPTY, js_types, pack, unpack


JS = Path(__file__).parent / "js"  # the canvases' JavaScript, one file per canvas and the helpers they share


def js(*names: str) -> str:
    """These files of app/js/, joined: a canvas's ES module is its helpers, then its own file."""
    return "\n".join((JS / name).read_text() for name in names)


class Canvas(QuietComponent):
    """A canvas component that the server updates often (the plane and the 3D scene ~11 times a
    second, the charts once)."""


class LayerCanvas(Canvas):
    """A canvas that draws frames of layers (the plane, the 3D scene). ``ARRAYS``: what a layer
    carries as an array, and its type; its module starts with ``module_js(ARRAYS)``, which defines
    ``withArrays`` and ``ARRAYS`` for it."""

    ARRAYS: dict[str, type] = {}

    layers = param.List(default=[], doc="What to draw, in order, their arrays as [offset, length] into arrays['data']")
    arrays = param.Dict(default={"data": EMPTY}, doc="The layers' arrays in one buffer: {'data': uint8}")
    frame = param.Integer(default=0, doc="Bumped with each frame sent")
    drawn = param.Integer(default=0, doc="The last frame the browser has drawn (its echo)")

    def _send_layers(self, layers: list[dict], **changes) -> None:
        """Send a frame: these layers, their arrays packed into one buffer, and any ``changes``."""
        packed, data = pack(layers, self.ARRAYS)
        self.param.update(layers=packed, arrays={"data": data}, frame=self.frame + 1, **changes)

    def shown_layers(self) -> list[dict]:
        """The layers of the last frame, with their arrays."""
        return unpack(self.layers, self.arrays["data"], self.ARRAYS)



def module_js(arrays: dict[str, type]) -> str:
    """The start of a LayerCanvas's module: the shared canvas code, ``ARRAYS`` and
    ``layersWithArrays(model)``."""
    return js("canvas.js", "packed.js") + f"const ARRAYS = {json.dumps(js_types(arrays))};" + """
// The layers of the model's last frame, with their arrays: views into the frame's one buffer.
function layersWithArrays(model) { return withArrays(model.layers, model.arrays.data, ARRAYS); }
"""

