// The 2D data plane (app/plane2d.py): layers in data units, drawn with axes, colour bars and a
// legend. Needs canvas.js, packed.js, ticks.js and mesh.js before it.
const PAD = {left: 48, right: 100, top: 26, bottom: 56};  // the plot area's margins, in CSS pixels (right: the colour bars)
const DRAWN = "#1b1b1b", PLACED = "#e8590c";  // the drawing's points and its mode centres

function hexToRgb(s) { return [1, 3, 5].map(i => parseInt(s.slice(i, i + 2), 16)); }

export function render({ model, el }) {
  const canvas = addCanvas(el, "lab-plane", "gan-lab-plane.png", true, {model, draw});
  const ctx = canvas.getContext("2d");
  const tile = document.createElement("canvas");  // one image at its own resolution, then scaled
  const tileCtx = tile.getContext("2d");
  const rgb = {};
  for (const [name, colours] of Object.entries(model.palettes)) rgb[name] = colours.map(hexToRgb);
  let area = null;  // the plot area in CSS pixels, for the pointer's data coordinates
  let drag = null;  // a pan in progress: where it started, and the view it shows now
  let stroke = null;  // a stroke in progress (draw, erase, centres): its mode and points so far
  let sent = null;  // the last stroke sent, drawn until the drawing that includes it arrives
  let serial = 0;  // numbers the strokes sent, so that two alike are still two
  let pointer = null;  // the pointer's data coordinates over the plot, for the brush's outline
  let scheduled = false;

  // The view in data units, [x0, x1, y0, y1]: the user's (model.view, kept across frames), else the data box.
  function shownView() {
    if (drag) return drag.now;
    if (model.view.length === 4) return model.view;
    const [lo, hi] = model.box;
    return [lo[0], hi[0], lo[1], hi[1]];
  }

  function drawImage(layer, sx, sy, kx, ky) {
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
  }

  // Segments join points 0-1, 2-3, ...; lines join consecutive points, a NaN point ending a line.
  function drawLines(layer, sx, sy) {
    const xy = layer.xy, n = xy.length / 2;
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
  }

  function drawPoints(layer, sx, sy) {
    const xy = layer.xy, n = xy.length / 2, s = layer.size;
    ctx.lineWidth = layer.symbol === "x" ? 2 : 1.5;
    if (layer.symbol === "square") {
      for (let i = 0; i < n; i++) ctx.fillRect(sx(xy[2 * i]) - s / 2, sy(xy[2 * i + 1]) - s / 2, s, s);
      return;
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

  // The drawing on top of the run's layers: its points (less those the eraser has passed over in
  // the stroke now), the stroke's painted points, its mode centres, and the brush at the pointer.
  function drawDrawing(sx, sy, kx) {
    const erasing = [stroke, sent].filter(s => s && s.mode === "erase");
    const erased = (x, y) => erasing.some(({xy, brush}) => {
      for (let j = 0; j < xy.length; j += 2) {
        const dx = x - xy[j], dy = y - xy[j + 1];
        if (dx * dx + dy * dy <= brush * brush) return true;
      }
      return false;
    });
    ctx.globalAlpha = 0.8; ctx.fillStyle = DRAWN;
    for (const [x, y] of model.drawing) if (!erased(x, y)) ctx.fillRect(sx(x) - 2, sy(y) - 2, 4, 4);
    for (const painted of [stroke, sent]) {
      if (!painted || painted.mode !== "draw") continue;
      const xy = painted.xy;
      for (let j = 0; j < xy.length; j += 2) ctx.fillRect(sx(xy[j]) - 2, sy(xy[j + 1]) - 2, 4, 4);
    }
    ctx.globalAlpha = 1; ctx.strokeStyle = PLACED; ctx.lineWidth = 2.5;
    for (const [x, y] of model.drawing_centres) {  // a circled cross
      const cx = sx(x), cy = sy(y);
      ctx.beginPath(); ctx.arc(cx, cy, 8, 0, 2 * Math.PI);
      ctx.moveTo(cx - 4, cy); ctx.lineTo(cx + 4, cy); ctx.moveTo(cx, cy - 4); ctx.lineTo(cx, cy + 4);
      ctx.stroke();
    }
    if (pointer && model.mode !== "centres") {
      ctx.strokeStyle = model.mode === "erase" ? "#c92a2a" : DRAWN; ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
      ctx.beginPath(); ctx.arc(sx(pointer[0]), sy(pointer[1]), model.brush * kx, 0, 2 * Math.PI); ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  function drawAxes(x0, x1, y0, y1, sx, sy) {
    const {left, top, pw, ph} = area;
    ctx.strokeStyle = "#888"; ctx.lineWidth = 1;
    ctx.strokeRect(left, top, pw, ph);
    ctx.fillStyle = "#444"; ctx.font = "13px sans-serif";
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const t of niceTicks(x0, x1, Math.max(2, Math.round(pw / 90)))) {
      const x = sx(t); ctx.beginPath(); ctx.moveTo(x, top + ph); ctx.lineTo(x, top + ph + 5); ctx.stroke();
      ctx.fillText(tickLabel(t), x, top + ph + 7);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of niceTicks(y0, y1, Math.max(2, Math.round(ph / 70)))) {
      const y = sy(t); ctx.beginPath(); ctx.moveTo(left - 5, y); ctx.lineTo(left, y); ctx.stroke();
      ctx.fillText(tickLabel(t), left - 7, y);
    }
    ctx.textAlign = "left"; ctx.textBaseline = "alphabetic"; ctx.font = "bold 14px sans-serif"; ctx.fillStyle = "#222";
    ctx.fillText(model.title, left, 17, pw + PAD.right - 120);  // narrowed, clear of the corner buttons (canvas.js)
  }

  // A colour bar per image, right of the plot.
  function drawColourBars(images) {
    const {left, top, pw, ph} = area;
    images.forEach((layer, k) => {
      const pal = model.palettes[layer.palette], x = left + pw + 12 + 46 * k, h = ph * 0.8;
      const y = top + Math.max(ph * 0.1, 16);  // its title below the corner buttons
      for (let j = 0; j < pal.length; j++) {
        ctx.fillStyle = pal[pal.length - 1 - j]; ctx.fillRect(x, y + j * h / pal.length, 10, h / pal.length + 1);
      }
      ctx.fillStyle = "#222"; ctx.font = "13px sans-serif"; ctx.textAlign = "left";
      ctx.fillText(layer.title, x - 2, y - 6);
      ctx.fillText(tickLabel(layer.high), x + 12, y + 8);
      ctx.fillText(tickLabel(layer.low), x + 12, y + h);
    });
  }

  // The legend below the plot.
  function drawLegend() {
    const {left, top, ph} = area, ly = top + ph + 38;
    let lx = left;
    ctx.font = "13px sans-serif"; ctx.textBaseline = "middle";
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
  }

  function draw() {
    scheduled = false;
    const started = performance.now();
    const W = el.clientWidth || 600, H = el.clientHeight || 600;
    startDraw(canvas, ctx, W, H);
    const [x0, x1, y0, y1] = shownView();
    // A square plot: the data box is a square, so a ring is drawn as a circle at any page width.
    const side = Math.max(10, Math.min(W - PAD.left - PAD.right, H - PAD.top - PAD.bottom));
    area = {left: PAD.left, top: PAD.top, pw: side, ph: side};
    const {left, top, pw, ph} = area, kx = pw / (x1 - x0), ky = ph / (y1 - y0);
    const sx = x => left + (x - x0) * kx, sy = y => top + ph - (y - y0) * ky;

    ctx.save();
    ctx.beginPath(); ctx.rect(left, top, pw, ph); ctx.clip();
    const images = [];
    for (const layer of layersWithArrays(model)) {
      ctx.globalAlpha = layer.opacity;
      ctx.strokeStyle = ctx.fillStyle = layer.color;
      ctx.lineWidth = layer.size;
      if (layer.kind === "image") { drawImage(layer, sx, sy, kx, ky); images.push(layer); }
      else if (layer.kind === "points") drawPoints(layer, sx, sy);
      else if (layer.kind === "quads") { drawQuads(ctx, layer, sx, sy, model.palettes[layer.palette]); images.unshift(layer); }  // its bar first: the widest labels
      else drawLines(layer, sx, sy);
    }
    if (model.mode !== "pan") drawDrawing(sx, sy, kx);
    ctx.restore();
    ctx.globalAlpha = 1;
    drawAxes(x0, x1, y0, y1, sx, sy);
    drawColourBars(images);
    drawLegend();
    model.drawn = model.frame;  // the echo: the server may send the next frame
    // The draw's time in the page's User Timing; only the latest stays (a tab open for hours would
    // hold millions), a PerformanceObserver sees each one.
    performance.clearMeasures("lab-plane-draw");
    performance.measure("lab-plane-draw", {start: started, detail: {frame: model.frame, name: model.name}});
  }

  function schedule() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(draw); }
  }

  // The pointer's data coordinates in view `v`.
  function dataAt(e, v) {
    const r = canvas.getBoundingClientRect(), [x0, x1, y0, y1] = v;
    return [x0 + (e.clientX - r.left - area.left) / area.pw * (x1 - x0),
            y1 - (e.clientY - r.top - area.top) / area.ph * (y1 - y0)];
  }
  // A brush step at data point (x, y) of the stroke: "draw" paints `density` points uniformly
  // in the brush's disc, "erase" adds the point to the eraser's path.
  function dab(x, y) {
    stroke.last = [x, y];
    if (stroke.mode === "erase") { stroke.xy.push(x, y); return; }
    for (let i = 0; i < model.density; i++) {
      const r = model.brush * Math.sqrt(Math.random()), a = 2 * Math.PI * Math.random();
      stroke.xy.push(x + r * Math.cos(a), y + r * Math.sin(a));
    }
  }

  // Brush steps from the last one to (x, y), one every brush radius along the way.
  function paintTo(x, y) {
    const [lx, ly] = stroke.last, length = Math.hypot(x - lx, y - ly), steps = Math.floor(length / model.brush);
    for (let i = 1; i <= steps; i++) dab(lx + (x - lx) * i / steps, ly + (y - ly) * i / steps);
  }

  function cursor() { return model.mode === "pan" ? "grab" : "crosshair"; }

  // Pan mode: drag to pan (the view goes to the model on release). Drawing modes: press and drag
  // paints or erases, a click places or takes away a mode centre; the stroke goes to the model on
  // release. Always: wheel to zoom about the pointer; in pan mode, double-click for the data box.
  canvas.addEventListener("pointerdown", e => {
    if (!area) return;
    const from = shownView().slice();
    canvas.setPointerCapture(e.pointerId);
    if (model.mode === "pan") {
      drag = {from, at: dataAt(e, from), now: from};
      canvas.style.cursor = "grabbing";
      return;
    }
    const [x, y] = dataAt(e, from);
    stroke = {mode: model.mode, xy: [], last: [x, y], brush: model.brush};
    sent = null;
    if (model.mode === "centres") stroke.xy.push(x, y);
    else dab(x, y);
    schedule();
  });
  canvas.addEventListener("pointermove", e => {
    if (!area) return;
    if (drag) {
      const [x, y] = dataAt(e, drag.from), dx = drag.at[0] - x, dy = drag.at[1] - y, v = drag.from;
      drag.now = [v[0] + dx, v[1] + dx, v[2] + dy, v[3] + dy];
      schedule();
      return;
    }
    if (model.mode === "pan") return;
    pointer = dataAt(e, shownView());
    if (stroke && stroke.mode !== "centres") paintTo(pointer[0], pointer[1]);
    schedule();
  });
  canvas.addEventListener("pointerleave", () => { if (pointer) { pointer = null; schedule(); } });
  const release = () => {
    if (stroke) {
      sent = {serial: ++serial, mode: stroke.mode, xy: stroke.xy, brush: model.brush};
      stroke = null;
      model.stroke = sent;
      schedule();
    }
    if (!drag) return;
    const moved = drag.now !== drag.from ? drag.now : null;
    drag = null; canvas.style.cursor = cursor();
    if (moved) model.view = moved;
    schedule();
  };
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("wheel", e => {
    if (!area) return;
    e.preventDefault();
    const v = shownView(), [x, y] = dataAt(e, v), k = Math.exp(e.deltaY * 0.001), [x0, x1, y0, y1] = v;
    model.view = [x + (x0 - x) * k, x + (x1 - x) * k, y + (y0 - y) * k, y + (y1 - y) * k];
    schedule();
  }, {passive: false});
  canvas.addEventListener("dblclick", () => { if (model.mode === "pan") { model.view = []; schedule(); } });

  model.on("layers", schedule);
  model.on("arrays", schedule);  // every frame: the layers themselves may be equal to the last
  for (const name of ["view", "box", "legend", "title", "drawing_centres", "brush"]) model.on(name, schedule);
  model.on("drawing", () => { sent = null; schedule(); });  // the drawing now holds the last stroke
  model.on("mode", () => { canvas.style.cursor = cursor(); pointer = null; schedule(); });
  new ResizeObserver(schedule).observe(el);
  schedule();
}
