"""The 2D data plane drawn on a canvas: D's heatmap, lines, arrows and points in data units.

Why not a Bokeh figure: every Bokeh repaint lays out and draws its axes, title, legend and colour
bars again, reading computed CSS for each colour it paints. On a slower 2-core machine (2.0 GHz
EPYC, headless Chromium beside the server) a repaint of the lab's Bokeh plane took 20-35 ms, and
~19 ms with all its data layers hidden; the page painted 4.9 of the 10.7 frames a second it was sent
and Chromium took 1.1 cores, which the trainer on the same machine needed (bench/app_speed.py, before
and after: the plane now 31 ms of the page's time a second, 8.8 new frames drawn a second,
Chromium 0.7 cores). This canvas draws the same content in a few milliseconds: images as palette
shades scaled up without smoothing, points as small squares, lines and segments as one path a layer.

Layers come from Python in data units (``PlaneView`` builds them); the browser keeps the user's
pan and zoom across frames (drag to pan, wheel to zoom about the pointer, double-click to reset)
and echoes each frame it has drawn (``drawn``), so the server sends no new frame while it is behind.
"""

from __future__ import annotations

import numpy as np
import param
from bokeh.palettes import RdBu11, Viridis256, interp_palette

from .canvas_js import LayerCanvas, module_js

SHADES = 256
# As before in Bokeh: high D ("looks real") blue, low D red; |grad D| in viridis on a log scale.
PALETTES = {"d": list(reversed(interp_palette(RdBu11, SHADES))), "grad": list(Viridis256)}


def shades(values: np.ndarray, low: float, high: float, log: bool = False) -> np.ndarray:
    """Values as palette indices 0..SHADES-1 over [low, high] (clipped; on a log scale if ``log``)."""
    values = np.asarray(values, dtype=np.float64)
    if log:
        values, low, high = np.log10(np.maximum(values, 1e-300)), np.log10(low), np.log10(high)
    scaled = np.clip((values - low) / max(high - low, 1e-12), 0.0, 1.0)
    return np.rint(np.nan_to_num(scaled) * (SHADES - 1)).astype(np.uint8)


def image_layer(name: str, grid: np.ndarray, xs: np.ndarray, ys: np.ndarray, palette: str,
                low: float, high: float, title: str, log: bool = False, opacity: float = 1.0) -> dict:
    """A heatmap: ``grid[j, i]`` is the value at (xs[i], ys[j]), drawn over [xs[0], xs[-1]] x
    [ys[0], ys[-1]] as Bokeh's image glyph drew it; a colour bar titled ``title`` beside the plot."""
    grid = np.asarray(grid)
    return {"name": name, "kind": "image", "shades": shades(grid, low, high, log).ravel(), "nx": int(grid.shape[1]),
            "ny": int(grid.shape[0]), "x0": float(xs[0]), "y0": float(ys[0]), "dw": float(xs[-1] - xs[0]),
            "dh": float(ys[-1] - ys[0]), "palette": palette, "low": float(low), "high": float(high),
            "log": bool(log), "title": title, "opacity": float(opacity)}


def points_layer(name: str, xy: np.ndarray, color: str, size: float, opacity: float = 1.0,
                 symbol: str = "square") -> dict:
    """Markers at the rows of ``xy`` (N, 2): "square" (filled), "circle" (outline) or "x"."""
    return {"name": name, "kind": "points", "xy": _flat(xy), "color": color, "size": float(size),
            "opacity": float(opacity), "symbol": symbol}


def segments_layer(name: str, starts: np.ndarray, ends: np.ndarray, color: str, width: float = 1.0,
                   opacity: float = 1.0) -> dict:
    """Straight segments from each row of ``starts`` to the same row of ``ends``."""
    pairs = np.stack([np.asarray(starts), np.asarray(ends)], 1).reshape(-1, 2)
    return {"name": name, "kind": "segments", "xy": _flat(pairs), "color": color, "size": float(width),
            "opacity": float(opacity), "dash": False}


