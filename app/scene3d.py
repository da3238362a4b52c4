"""A rotatable 3D point scene drawn on a 2D canvas: the 3D view's renderer.

Why not Plotly's scatter3d: a Plotly redraw is a whole WebGL scene, and a browser without a GPU
(headless Chromium here, a remote desktop, many lecture-hall PCs) renders WebGL in software: the
lab's scene of ~2,800 points took 111-121 ms a redraw in this machine's Chromium, this canvas
~2 ms (bench/scene3d.py), so five Plotly frames a second took most of a core. The lab's 3D content
is points and line segments, which a 2D canvas draws in a few milliseconds on any machine: an
orthographic projection with a little perspective, far points first.

Layers come from Python as Plotly-shaped trace dicts (``to_layer`` turns one into the wire
format); the camera lives in the browser (drag to rotate, wheel to zoom, double-click to reset)
and is kept across frames and re-renders (``camera``). Each drawn frame is echoed (``drawn``), so
the server sends no new frame while the browser is behind.
"""

from __future__ import annotations

import numpy as np
import param
from bokeh.palettes import RdBu11, interp_palette

from .canvas_js import LayerCanvas, module_js

PALETTE_SIZE = 33  # colours of a value-coloured layer (D on the slices): finer than the eye tells apart
# As the 2D view's D: low (fake) red, high (real) blue.
PALETTE = list(reversed(interp_palette(RdBu11, PALETTE_SIZE)))
ARRAYS = {"xyz": np.float32, "shades": np.uint8}  # what a layer carries as an array, and its type


def _coords(trace: dict) -> np.ndarray:
    return np.stack([np.asarray(trace[a], dtype=np.float64) for a in "xyz"], -1)


def _segments(polyline: np.ndarray) -> np.ndarray:
    """A polyline with NaN gaps (Plotly's "lines") as segments: start, end, start, end, ..."""
    finite = np.isfinite(polyline).all(1)
    joined = finite[:-1] & finite[1:]
    return np.stack([polyline[:-1][joined], polyline[1:][joined]], 1).reshape(-1, 3)


def to_layer(trace: dict) -> dict:
    """One Plotly-shaped trace (scatter3d markers or lines) in the scene's wire format: flat float32
    coordinates, one colour, or a palette index per point with the colour bar's range for
    value-coloured markers. Arrays travel in one binary buffer per frame (``PointScene.show``; typed
    arrays in the browser), and param does not compare them element by element with the last
    frame's (lists took ~17 ms a frame in that comparison)."""
    marker = trace.get("marker", {})
    layer = {"name": trace["name"], "opacity": float(marker.get("opacity", 1.0))}
    if trace.get("mode") == "lines":
        xyz = _segments(_coords(trace))
        layer.update(kind="segments", color=trace["line"]["color"], size=float(trace["line"].get("width", 2)))
    else:
        xyz = _coords(trace)
        layer.update(kind="points", size=float(marker.get("size", 3)), symbol=marker.get("symbol", "square"))
        color = marker.get("color", "#444444")
        if isinstance(color, str):
            layer["color"] = color
        else:
            values = np.asarray(color, dtype=np.float64)
            low, high = float(marker["cmin"]), float(marker["cmax"])
            scaled = np.clip((values - low) / max(high - low, 1e-12), 0.0, 1.0)
            layer.update(shades=np.rint(scaled * (PALETTE_SIZE - 1)).astype(np.uint8), palette=PALETTE,
                         colorbar={"title": marker.get("colorbar", {}).get("title", {}).get("text", ""),
                                   "low": low, "high": high})
    layer["xyz"] = xyz.astype(np.float32).ravel()
    return layer


