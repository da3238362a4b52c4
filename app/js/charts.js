// The lab's charts (app/chart_canvas.py): small multiples on one canvas. Each chart has its title,
// its legend in a band above the plot (click an entry: that series hides or shows), and its plot.
// Over a plot: a guide at the nearest step and a read-out of every visible series there; the wheel
// zooms the steps about the pointer, a drag pans them, a double click goes back to following the
// run. The line charts share one step range once zoomed (`x_range`, synced with the server); each
// y axis fits what its x range shows. The canvas is redrawn when the data change or the user acts,
// at most once an animation frame; the guide and read-out are page elements over it, so hovering
// draws nothing. Each draw is a User Timing measure named "lab-charts-draw".

const PAD = {left: 54, right: 10, top: 24, bottom: 36};  // top: the title's band, above the legend
const LEGEND = {row: 17, swatch: 16, gap: 12};
const FONT = "13px sans-serif";  // ticks, legends and read-outs: readable from the back of a lecture hall
const DASHES = {solid: [], dashed: [6, 4], dotted: [2, 3]};
const ZOOM_PER_WHEEL_PIXEL = 0.002;  // a wheel notch (100 px) zooms by 1.22
const MIN_STEPS_SHOWN = 4;
const SYNC_MS = 150;  // the step range reaches the server this long after the last wheel or drag move

