"""What the lab's canvases (the plane, the 3D scene, the charts) share: JavaScript prepended to
each one's module (the canvas itself and its "PNG" button, which saves the figure as the page shows
it, as Bokeh's and Plotly's save tools did before the views became canvases), and their base class,
which spares the server two kinds of Panel bookkeeping per frame."""

from panel.custom import JSComponent


class Canvas(JSComponent):
    """A canvas component that the server updates often (the plane and the 3D scene ~11 times a
    second, the charts once)."""

    # What a canvas sends back on its own (the frame it drew, the camera it keeps): Panel would
    # count each as the app being busy, and that bookkeeping (param's edit_readonly over pn.state,
    # twice an event) took ~15 % of the server's time at 11 frames a second (py-spy).
    _busy__ignore = ["drawn", "camera"]

    def _update_properties(self, *events, doc):
        # Panel resolves the page design's stylesheets (file lookups) on every property change,
        # and uses them only when the stylesheets change: ~12 % of the server's time (py-spy).
        if any(event.name == "stylesheets" for event in events):
            return super()._update_properties(*events, doc=doc)
        return self._process_param_change({event.name: event.new for event in events})

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
