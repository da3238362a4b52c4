"""What the lab's canvases (the plane, the 3D scene, the charts) share: their ES modules, joined
from app/js/ (the canvas itself, its "PNG" button, which saves the figure as the page shows it, and
its "Handout" menu, which saves it redrawn at 1x-3x with a caption; packed arrays; axis ticks),
and their base classes: ``Canvas`` spares the server two kinds of Panel bookkeeping per frame;
``LayerCanvas`` sends frames of layers whose arrays travel in one buffer (app/packed.py) and are
echoed when drawn."""

from pathlib import Path

import param

from .packed import EMPTY, js_types, pack, unpack
from .panel_internals import QuietComponent

JS = Path(__file__).parent / "js"  # the canvases' JavaScript, one file per canvas and the helpers they share


def js(*names: str) -> str:
    """These files of app/js/, joined: a canvas's ES module is its helpers, then its own file."""
    return "\n".join((JS / name).read_text() for name in names)


class Canvas(QuietComponent):
    """A canvas component that the server updates often (the plane and the 3D scene ~11 times a
    second, the charts once). Its "Handout" export (app/js/canvas.js) writes ``caption`` under the
    figure and names the file after ``export_name``; the Lab keeps both current (at most once a
    second: a caption is read when a PNG is saved, not drawn every frame)."""

    caption = param.String(default="", doc="The handout PNG's caption: preset or lesson, seed and step")
    export_name = param.String(default="", doc="The handout PNG's file name before its kind and scale, "
                                               "e.g. roth_seed5_step1200")


class LayerCanvas(Canvas):
    """A canvas that draws frames of layers (the plane, the 3D scene). ``ARRAYS``: what a layer
    carries as an array, and its NumPy type; the page reads a frame's layers with
    ``layersWithArrays(model)`` (app/js/packed.js)."""

    ARRAYS: dict[str, type] = {}

    layers = param.List(default=[], doc="What to draw, in order, their arrays as [offset, length] into arrays['data']")
    arrays = param.Dict(default={"data": EMPTY}, doc="The layers' arrays in one buffer: {'data': uint8}")
    array_types = param.Dict(default={}, constant=True,
                             doc="What a layer carries as an array -> its typed array in the page (from ARRAYS)")
    frame = param.Integer(default=0, doc="Bumped with each frame sent")
    drawn = param.Integer(default=0, doc="The last frame the browser has drawn (its echo)")

    def __init__(self, **params):
        super().__init__(array_types=js_types(self.ARRAYS), **params)

    def show(self, layers: list[dict], **changes) -> None:
        """Send a frame: these layers (see the renderer's *_layer functions), their arrays packed
        into one buffer, and any ``changes`` of the canvas's other parameters."""
        packed, data = pack(layers, self.ARRAYS)
        self.param.update(layers=packed, arrays={"data": data}, frame=self.frame + 1, **changes)

    def shown_layers(self) -> list[dict]:
        """The layers of the last frame, with their arrays."""
        return unpack(self.layers, self.arrays["data"], self.ARRAYS)
