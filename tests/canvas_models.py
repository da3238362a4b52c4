"""A layer canvas's state in a page, read as any script in the page may: from its Bokeh model, by
name ("plane", "volume"), and from the page's User Timing (app/canvas_js.py, app/js/)."""

# The model called `name`, or null while the page has none (it is still loading).
_MODEL = ("name => { const doc = window.Bokeh && Bokeh.documents[0]; "
          "return (doc && doc.get_model_by_name(name)) || null; }")

# The model's last frame: its layers with their arrays as lists, decoded here from the frame's one
# buffer by each array's [byte offset, length] (independently of the page's own packed.js).
_LAYERS = """name => {
  const m = (MODEL)(name);
  if (!m) return [];
  const data = new Uint8Array(m.arrays.data);  // a copy of its own: float32 views start aligned
  return m.layers.map(layer => {
    const out = Object.assign({}, layer);
    for (const [key, type] of Object.entries(m.array_types)) {
      if (layer[key]) out[key] = Array.from(new globalThis[type](data.buffer, layer[key][0], layer[key][1]));
    }
    return out;
  });
}""".replace("MODEL", _MODEL)


def layers(page, name: str) -> list[dict]:
    """The layers of the canvas model called ``name``, with their arrays (as lists)."""
    return page.evaluate(_LAYERS, name)


def layer(page, name: str, layer_name: str) -> dict | None:
    return next((item for item in layers(page, name) if item["name"] == layer_name), None)


def read(page, name: str, function: str):
    """``function`` (JavaScript, ``m => ...``) of the Bokeh model called ``name``; None while the
    page has no such model."""
    return page.evaluate(f"name => {{ const m = ({_MODEL})(name); return m ? ({function})(m) : null; }}", name)


def last_draw(page, measure: str) -> dict | None:
    """The latest draw the page timed as ``measure``: {frame, name, ms}; None before the first."""
    return page.evaluate("""measure => {
      const e = performance.getEntriesByName(measure).at(-1);
      return e ? {frame: e.detail.frame, name: e.detail.name, ms: e.duration} : null;
    }""", measure)