class PointScene(LayerCanvas):
    """Points and segments in a box, drawn on a canvas; see the module's docstring."""

    layers = param.List(default=[], doc="What to draw, in order (see to_layer), their arrays as "
                                        "[offset, length] into arrays['data'] (app/packed.py)")
    box = param.List(default=[[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]], doc="[low, high] of the data box")
    title = param.String(default="")
    camera = param.Dict(default={}, doc="yaw, pitch, zoom: set by the browser when the user moves the view")

    ARRAYS = ARRAYS  # the module's

    _esm = module_js(ARRAYS) + """
    const DEFAULT = {yaw: -0.75, pitch: 0.45, zoom: 1.0};

    export function render({ model, el }) {
      const canvas = addCanvas(el, "lab-scene", "gan-lab-3d.png", true);
      const ctx = canvas.getContext("2d");
      let camera = Object.assign({}, DEFAULT, model.camera || {});
      const hidden = new Set();
      let legendBoxes = [];
      let scheduled = false;

      function project(u, v, w, geom) {
        // u, v, w in [-1, 1]: yaw about the vertical (z) axis, then pitch; depth grows away from the eye.
        const {cosYaw, sinYaw, cosPitch, sinPitch} = geom;
        const x = u * cosYaw - v * sinYaw, d0 = u * sinYaw + v * cosYaw;
        const y = w * cosPitch - d0 * sinPitch, depth = w * sinPitch + d0 * cosPitch;
        const k = geom.scale * 6 / (6 + depth);  // a little perspective, as a depth cue
        return [geom.cx + k * x, geom.cy - k * y, depth];
      }

      function normalise(box) {
        const [lo, hi] = box;
        return (p, a) => 2 * (p - lo[a]) / ((hi[a] - lo[a]) || 1) - 1;
      }

      function draw() {
        scheduled = false;
        const started = performance.now();
        const dpr = window.devicePixelRatio || 1;
        const W = el.clientWidth || 600, H = el.clientHeight || 500;
        if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
          canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
        }
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.clearRect(0, 0, W, H);
        ctx.fillStyle = "white"; ctx.fillRect(0, 0, W, H);
        // The camera's rotation, once per draw (not per point).
        const geom = {cx: W / 2, cy: H / 2 + 10, scale: 0.27 * Math.min(W, H) * camera.zoom,
                      cosYaw: Math.cos(camera.yaw), sinYaw: Math.sin(camera.yaw),
                      cosPitch: Math.cos(camera.pitch), sinPitch: Math.sin(camera.pitch)};
        const box = model.box, norm = normalise(box), layers = layersWithArrays(model);
        const corner = (i, j, k) => project(2 * i - 1, 2 * j - 1, 2 * k - 1, geom);

        // The box: its twelve edges, far ones lighter; axis names and end values on three edges.
        ctx.lineWidth = 1;
        for (const [a, b] of [[[0,0,0],[1,0,0]],[[0,1,0],[1,1,0]],[[0,0,1],[1,0,1]],[[0,1,1],[1,1,1]],
                              [[0,0,0],[0,1,0]],[[1,0,0],[1,1,0]],[[0,0,1],[0,1,1]],[[1,0,1],[1,1,1]],
                              [[0,0,0],[0,0,1]],[[1,0,0],[1,0,1]],[[0,1,0],[0,1,1]],[[1,1,0],[1,1,1]]]) {
          const p = corner(...a), q = corner(...b);
          ctx.strokeStyle = (p[2] + q[2]) / 2 > 0 ? "#e4e4e4" : "#bdbdbd";
          ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
        }
        ctx.fillStyle = "#555"; ctx.font = "11px sans-serif"; ctx.textAlign = "center";
        const fmt = v => (Math.abs(v) < 1e-9 ? 0 : v).toFixed(2);
        // The three axes start at one corner: its values once there, each axis's name and end value along it.
        const lows = box[0].map(fmt), origin = corner(0, 0, 0);
        const low = lows.every(v => v === lows[0]) ? lows[0] : `(${lows.join(", ")})`;
        const half = ctx.measureText(low).width / 2;  // kept inside a narrow view
        ctx.fillText(low, Math.min(Math.max(origin[0], half + 2), W - half - 2), origin[1] + 16);
        ["x", "y", "z"].forEach((name, a) => {
          const at = t => { const c = [0, 0, 0]; c[a] = t; return corner(...c); };
          const mid = at(0.5), hi = at(1);
          ctx.fillText(name, mid[0] - 12, mid[1] + 14);
          ctx.fillText(fmt(box[1][a]), hi[0] - 10, hi[1] + 14);
        });

        // Every point of the shown layers, far ones first (painter's order across layers).
        const items = [];
        let colorbar = null;
        for (const layer of layers) {
          if (hidden.has(layer.name)) continue;
          const xyz = layer.xyz, n = xyz.length / 3;
          if (layer.kind === "segments") {
            ctx.globalAlpha = layer.opacity; ctx.strokeStyle = layer.color; ctx.lineWidth = layer.size;
            ctx.beginPath();
            for (let i = 0; i < n; i += 2) {
              const p = project(norm(xyz[3*i], 0), norm(xyz[3*i+1], 1), norm(xyz[3*i+2], 2), geom);
              const q = project(norm(xyz[3*i+3], 0), norm(xyz[3*i+4], 1), norm(xyz[3*i+5], 2), geom);
              ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]);
            }
            ctx.stroke(); ctx.globalAlpha = 1;
            continue;
          }
          if (layer.colorbar) colorbar = layer;
          for (let i = 0; i < n; i++) {
            const p = project(norm(xyz[3*i], 0), norm(xyz[3*i+1], 1), norm(xyz[3*i+2], 2), geom);
            items.push([p[2], p[0], p[1], layer, i]);
          }
        }
        items.sort((a, b) => b[0] - a[0]);
        for (const [, x, y, layer, i] of items) {
          ctx.globalAlpha = layer.opacity;
          ctx.fillStyle = layer.shades ? layer.palette[layer.shades[i]] : layer.color;
          const s = layer.size;
          if (layer.symbol === "x") {
            ctx.strokeStyle = ctx.fillStyle; ctx.lineWidth = 2; ctx.beginPath();
            ctx.moveTo(x - s, y - s); ctx.lineTo(x + s, y + s); ctx.moveTo(x - s, y + s); ctx.lineTo(x + s, y - s);
            ctx.stroke();
          } else {
            ctx.fillRect(x - s / 2, y - s / 2, s, s);
          }
        }
        ctx.globalAlpha = 1;

        // Title, legend (click a name to hide or show its layer), colour bar.
        ctx.textAlign = "left"; ctx.font = "13px sans-serif"; ctx.fillStyle = "#222";
        ctx.fillText(model.title, 8, 18);
        legendBoxes = [];
        ctx.font = "12px sans-serif";
        layers.forEach((layer, j) => {
          const y = 38 + 17 * j, off = hidden.has(layer.name);
          ctx.globalAlpha = off ? 0.3 : 1;
          ctx.fillStyle = layer.shades ? layer.palette[Math.floor(layer.palette.length * 0.8)] : layer.color;
          ctx.fillRect(8, y - 9, 10, 10);
          ctx.fillStyle = "#222"; ctx.fillText(layer.name, 24, y);
          legendBoxes.push([0, y - 12, 30 + ctx.measureText(layer.name).width, 17, layer.name]);
        });
        ctx.globalAlpha = 1;
        if (colorbar) {
          const x = W - 34, top = 50, h = Math.min(200, H - 100), pal = colorbar.palette;
          for (let j = 0; j < pal.length; j++) {
            ctx.fillStyle = pal[pal.length - 1 - j]; ctx.fillRect(x, top + j * h / pal.length, 12, h / pal.length + 1);
          }
          ctx.fillStyle = "#222"; ctx.textAlign = "right";
          ctx.fillText(colorbar.colorbar.title, x + 12, top - 8);
          ctx.fillText(fmt(colorbar.colorbar.high), x - 3, top + 9);
          ctx.fillText(fmt(colorbar.colorbar.low), x - 3, top + h);
        }
        model.drawn = model.frame;  // the echo: the server may send the next frame
        el.dispatchEvent(new CustomEvent("lab-scene-drawn", {bubbles: true, composed: true,
                                                             detail: {frame: model.frame, ms: performance.now() - started}}));
      }

      function schedule() {
        if (!scheduled) { scheduled = true; requestAnimationFrame(draw); }
      }

      let drag = null;
      canvas.addEventListener("pointerdown", e => {
        const r = canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
        const hit = legendBoxes.find(([bx, by, bw, bh]) => x >= bx && x <= bx + bw && y >= by && y <= by + bh);
        if (hit) { hidden.has(hit[4]) ? hidden.delete(hit[4]) : hidden.add(hit[4]); schedule(); return; }
        drag = {x: e.clientX, y: e.clientY, yaw: camera.yaw, pitch: camera.pitch};
        canvas.setPointerCapture(e.pointerId); canvas.style.cursor = "grabbing";
      });
      canvas.addEventListener("pointermove", e => {
        if (!drag) return;
        camera.yaw = drag.yaw - (e.clientX - drag.x) * 0.01;
        camera.pitch = Math.max(-1.5, Math.min(1.5, drag.pitch + (e.clientY - drag.y) * 0.01));
        schedule();
      });
      const release = () => {
        if (!drag) return;
        drag = null; canvas.style.cursor = "grab";
        model.camera = Object.assign({}, camera);
      };
      canvas.addEventListener("pointerup", release);
      canvas.addEventListener("pointercancel", release);
      canvas.addEventListener("wheel", e => {
        e.preventDefault();
        camera.zoom = Math.max(0.3, Math.min(5, camera.zoom * Math.exp(-e.deltaY * 0.001)));
        model.camera = Object.assign({}, camera);
        schedule();
      }, {passive: false});
      canvas.addEventListener("dblclick", () => { camera = Object.assign({}, DEFAULT); model.camera = {}; schedule(); });

      model.on("layers", schedule);
      model.on("arrays", schedule);  // every frame: the layers themselves may be equal to the last
      model.on("box", schedule);
      model.on("title", schedule);
      new ResizeObserver(schedule).observe(el);
      // For tests and benchmarks in a browser (also the "lab-scene-drawn" event after each draw,
      // which reaches the window): the camera, what the scene holds and hides, a redraw.
      el.scene = { get camera() { return Object.assign({}, camera); }, get layers() { return layersWithArrays(model); },
                   get hidden() { return [...hidden]; }, get legend() { return legendBoxes.map(b => b.slice()); },
                   get drawn() { return model.drawn; }, draw };
      schedule();
    }
    """

    def show(self, traces: list[dict], **changes) -> None:
        """Send a frame: these traces (Plotly-shaped dicts; their arrays packed into one buffer),
        and any of box / title."""
        self._send_layers([to_layer(t) for t in traces], **changes)