def lines_layer(name: str, lines: list[np.ndarray], color: str, width: float = 1.0, dash: bool = False) -> dict:
    """Polylines (each (N, 2)), sent as one array with a NaN row between them."""
    parts = []
    for line in lines:
        parts += [np.asarray(line, dtype=np.float64).reshape(-1, 2), np.full((1, 2), np.nan)]
    xy = np.concatenate(parts) if parts else np.empty((0, 2))
    return {"name": name, "kind": "lines", "xy": _flat(xy), "color": color, "size": float(width),
            "opacity": 1.0, "dash": bool(dash)}


def _flat(xy: np.ndarray) -> np.ndarray:
    """float32, flat: the type the browser reads it as (see ARRAYS)."""
    return np.asarray(xy, dtype=np.float32).reshape(-1)


ARRAYS = {"xy": np.float32, "shades": np.uint8}  # what a layer carries as an array, and its type


class PlaneCanvas(LayerCanvas):
    """Layers in a 2D data box, drawn on a canvas; see the module's docstring."""

    layers = param.List(default=[], doc="What to draw, in order: images first (see the *_layer functions), "
                                        "their arrays as [offset, length] into arrays['data'] (app/packed.py)")
    box = param.List(default=[[-1.0, -1.0], [1.0, 1.0]], doc="[low, high] of the data box: the view at reset")
    title = param.String(default="")
    legend = param.List(default=[], doc="Entries below the plot: {name, color, symbol}")
    palettes = param.Dict(default=PALETTES, constant=True, doc="Colour lists by name, sent once")

    ARRAYS = ARRAYS  # the module's

    _esm = module_js(ARRAYS) + """
    const PAD = {left: 48, right: 74, top: 26, bottom: 56};

    function hexToRgb(s) { return [1, 3, 5].map(i => parseInt(s.slice(i, i + 2), 16)); }

    // Tick values for [a, b]: about n of them at 1, 2 or 5 times a power of ten.
    function ticks(a, b, n) {
      const raw = (b - a) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
      const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw) || 10 * mag;
      const out = [];
      for (let t = Math.ceil(a / step) * step; t <= b + 1e-9 * step; t += step) out.push(Math.abs(t) < 1e-12 ? 0 : t);
      return [out, Math.max(0, -Math.floor(Math.log10(step)))];
    }

    export function render({ model, el }) {
      const canvas = addCanvas(el, "lab-plane", "gan-lab-plane.png", true);
      const ctx = canvas.getContext("2d");
      const tile = document.createElement("canvas");  // one image at its own resolution, then scaled
      const tileCtx = tile.getContext("2d");
      const rgb = {};
      for (const [name, colours] of Object.entries(model.palettes)) rgb[name] = colours.map(hexToRgb);
      let view = null;  // [x0, x1, y0, y1] in data units; null: the data box
      let area = null;  // the plot area in CSS pixels, for the pointer's data coordinates
      let scheduled = false;

      const box = () => { const [lo, hi] = model.box; return [lo[0], hi[0], lo[1], hi[1]]; };


      function draw() {
        scheduled = false;
        const started = performance.now();
        const dpr = window.devicePixelRatio || 1;
        const W = el.clientWidth || 600, H = el.clientHeight || 600;
        if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
          canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
        }
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.fillStyle = "white"; ctx.fillRect(0, 0, W, H);
        const [x0, x1, y0, y1] = view || box();
        const left = PAD.left, top = PAD.top, pw = Math.max(10, W - PAD.left - PAD.right),
              ph = Math.max(10, H - PAD.top - PAD.bottom);
        area = {left, top, pw, ph};
        const kx = pw / (x1 - x0), ky = ph / (y1 - y0);
        const sx = x => left + (x - x0) * kx, sy = y => top + ph - (y - y0) * ky;

        ctx.save();
        ctx.beginPath(); ctx.rect(left, top, pw, ph); ctx.clip();
        const bars = [];
        for (const layer of layersWithArrays(model)) {
          ctx.globalAlpha = layer.opacity;
          if (layer.kind === "image") {
            const {nx, ny} = layer, pal = rgb[layer.palette], px = tileCtx.createImageData(nx, ny);
            for (let j = 0; j < ny; j++) {  // row j is at y0 + j: the canvas's rows go down
              for (let i = 0; i < nx; i++) {
                const c = pal[layer.shades[j * nx + i]], o = 4 * ((ny - 1 - j) * nx + i);
                px.data[o] = c[0]; px.data[o + 1] = c[1]; px.data[o + 2] = c[2]; px.data[o + 3] = 255;
              }
            }
            tile.width = nx; tile.height = ny;
            tileCtx.putImageData(px, 0, 0);
            ctx.imageSmoothingEnabled = false;
            ctx.drawImage(tile, sx(layer.x0), sy(layer.y0 + layer.dh), layer.dw * kx, layer.dh * ky);
            bars.push(layer);
            continue;
          }
          const xy = layer.xy, n = xy.length / 2;
          ctx.strokeStyle = ctx.fillStyle = layer.color;
          ctx.lineWidth = layer.size;
          if (layer.kind === "segments" || layer.kind === "lines") {
            ctx.setLineDash(layer.dash ? [6, 4] : []);
            ctx.beginPath();
            let pen = false;
            for (let i = 0; i < n; i++) {
              const x = xy[2 * i], y = xy[2 * i + 1];
              if (!isFinite(x) || !isFinite(y)) { pen = false; continue; }
              const start = layer.kind === "segments" ? i % 2 === 0 : !pen;
              start ? ctx.moveTo(sx(x), sy(y)) : ctx.lineTo(sx(x), sy(y));
              pen = true;
            }
            ctx.stroke();
            ctx.setLineDash([]);
            continue;
          }
          const s = layer.size;
          ctx.lineWidth = layer.symbol === "x" ? 2 : 1.5;
          if (layer.symbol === "square") {
            for (let i = 0; i < n; i++) ctx.fillRect(sx(xy[2 * i]) - s / 2, sy(xy[2 * i + 1]) - s / 2, s, s);
            continue;
          }
          ctx.beginPath();
          for (let i = 0; i < n; i++) {
            const x = sx(xy[2 * i]), y = sy(xy[2 * i + 1]);
            if (layer.symbol === "circle") { ctx.moveTo(x + s / 2, y); ctx.arc(x, y, s / 2, 0, 2 * Math.PI); }
            else { ctx.moveTo(x - s / 2, y - s / 2); ctx.lineTo(x + s / 2, y + s / 2);
                   ctx.moveTo(x - s / 2, y + s / 2); ctx.lineTo(x + s / 2, y - s / 2); }
          }
          ctx.stroke();
        }
        ctx.restore();
        ctx.globalAlpha = 1;

        // The frame, ticks and their values, the title.
        ctx.strokeStyle = "#888"; ctx.lineWidth = 1;
        ctx.strokeRect(left, top, pw, ph);
        ctx.fillStyle = "#444"; ctx.font = "11px sans-serif";
        const [xt, xd] = ticks(x0, x1, Math.max(2, Math.round(pw / 90)));
        ctx.textAlign = "center"; ctx.textBaseline = "top";
        for (const t of xt) {
          const x = sx(t); ctx.beginPath(); ctx.moveTo(x, top + ph); ctx.lineTo(x, top + ph + 5); ctx.stroke();
          ctx.fillText(t.toFixed(xd), x, top + ph + 7);
        }
        const [yt, yd] = ticks(y0, y1, Math.max(2, Math.round(ph / 70)));
        ctx.textAlign = "right"; ctx.textBaseline = "middle";
        for (const t of yt) {
          const y = sy(t); ctx.beginPath(); ctx.moveTo(left - 5, y); ctx.lineTo(left, y); ctx.stroke();
          ctx.fillText(t.toFixed(yd), left - 7, y);
        }
        ctx.textAlign = "left"; ctx.textBaseline = "alphabetic"; ctx.font = "bold 12px sans-serif"; ctx.fillStyle = "#222";
        ctx.fillText(model.title, left, 17);

        // A colour bar per image, right of the plot.
        bars.forEach((layer, k) => {
          const pal = model.palettes[layer.palette], x = left + pw + 12 + 34 * k, h = ph * 0.8, y = top + ph * 0.1;
          for (let j = 0; j < pal.length; j++) {
            ctx.fillStyle = pal[pal.length - 1 - j]; ctx.fillRect(x, y + j * h / pal.length, 10, h / pal.length + 1);
          }
          ctx.fillStyle = "#222"; ctx.font = "10px sans-serif"; ctx.textAlign = "left";
          const fmt = v => (Math.abs(v) >= 1e3 || (Math.abs(v) < 1e-2 && v !== 0)) ? v.toExponential(0) : v.toPrecision(2);
          ctx.fillText(layer.title, x - 2, y - 6);
          ctx.fillText(fmt(layer.high), x + 12, y + 8);
          ctx.fillText(fmt(layer.low), x + 12, y + h);
        });

        // The legend below the plot.
        let lx = left;
        const ly = top + ph + 38;
        ctx.font = "12px sans-serif"; ctx.textBaseline = "middle";
        for (const entry of model.legend) {
          ctx.fillStyle = ctx.strokeStyle = entry.color; ctx.lineWidth = 1.5;
          if (entry.symbol === "circle") { ctx.beginPath(); ctx.arc(lx + 5, ly, 5, 0, 2 * Math.PI); ctx.stroke(); }
          else if (entry.symbol === "x") { ctx.beginPath(); ctx.moveTo(lx, ly - 5); ctx.lineTo(lx + 10, ly + 5);
                                           ctx.moveTo(lx, ly + 5); ctx.lineTo(lx + 10, ly - 5); ctx.stroke(); }
          else ctx.fillRect(lx + 1, ly - 4, 8, 8);
          ctx.fillStyle = "#222"; ctx.fillText(entry.name, lx + 15, ly);
          lx += 30 + ctx.measureText(entry.name).width;
        }
        ctx.textBaseline = "alphabetic";
        model.drawn = model.frame;  // the echo: the server may send the next frame
        el.dispatchEvent(new CustomEvent("lab-plane-drawn", {bubbles: true, composed: true,
                                                             detail: {frame: model.frame, ms: performance.now() - started}}));
      }

      function schedule() {
        if (!scheduled) { scheduled = true; requestAnimationFrame(draw); }
      }

      // The pointer's data coordinates, and the view moved or scaled about them.
      function dataAt(e) {
        const r = canvas.getBoundingClientRect(), [x0, x1, y0, y1] = view || box();
        return [x0 + (e.clientX - r.left - area.left) / area.pw * (x1 - x0),
                y1 - (e.clientY - r.top - area.top) / area.ph * (y1 - y0)];
      }
      let drag = null;
      canvas.addEventListener("pointerdown", e => {
        if (!area) return;
        drag = {at: dataAt(e), view: (view || box()).slice()};
        canvas.setPointerCapture(e.pointerId); canvas.style.cursor = "grabbing";
      });
      canvas.addEventListener("pointermove", e => {
        if (!drag) return;
        view = drag.view; const [x, y] = dataAt(e);  // in the view the drag started from
        const dx = drag.at[0] - x, dy = drag.at[1] - y, v = drag.view;
        view = [v[0] + dx, v[1] + dx, v[2] + dy, v[3] + dy];
        schedule();
      });
      const release = () => { drag = null; canvas.style.cursor = "grab"; };
      canvas.addEventListener("pointerup", release);
      canvas.addEventListener("pointercancel", release);
      canvas.addEventListener("wheel", e => {
        if (!area) return;
        e.preventDefault();
        const [x, y] = dataAt(e), k = Math.exp(e.deltaY * 0.001), [x0, x1, y0, y1] = view || box();
        view = [x + (x0 - x) * k, x + (x1 - x) * k, y + (y0 - y) * k, y + (y1 - y) * k];
        schedule();
      }, {passive: false});
      canvas.addEventListener("dblclick", () => { view = null; schedule(); });

      model.on("layers", schedule);
      model.on("arrays", schedule);  // every frame: the layers themselves may be equal to the last
      model.on("legend", schedule);
      model.on("title", schedule);
      model.on("box", () => { view = null; schedule(); });  // new data: its whole box
      new ResizeObserver(schedule).observe(el);
      // For tests and benchmarks in a browser (also the "lab-plane-drawn" event after each draw):
      // the view in data units, what the plane holds, a redraw.
      el.plane = { get view() { return (view || box()).slice(); }, get layers() { return layersWithArrays(model); },
                   get drawn() { return model.drawn; }, palette: (name, shade) => rgb[name][shade], draw };
      schedule();
    }
    """

    def show(self, layers: list[dict], **changes) -> None:
        """Send a frame: these layers (their arrays packed into one buffer), and any of box /
        title / legend."""
        self._send_layers(layers, **changes)