// [lo, hi] of the finite values (positive ones on a log axis) of `ys` whose x lies in `xr`
// (all of them without `xr`); null if none.
function extent(pairs, log, xr) {
  let lo = Infinity, hi = -Infinity;
  for (const [xs, ys] of pairs) {
    const [start, end] = xr ? indexRange(xs, xr[0], xr[1], 0) : [0, ys.length];
    for (let i = start; i < end; i++) {
      const v = ys[i];
      if (!isFinite(v) || (log && v <= 0)) continue;
      if (v < lo) lo = v; if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

// The first index of ascending `xs` whose value is >= v (`after`: > v).
function bound(xs, v, after) {
  let lo = 0, hi = xs.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (xs[mid] < v || (after && xs[mid] === v)) lo = mid + 1; else hi = mid; }
  return lo;
}

// [start, end) of the points of ascending `xs` in [a, b], with `margin` points more on each side
// (a line reaches the plot's edge from its first point outside).
function indexRange(xs, a, b, margin) {
  return [Math.max(0, bound(xs, a, false) - margin), Math.min(xs.length, bound(xs, b, true) + margin)];
}

// The index of the point of ascending `xs` nearest to v (-1 if there are none).
function nearest(xs, v) {
  if (!xs.length) return -1;
  const i = bound(xs, v, false);
  if (i === 0) return 0;
  if (i === xs.length) return xs.length - 1;
  return v - xs[i - 1] <= xs[i] - v ? i - 1 : i;
}

// A read-out's value: four significant digits, exponents for the very large and very small.
function valueLabel(v) {
  if (!isFinite(v)) return v === Infinity ? "∞" : "–";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function overlay(el, className, css) {
  const div = document.createElement("div");
  div.className = className;
  div.style.cssText = "position:absolute; display:none; pointer-events:none; " + css;
  el.appendChild(div);
  return div;
}

export function render({ model, el }) {
  const canvas = addCanvas(el, "lab-charts", "gan-lab-charts.png", false, {model, draw});  // sized by draw()
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Training curves and metrics. Over a chart: the values at the nearest step; " +
    "the wheel zooms the steps, a drag pans them, a double click follows the run; a legend entry hides or shows its series.");
  const ctx = canvas.getContext("2d");
  const guide = overlay(el, "lab-charts-guide", "width:1px; background:rgba(0, 0, 0, 0.55);");
  const readout = overlay(el, "lab-charts-readout",
    "font:13px sans-serif; background:rgba(255, 255, 255, 0.94); border:1px solid #bbb; border-radius:3px;" +
    "padding:3px 6px; white-space:nowrap; box-shadow:0 1px 3px rgba(0, 0, 0, 0.15); z-index:2;");

  const hidden = {};  // chart name -> Set of the legend labels the user has hidden
  let plots = [];  // each chart as last drawn: spec, plot area, ranges, legend entries' boxes
  let cols = {};  // the columns as last drawn
  let xRange = null;  // [first, last] step every line chart shows; null: each follows its run
  let pointer = null;  // {x, y} over the canvas, CSS pixels, while the pointer is there
  let drag = null;  // {x, range, plot} where a pan started
  let needDraw = false, needReadout = false, frameAsked = false, syncTimer = null;

  function rangeFromModel() {
    const r = model.x_range;
    xRange = r && r.length === 2 && isFinite(r[0]) && isFinite(r[1]) && r[1] > r[0] ? [r[0], r[1]] : null;
  }
  rangeFromModel();

  // The columns with their values: views into the update's one buffer (app/packed.py).
  function columnsWithArrays() {
    const types = Object.fromEntries(Object.keys(model.columns).map(key => [key, "Float32Array"]));
    return withArrays([model.columns], model.arrays.data, types)[0];
  }
  const get = key => cols[key] || [];
  const isHidden = (spec, label) => !!(hidden[spec.name] && hidden[spec.name].has(label));

  // The legend's entries laid out in rows from (x, y) within `width`; returns the rows used.
  function layoutLegend(entries, x, y, width) {
    ctx.font = FONT;
    let cx = x, row = 0;
    for (const e of entries) {
      const w = LEGEND.swatch + 4 + ctx.measureText(e.label).width;
      if (cx > x && cx + w > x + width) { cx = x; row += 1; }
      Object.assign(e, {x: cx, y: y + row * LEGEND.row, w: w, h: LEGEND.row});
      cx += w + LEGEND.gap;
    }
    return entries.length ? row + 1 : 0;
  }

  function drawLegend(spec, entries) {
    ctx.font = FONT; ctx.textAlign = "left"; ctx.textBaseline = "middle";
    for (const e of entries) {
      const off = isHidden(spec, e.label), y = Math.round(e.y + e.h / 2);  // a two-pixel swatch on whole pixels
      ctx.lineWidth = 2;
      ctx.globalAlpha = off ? 0.3 : 1;
      ctx.strokeStyle = ctx.fillStyle = e.color;
      if (e.bar) ctx.fillRect(e.x, y - 4, LEGEND.swatch, 8);
      else {
        ctx.setLineDash(DASHES[e.dash] || []);
        ctx.beginPath(); ctx.moveTo(e.x, y); ctx.lineTo(e.x + LEGEND.swatch, y); ctx.stroke(); ctx.setLineDash([]);
      }
      ctx.fillStyle = off ? "#888" : "#222";
      ctx.fillText(e.label, e.x + LEGEND.swatch + 4, y);
      if (off) { ctx.strokeStyle = "#888"; ctx.lineWidth = 1; ctx.beginPath();  // struck through
                 ctx.moveTo(e.x + LEGEND.swatch + 4, y + 0.5); ctx.lineTo(e.x + e.w, y + 0.5); ctx.stroke(); }
      ctx.globalAlpha = 1;
    }
  }

  function drawChart(spec, x0, y0, W, H) {
    const sc = model.scalars, log = !!spec.log;
    ctx.fillStyle = "#222"; ctx.font = "bold 14px sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
    const underButtons = y0 === 0 && x0 + W >= canvas.clientWidth - 1;  // the top right chart: canvas.js's corner buttons
    ctx.fillText(spec.bars && sc.histogram_title ? sc.histogram_title : spec.title, x0 + 6, y0 + 16, W - (underButtons ? 120 : 12));
    const legend = (spec.lines || []).filter(l => l.label && !l.planned).map(l => ({label: l.label, color: l.color, dash: l.dash}))
      .concat((spec.bars || []).filter(b => b.label).map(b => ({label: b.label, color: b.color, bar: true})));
    const rows = layoutLegend(legend, x0 + PAD.left, y0 + PAD.top, W - PAD.left - PAD.right);
    drawLegend(spec, legend);
    const left = x0 + PAD.left, top = y0 + PAD.top + rows * LEGEND.row + (rows ? 4 : 0);
    const pw = W - PAD.left - PAD.right, ph = y0 + H - PAD.bottom - top;
    const lines = (spec.lines || []).filter(l => !isHidden(spec, l.label));
    const bars = (spec.bars || []).filter(b => !isHidden(spec, b.label));
    const pairs = lines.map(l => [get(l.x), get(l.y)]);

    // Ranges: x over the visible lines (or the histogram's units, or the shared step range),
    // y over the values shown in that x range, padded.
    let xr, yr;
    if (spec.bars) {
      const n = sc.histogram_units || 1; xr = [-0.5, n - 0.5];
      const ys = bars.map(b => [[], get(b.y)]); if (spec.hline) ys.push([[], [sc[spec.hline] || 0]]);
      const e = extent(ys, false); yr = [0, e ? Math.max(e[1], 1e-9) * 1.05 : 1];
    } else {
      xr = xRange || extent(pairs.map(([xs]) => [xs, xs]), false) || [0, 1];
      yr = extent(pairs, log, xRange) || extent(pairs, log) || (log ? [0.1, 1] : [0, 1]);
    }
    if (xr[1] - xr[0] < 1e-9) xr = [xr[0] - 0.5, xr[1] + 0.5];
    if (log) yr = [Math.log10(yr[0]), Math.log10(yr[1])];
    if (yr[1] - yr[0] < 1e-12) yr = [yr[0] - 0.5, yr[1] + 0.5];
    const padY = 0.05 * (yr[1] - yr[0]); yr = [yr[0] - (spec.bars ? 0 : padY), yr[1] + padY];
    const sx = x => left + (x - xr[0]) / (xr[1] - xr[0]) * pw;
    const sy = y => top + ph - ((log ? Math.log10(y) : y) - yr[0]) / (yr[1] - yr[0]) * ph;

    // Grid, ticks and their values (lines on pixel centres: crisp one-pixel lines).
    ctx.lineWidth = 1; ctx.font = FONT; ctx.fillStyle = "#555"; ctx.strokeStyle = "#eee";
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    let yt = log ? niceTicks(Math.ceil(yr[0]), Math.floor(yr[1]), 4).filter(Number.isInteger).map(e => Math.pow(10, e))
                 : niceTicks(yr[0], yr[1], 4);
    if (log && yt.length < 2) yt = niceTicks(Math.pow(10, yr[0]), Math.pow(10, yr[1]), 3).filter(t => t > 0);  // under a decade
    for (const t of yt) { const y = Math.round(sy(t)) + 0.5; ctx.beginPath(); ctx.moveTo(left + 1, y); ctx.lineTo(left + pw - 1, y);
                          ctx.stroke(); ctx.fillText(tickLabel(t), left - 4, y); }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    const xt = spec.bars ? [] : niceTicks(xr[0], xr[1], 4).filter(Number.isInteger);  // steps
    for (const t of xt) { const x = Math.round(sx(t)) + 0.5; ctx.beginPath(); ctx.moveTo(x, top + 1); ctx.lineTo(x, top + ph - 1);
                          ctx.stroke(); ctx.fillText(tickLabel(t), x, top + ph + 4); }
    if (!spec.bars) ctx.fillText("step", left + pw / 2, top + ph + 19);

    ctx.save(); ctx.beginPath(); ctx.rect(left + 1, top + 1, pw - 2, ph - 2); ctx.clip();
    for (const bar of bars) {
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
    lines.forEach((line, k) => {
      const [xs, ys] = pairs[k], [start, end] = indexRange(xs, xr[0], xr[1], 1);
      ctx.strokeStyle = line.color; ctx.lineWidth = 1.5; ctx.setLineDash(DASHES[line.planned ? "dotted" : line.dash] || []);
      ctx.beginPath();
      let run = 0;  // points in the current stretch without gaps; a lone point is drawn as a dot
      const dot = i => { ctx.fillStyle = line.color; ctx.fillRect(sx(xs[i]) - 2, sy(ys[i]) - 2, 4, 4); };
      for (let i = start; i < end; i++) {
        const ok = isFinite(xs[i]) && isFinite(ys[i]) && (!log || ys[i] > 0);
        if (!ok) { if (run === 1) dot(i - 1); run = 0; continue; }
        run ? ctx.lineTo(sx(xs[i]), sy(ys[i])) : ctx.moveTo(sx(xs[i]), sy(ys[i]));
        run += 1;
      }
      if (run === 1) dot(end - 1);
      ctx.stroke();
    });
    if (spec.now && sc.now > 0) {
      ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.setLineDash(DASHES.dashed); ctx.beginPath();
      ctx.moveTo(sx(sc.now), top); ctx.lineTo(sx(sc.now), top + ph); ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.restore();
    ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1; ctx.strokeRect(left + 0.5, top + 0.5, pw - 1, ph - 1);  // the frame, on top
    return {spec, left, top, pw, ph, xr, sx, legend, lines, bars};
  }

  function draw() {
    const started = performance.now();
    const [W, H] = model.cell;
    const perRow = Math.max(1, Math.floor((el.clientWidth || 2 * W) / W));
    const rows = Math.ceil(model.specs.length / perRow);
    const cw = perRow * W, ch = rows * H;
    canvas.style.width = cw + "px"; canvas.style.height = ch + "px";
    startDraw(canvas, ctx, cw, ch);
    cols = columnsWithArrays();
    plots = model.specs.map((spec, i) => drawChart(spec, (i % perRow) * W, Math.floor(i / perRow) * H, W, H));
    // The page's timeline keeps the latest draw only (a tab open for hours would pile them up); a
    // PerformanceObserver sees every one.
    performance.clearMeasures("lab-charts-draw");
    performance.measure("lab-charts-draw", {start: started, end: performance.now()});
  }

  // The plot under (x, y), if any.
  const plotAt = (x, y) => plots.find(p => x >= p.left && x <= p.left + p.pw && y >= p.top && y <= p.top + p.ph);

  // The guide and read-out for the pointer: the nearest step (or unit) with data and every
  // visible series' value there.
  function showReadout() {
    const p = pointer && !(drag && drag.moved) && plotAt(pointer.x, pointer.y);
    if (!p) { guide.style.display = readout.style.display = "none"; return; }
    const at = p.xr[0] + (pointer.x - p.left) / p.pw * (p.xr[1] - p.xr[0]);
    let where = null, rows = [];
    if (p.spec.bars) {
      const units = model.scalars.histogram_units || 0, unit = Math.round(at);
      if (unit >= 0 && unit < units) {
        where = unit;
        rows = p.bars.map(b => [b.color, b.label || "HQ samples", get(b.y)[unit]]);
        if (p.spec.hline && isFinite(model.scalars[p.spec.hline])) rows.push(["black", "fair share", model.scalars[p.spec.hline]]);
      }
    } else {
      for (const line of p.lines) {  // the step nearest the pointer among the points in view
        const xs = get(line.x), i = nearest(xs, at);
        if (i >= 0 && xs[i] >= p.xr[0] && xs[i] <= p.xr[1] && (where === null || Math.abs(xs[i] - at) < Math.abs(where - at))) where = xs[i];
      }
      if (where !== null) for (const line of p.lines) {
        const xs = get(line.x), i = nearest(xs, where);
        if (i < 0 || where < xs[0] - 1e-9 || where > xs[xs.length - 1] + 1e-9) continue;  // this series does not reach that step
        rows.push([line.color, line.planned ? line.label + " (planned)" : line.label || p.spec.title, get(line.y)[i]]);
      }
    }
    if (where === null) { guide.style.display = readout.style.display = "none"; return; }
    const x = canvas.offsetLeft + p.sx(where);
    Object.assign(guide.style, {display: "block", left: Math.round(x) + "px", top: canvas.offsetTop + p.top + "px", height: p.ph + "px"});
    readout.replaceChildren();
    const head = document.createElement("div");
    head.className = "lab-charts-at";
    head.style.cssText = "font-weight:bold; margin-bottom:1px;";
    head.textContent = p.spec.bars ? `${model.scalars.histogram_unit || "unit"} ${where}` : `step ${where}`;
    readout.appendChild(head);
    for (const [color, label, value] of rows) {
      const row = document.createElement("div");
      row.className = "lab-charts-value";
      const swatch = document.createElement("span");
      swatch.style.cssText = `display:inline-block; width:9px; height:9px; margin-right:5px; background:${color};`;
      row.append(swatch, `${label}: ${valueLabel(value)}`);
      readout.appendChild(row);
    }
    readout.style.display = "block";
    const right = x + 12 + readout.offsetWidth > canvas.offsetLeft + canvas.clientWidth;  // flip left near the edge
    readout.style.left = Math.round(right ? x - 12 - readout.offsetWidth : x + 12) + "px";
    readout.style.top = Math.round(canvas.offsetTop + Math.max(p.top, pointer.y - readout.offsetHeight / 2)) + "px";
  }

  function frame() {
    frameAsked = false;
    if (needDraw) { needDraw = false; draw(); needReadout = true; }
    if (needReadout) { needReadout = false; showReadout(); }
  }
  function ask() { if (!frameAsked) { frameAsked = true; requestAnimationFrame(frame); } }
  function schedule() { needDraw = true; ask(); }

  // The shared step range: drawn at once, sent to the server when the user pauses.
  function setRange(range) {
    xRange = range;
    schedule();
    clearTimeout(syncTimer);
    syncTimer = setTimeout(() => { model.x_range = xRange ? [xRange[0], xRange[1]] : []; }, SYNC_MS);
  }

  const position = e => { const r = canvas.getBoundingClientRect(); return {x: e.clientX - r.left, y: e.clientY - r.top}; };
  const legendAt = (x, y) => { for (const p of plots) for (const e of p.legend)
                                 if (x >= e.x && x <= e.x + e.w && y >= e.y && y <= e.y + e.h) return [p, e];
                               return null; };

  canvas.addEventListener("pointermove", e => {
    pointer = position(e);
    if (drag && (drag.moved || Math.abs(pointer.x - drag.x) >= 3)) {  // a click is not a pan
      drag.moved = true;
      const span = drag.range[1] - drag.range[0], shift = -(pointer.x - drag.x) / drag.plot.pw * span;
      setRange([drag.range[0] + shift, drag.range[1] + shift]);
    }
    const p = plotAt(pointer.x, pointer.y);
    canvas.style.cursor = drag && drag.moved ? "grabbing" : legendAt(pointer.x, pointer.y) ? "pointer" : p && !p.spec.bars ? "crosshair" : "";
    needReadout = true; ask();
  });
  canvas.addEventListener("pointerleave", () => { pointer = null; needReadout = true; ask(); });
  canvas.addEventListener("pointerdown", e => {
    const at = position(e), p = plotAt(at.x, at.y);
    if (e.button !== 0 || !p || p.spec.bars) return;
    drag = {x: at.x, range: xRange || p.xr, plot: p, moved: false};
    canvas.setPointerCapture(e.pointerId);
  });
  const endDrag = () => { drag = null; needReadout = true; ask(); };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);
  canvas.addEventListener("wheel", e => {
    const at = position(e), p = plotAt(at.x, at.y);
    if (!p || p.spec.bars) return;  // elsewhere the wheel scrolls the page
    e.preventDefault();
    const pixels = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1);
    const factor = Math.exp(pixels * ZOOM_PER_WHEEL_PIXEL), [a, b] = xRange || p.xr;
    const step = a + (at.x - p.left) / p.pw * (b - a);
    let range = [step - (step - a) * factor, step + (b - step) * factor];
    if (range[1] - range[0] < MIN_STEPS_SHOWN) {
      const share = (step - a) / (b - a);
      range = [step - share * MIN_STEPS_SHOWN, step + (1 - share) * MIN_STEPS_SHOWN];
    }
    setRange(range);
  }, {passive: false});
  canvas.addEventListener("dblclick", e => {
    const at = position(e), p = plotAt(at.x, at.y);
    if (p && !p.spec.bars) setRange(null);
  });
  canvas.addEventListener("click", e => {
    const at = position(e), hit = legendAt(at.x, at.y);
    if (!hit) return;
    const [p, entry] = hit, set = hidden[p.spec.name] || (hidden[p.spec.name] = new Set());
    set.has(entry.label) ? set.delete(entry.label) : set.add(entry.label);
    schedule();
  });

  model.on("columns", schedule);
  model.on("arrays", schedule);
  model.on("scalars", schedule);
  model.on("specs", schedule);
  model.on("cell", schedule);
  model.on("x_range", () => { rangeFromModel(); schedule(); });
  new ResizeObserver(schedule).observe(el);
  schedule();
}
