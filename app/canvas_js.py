"""What the lab's canvases (the plane, the 3D scene, the charts) share: JavaScript prepended to
each one's module (the canvas itself and its "PNG" button, which saves the figure as the page shows
it, as Bokeh's and Plotly's save tools did before the views became canvases), and their base
classes: ``Canvas`` spares the server two kinds of Panel bookkeeping per frame; ``LayerCanvas``
sends frames of layers whose arrays travel in one buffer (app/packed.py) and are echoed when drawn."""

import json

import param

from .panel_internals import QuietComponent
from .packed import EMPTY, PACKED_JS, js_types, pack, unpack


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
    return CANVAS_JS + PACKED_JS + f"const ARRAYS = {json.dumps(js_types(arrays))};" + """
// The layers of the model's last frame, with their arrays: views into the frame's one buffer.
function layersWithArrays(model) { return withArrays(model.layers, model.arrays.data, ARRAYS); }
"""


CANVAS_JS = """
// A canvas in `el`, with a PNG button. `interactive`: it fills `el` and takes drags (no touch scrolling).
function addCanvas(el, className, filename, interactive) {
  const canvas = document.createElement("canvas");
  canvas.className = className;
  if (interactive) {
    canvas.style.width = "100%"; canvas.style.height = "100%";
    canvas.style.touchAction = "none"; canvas.style.cursor = "grab";
  }
  el.appendChild(canvas);
  addSaveButton(el, canvas, filename);
  return canvas;
}

function addSaveButton(el, canvas, filename) {
  el.style.position = "relative";
  const button = document.createElement("button");
  button.textContent = "PNG";
  button.title = "Save this figure as a PNG file";
  button.className = "lab-save";
  button.style.cssText = "position:absolute; top:2px; right:2px; font:11px sans-serif; padding:1px 5px;" +
                         "background:rgba(255,255,255,0.85); border:1px solid #bbb; border-radius:3px; cursor:pointer;";
  button.addEventListener("pointerdown", e => e.stopPropagation());  // not a drag of the view
  button.addEventListener("click", () => {
    const link = document.createElement("a");
    link.download = filename;
    link.href = canvas.toDataURL("image/png");
    link.click();
  });
  el.appendChild(button);
}
"""
