"""The lab's charts drawn as small multiples on one canvas: the charts' renderer.

Why not eleven Bokeh figures: each repainted all its axes, title and legend at every update, and
twice (its auto-ranges change after the first paint), reading computed CSS for every colour; on a
slow 2-core machine that was ~14 paints and ~170-200 ms of the page's time a second, and with the
charts frozen Chromium's share beside the lab fell from 0.6 to 0.36 of a core, which the trainer on
the same machine needed (bench/app_speed.py). Lines, bars and a few axis labels on one canvas take a
few milliseconds a second.

``specs`` says once what each chart draws (columns by key, colours, dashes, a log axis, a "now"
line, bars); ``columns`` (float32 arrays by key, NaN = a gap; they travel in one buffer,
app/packed.py) and ``scalars`` (now, fair share, the histogram's title) come with each update.
Each chart's ranges span its data, as Bokeh's auto-ranges did: the schedules' planned lines reach
to the run's end.
"""

from __future__ import annotations

import numpy as np
import param

from .canvas_js import Canvas, js
from .packed import EMPTY, pack, unpack


class ChartCanvas(Canvas):
    """Small multiples on one canvas; see the module's docstring."""

    specs = param.List(default=[], doc="One dict per chart: title, log, lines, bars, hline, now")
    columns = param.Dict(default={}, doc="key -> [offset, length] of its float32 values in arrays['data']")
    arrays = param.Dict(default={"data": EMPTY}, doc="The columns' values in one buffer: {'data': uint8}")
    scalars = param.Dict(default={}, doc="now (step), fair (share), histogram_title, histogram_units")
    cell = param.List(default=[390, 215], doc="Width and height of one chart, in CSS pixels")

    _esm = js("canvas.js", "packed.js", "ticks.js") + """
    const PAD = {left: 46, right: 10, top: 22, bottom: 30};
    const DASHES = {solid: [], dashed: [6, 4], dotted: [2, 3]};

    function extent(arrays, log) {
      let lo = Infinity, hi = -Infinity;
      for (const a of arrays) for (let i = 0; i < a.length; i++) {
        const v = a[i];
        if (!isFinite(v) || (log && v <= 0)) continue;
        if (v < lo) lo = v; if (v > hi) hi = v;
      }
      return lo <= hi ? [lo, hi] : null;
    }

    export function render({ model, el }) {
      const canvas = addCanvas(el, "lab-charts", "gan-lab-charts.png", false);  // sized by draw()
      const ctx = canvas.getContext("2d");
      let scheduled = false, draws = 0;
      // The columns with their values: views into the update's one buffer (app/packed.py).
      function columnsWithArrays() {
        const types = Object.fromEntries(Object.keys(model.columns).map(key => [key, "Float32Array"]));
        return withArrays([model.columns], model.arrays.data, types)[0];
      }

      function drawChart(spec, cols, x0, y0, W, H) {
        const sc = model.scalars, log = !!spec.log;
        const left = x0 + PAD.left, top = y0 + PAD.top, pw = W - PAD.left - PAD.right, ph = H - PAD.top - PAD.bottom;
        ctx.fillStyle = "#222"; ctx.font = "bold 12px sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
        const title = spec.bars && sc.histogram_title ? sc.histogram_title : spec.title;
        ctx.fillText(title, x0 + 6, y0 + 14);
        ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1; ctx.strokeRect(left, top, pw, ph);
        const get = key => cols[key] || [];
        // Ranges: x over every line (or the histogram's units), y over every value, padded.
        let xr, yr;
        if (spec.bars) {
          const n = sc.histogram_units || 1; xr = [-0.5, n - 0.5];
          const ys = spec.bars.map(b => get(b.y)); if (spec.hline) ys.push([sc[spec.hline] || 0]);
          const e = extent(ys, false); yr = [0, e ? Math.max(e[1], 1e-9) * 1.05 : 1];
        } else {
          xr = extent(spec.lines.map(l => get(l.x)), false) || [0, 1];
          yr = extent(spec.lines.map(l => get(l.y)), log) || (log ? [0.1, 1] : [0, 1]);
        }
        if (xr[1] - xr[0] < 1e-9) xr = [xr[0] - 0.5, xr[1] + 0.5];
        if (log) { yr = [Math.log10(yr[0]), Math.log10(yr[1])]; }
        if (yr[1] - yr[0] < 1e-12) yr = [yr[0] - 0.5, yr[1] + 0.5];
        const padY = 0.05 * (yr[1] - yr[0]); yr = [yr[0] - (spec.bars ? 0 : padY), yr[1] + padY];
        const sx = x => left + (x - xr[0]) / (xr[1] - xr[0]) * pw;
        const sy = y => top + ph - ((log ? Math.log10(y) : y) - yr[0]) / (yr[1] - yr[0]) * ph;

        // Axes: ticks and values.
        ctx.font = "10px sans-serif"; ctx.fillStyle = "#555"; ctx.strokeStyle = "#eee";
        ctx.textAlign = "right"; ctx.textBaseline = "middle";
        let yt = log ? niceTicks(Math.ceil(yr[0]), Math.floor(yr[1]), 4).filter(Number.isInteger).map(e => Math.pow(10, e))
                     : niceTicks(yr[0], yr[1], 4);
        if (log && yt.length < 2) yt = niceTicks(Math.pow(10, yr[0]), Math.pow(10, yr[1]), 3).filter(t => t > 0);  // under a decade
        for (const t of yt) { const y = sy(t); ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
                              ctx.fillText(tickLabel(t), left - 4, y); }
        ctx.textAlign = "center"; ctx.textBaseline = "top";
        const xt = spec.bars ? [] : niceTicks(xr[0], xr[1], 4).filter(Number.isInteger);  // steps
        for (const t of xt) { const x = sx(t); ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + ph); ctx.stroke();
                              ctx.fillText(tickLabel(t), x, top + ph + 4); }
        if (!spec.bars) ctx.fillText("step", left + pw / 2, top + ph + 16);

        ctx.save(); ctx.beginPath(); ctx.rect(left, top, pw, ph); ctx.clip();
        for (const bar of spec.bars || []) {
          const ys = get(bar.y); ctx.fillStyle = bar.color;
          for (let i = 0; i < ys.length; i++) {
            const x = sx(i + bar.offset - bar.width / 2), w = sx(i + bar.offset + bar.width / 2) - x;
            ctx.fillRect(x, sy(ys[i]), w, top + ph - sy(ys[i]));
          }
        }
        if (spec.hline && isFinite(sc[spec.hline])) {
          ctx.strokeStyle = "black"; ctx.setLineDash(DASHES.dashed); ctx.beginPath();
          ctx.moveTo(left, sy(sc[spec.hline])); ctx.lineTo(left + pw, sy(sc[spec.hline])); ctx.stroke();
        }
        for (const line of spec.lines || []) {
          const xs = get(line.x), ys = get(line.y);
          ctx.strokeStyle = line.color; ctx.lineWidth = 1.5; ctx.setLineDash(DASHES[line.dash] || []);
          ctx.beginPath();
          let run = 0;  // points in the current stretch without gaps; a lone point is drawn as a dot
          const dot = i => { ctx.fillStyle = line.color; ctx.fillRect(sx(xs[i]) - 2, sy(ys[i]) - 2, 4, 4); };
          for (let i = 0; i < ys.length; i++) {
            const ok = isFinite(xs[i]) && isFinite(ys[i]) && (!log || ys[i] > 0);
            if (!ok) { if (run === 1) dot(i - 1); run = 0; continue; }
            run ? ctx.lineTo(sx(xs[i]), sy(ys[i])) : ctx.moveTo(sx(xs[i]), sy(ys[i]));
            run += 1;
          }
          if (run === 1) dot(ys.length - 1);
          ctx.stroke();
        }
        if (spec.now && sc.now > 0) {
          ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.setLineDash(DASHES.dashed); ctx.beginPath();
          ctx.moveTo(sx(sc.now), top); ctx.lineTo(sx(sc.now), top + ph); ctx.stroke();
        }
        ctx.setLineDash([]);
        ctx.restore();

        // Legend, top left inside the plot.
        const entries = (spec.lines || []).filter(l => l.label).concat((spec.bars || []).filter(b => b.label));
        ctx.font = "10px sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
        entries.forEach((e, k) => {
          const y = top + 9 + 13 * k;
          ctx.fillStyle = "rgba(255, 255, 255, 0.75)"; ctx.fillRect(left + 2, y - 6, 26 + ctx.measureText(e.label).width, 12);
          ctx.strokeStyle = ctx.fillStyle = e.color; ctx.lineWidth = 1.5; ctx.setLineDash(DASHES[e.dash] || []);
          ctx.beginPath(); ctx.moveTo(left + 5, y); ctx.lineTo(left + 21, y); ctx.stroke(); ctx.setLineDash([]);
          ctx.fillStyle = "#222"; ctx.fillText(e.label, left + 25, y);
        });
      }

      function draw() {
        scheduled = false;
        const started = performance.now();
        const [W, H] = model.cell, dpr = window.devicePixelRatio || 1;
        const perRow = Math.max(1, Math.floor((el.clientWidth || 2 * W) / W));
        const rows = Math.ceil(model.specs.length / perRow);
        const cw = perRow * W, ch = rows * H;
        if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(ch * dpr)) {
          canvas.width = Math.round(cw * dpr); canvas.height = Math.round(ch * dpr);
          canvas.style.width = cw + "px"; canvas.style.height = ch + "px";
        }
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.fillStyle = "white"; ctx.fillRect(0, 0, cw, ch);
        const cols = columnsWithArrays();
        model.specs.forEach((spec, i) => drawChart(spec, cols, (i % perRow) * W, Math.floor(i / perRow) * H, W, H));
        draws += 1;
        el.dispatchEvent(new CustomEvent("lab-charts-drawn", {bubbles: true, composed: true,
                                                              detail: {ms: performance.now() - started}}));
      }
      function schedule() { if (!scheduled) { scheduled = true; requestAnimationFrame(draw); } }
      model.on("columns", schedule);
      model.on("arrays", schedule);
      model.on("scalars", schedule);
      model.on("specs", schedule);
      new ResizeObserver(schedule).observe(el);
      // For tests in a browser: a column's values by key, the number of draws, a pixel's colour.
      el.charts = { column: key => Array.from(columnsWithArrays()[key] || []), get drawn() { return draws; },
                    pixel: (x, y) => Array.from(ctx.getImageData(x * (window.devicePixelRatio || 1),
                                                                   y * (window.devicePixelRatio || 1), 1, 1).data) };
      schedule();
    }
    """

    def show(self, columns: dict[str, np.ndarray], scalars: dict) -> None:
        """Send an update: these columns (packed into one buffer) and scalars."""
        (packed,), data = pack([columns], dict.fromkeys(columns, np.float32))
        self.param.update(columns=packed, arrays={"data": data}, scalars=scalars)

    def shown_columns(self) -> dict[str, np.ndarray]:
        """The columns of the last update, with their values."""
        return unpack([self.columns], self.arrays["data"], dict.fromkeys(self.columns, np.float32))[0]
