// The 3D scene (app/scene3d.py): points and segments in a data box, turned by the user's camera.
// Needs canvas.js, packed.js and ticks.js before it.
const DEFAULT_CAMERA = {yaw: -0.75, pitch: 0.45, zoom: 1.0};
// Legend entry j (one per layer, in order): its swatch's top left at (left, top + row * j - 9), 10 px square.
const LEGEND = {left: 8, top: 38, row: 17};
// The box's twelve edges, as pairs of corners (0: the low end of an axis, 1: the high end).
const BOX_EDGES = [[[0,0,0],[1,0,0]],[[0,1,0],[1,1,0]],[[0,0,1],[1,0,1]],[[0,1,1],[1,1,1]],
                   [[0,0,0],[0,1,0]],[[1,0,0],[1,1,0]],[[0,0,1],[0,1,1]],[[1,0,1],[1,1,1]],
                   [[0,0,0],[0,0,1]],[[1,0,0],[1,0,1]],[[0,1,0],[0,1,1]],[[1,1,0],[1,1,1]]];

// u, v, w in [-1, 1]: yaw about the vertical (z) axis, then pitch; depth grows away from the eye.
function project(u, v, w, geom) {
  const {cosYaw, sinYaw, cosPitch, sinPitch} = geom;
  const x = u * cosYaw - v * sinYaw, d0 = u * sinYaw + v * cosYaw;
  const y = w * cosPitch - d0 * sinPitch, depth = w * sinPitch + d0 * cosPitch;
  const k = geom.scale * 6 / (6 + depth);  // a little perspective, as a depth cue
  return [geom.cx + k * x, geom.cy - k * y, depth];
}

// Data units to [-1, 1] along axis a of the box.
function normaliser(box) {
  const [lo, hi] = box;
  return (p, a) => 2 * (p - lo[a]) / ((hi[a] - lo[a]) || 1) - 1;
}

export function render({ model, el }) {
  const canvas = addCanvas(el, "lab-scene", "gan-lab-3d.png", true, {model, draw});
  const ctx = canvas.getContext("2d");
  let camera = Object.assign({}, DEFAULT_CAMERA, model.camera);  // the model's, or the one a drag shows
  let drag = null;
  let legendBoxes = [];  // [x, y, width, height, layer name] of each legend entry, for clicks
  let scheduled = false;

  // The box: its twelve edges, far ones lighter; the low corner's values, each axis's name and high end.
  function drawBox(box, corner, W) {
    ctx.lineWidth = 1;
    for (const [a, b] of BOX_EDGES) {
      const p = corner(...a), q = corner(...b);
      ctx.strokeStyle = (p[2] + q[2]) / 2 > 0 ? "#e4e4e4" : "#bdbdbd";
      ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
    }
    ctx.fillStyle = "#555"; ctx.font = "13px sans-serif"; ctx.textAlign = "center";
    const lows = box[0].map(tickLabel), origin = corner(0, 0, 0);
    const low = lows.every(v => v === lows[0]) ? lows[0] : `(${lows.join(", ")})`;
    const half = ctx.measureText(low).width / 2;  // kept inside a narrow view
    ctx.fillText(low, Math.min(Math.max(origin[0], half + 2), W - half - 2), origin[1] + 16);
    ["x", "y", "z"].forEach((name, a) => {
      const at = t => { const c = [0, 0, 0]; c[a] = t; return corner(...c); };
      const mid = at(0.5), hi = at(1);
      ctx.fillText(name, mid[0] - 12, mid[1] + 14);
      ctx.fillText(tickLabel(box[1][a]), hi[0] - 10, hi[1] + 14);
    });
  }

  // Every point of the shown layers, far ones first (painter's order across layers); segments
  // as they come. Returns the layer with a colour bar, if any is shown.
  function drawLayers(layers, hidden, norm, geom) {
    const items = [];
    let shaded = null;
    const at = (xyz, i) => project(norm(xyz[3 * i], 0), norm(xyz[3 * i + 1], 1), norm(xyz[3 * i + 2], 2), geom);
    for (const layer of layers) {
      if (hidden.has(layer.name)) continue;
      const xyz = layer.xyz, n = xyz.length / 3;
      if (layer.kind === "segments") {
        ctx.globalAlpha = layer.opacity; ctx.strokeStyle = layer.color; ctx.lineWidth = layer.size;
        ctx.beginPath();
        for (let i = 0; i < n; i += 2) {
          const p = at(xyz, i), q = at(xyz, i + 1);
          ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]);
        }
        ctx.stroke(); ctx.globalAlpha = 1;
        continue;
      }
      if (layer.shades) shaded = layer;
      const colours = layer.shades ? model.palettes[layer.palette] : null;  // looked up once a layer
      for (let i = 0; i < n; i++) {
        const p = at(xyz, i);
        items.push([p[2], p[0], p[1], layer, colours ? colours[layer.shades[i]] : layer.color]);
      }
    }
    items.sort((a, b) => b[0] - a[0]);
    for (const [, x, y, layer, colour] of items) {
      ctx.globalAlpha = layer.opacity;
      ctx.fillStyle = colour;
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
    return shaded;
  }

  // The legend (a click on an entry hides or shows its layer), hidden layers faint.
  function drawLegend(layers, hidden) {
    ctx.textAlign = "left"; ctx.font = "13px sans-serif";
    legendBoxes = layers.map((layer, j) => {
      const y = LEGEND.top + LEGEND.row * j;
      ctx.globalAlpha = hidden.has(layer.name) ? 0.3 : 1;
      const pal = layer.shades && model.palettes[layer.palette];
      ctx.fillStyle = pal ? pal[Math.floor(pal.length * 0.8)] : layer.color;
      ctx.fillRect(LEGEND.left, y - 9, 10, 10);
      ctx.fillStyle = "#222"; ctx.fillText(layer.name, LEGEND.left + 16, y);
      return [0, y - 12, LEGEND.left + 22 + ctx.measureText(layer.name).width, LEGEND.row, layer.name];
    });
    ctx.globalAlpha = 1;
  }

  function drawColourBar(layer, W, H) {
    const x = W - 34, top = 50, h = Math.min(200, H - 100), pal = model.palettes[layer.palette];
    for (let j = 0; j < pal.length; j++) {
      ctx.fillStyle = pal[pal.length - 1 - j]; ctx.fillRect(x, top + j * h / pal.length, 12, h / pal.length + 1);
    }
    ctx.fillStyle = "#222"; ctx.textAlign = "right"; ctx.font = "13px sans-serif";
    ctx.fillText(layer.title, x + 12, top - 8);
    ctx.fillText(tickLabel(layer.high), x - 3, top + 9);
    ctx.fillText(tickLabel(layer.low), x - 3, top + h);
  }

  function draw() {
    scheduled = false;
    const started = performance.now();
    const W = el.clientWidth || 600, H = el.clientHeight || 500;
    startDraw(canvas, ctx, W, H);
    // The camera's rotation, once per draw (not per point).
    const geom = {cx: W / 2, cy: H / 2 + 10, scale: 0.27 * Math.min(W, H) * camera.zoom,
                  cosYaw: Math.cos(camera.yaw), sinYaw: Math.sin(camera.yaw),
                  cosPitch: Math.cos(camera.pitch), sinPitch: Math.sin(camera.pitch)};
    const layers = layersWithArrays(model), hidden = new Set(model.hidden);
    drawBox(model.box, (i, j, k) => project(2 * i - 1, 2 * j - 1, 2 * k - 1, geom), W);
    const shaded = drawLayers(layers, hidden, normaliser(model.box), geom);
    ctx.textAlign = "left"; ctx.font = "13px sans-serif"; ctx.fillStyle = "#222";
    ctx.fillText(model.title, 8, 18);
    drawLegend(layers, hidden);
    if (shaded) drawColourBar(shaded, W, H);
    model.drawn = model.frame;  // the echo: the server may send the next frame
    // The draw's time in the page's User Timing; only the latest stays (a tab open for hours would
    // hold millions), a PerformanceObserver sees each one.
    performance.clearMeasures("lab-scene-draw");
    performance.measure("lab-scene-draw", {start: started, detail: {frame: model.frame, name: model.name}});
  }

  function schedule() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(draw); }
  }

  // A click on a legend entry toggles its layer; else drag to turn (the camera goes to the model
  // on release), wheel to zoom, double-click for the default camera.
  canvas.addEventListener("pointerdown", e => {
    const r = canvas.getBoundingClientRect(), x = e.clientX - r.left, y = e.clientY - r.top;
    const hit = legendBoxes.find(([bx, by, bw, bh]) => x >= bx && x <= bx + bw && y >= by && y <= by + bh);
    if (hit) {
      const name = hit[4];
      model.hidden = model.hidden.includes(name) ? model.hidden.filter(n => n !== name) : [...model.hidden, name];
      schedule();
      return;
    }
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
  canvas.addEventListener("dblclick", () => {
    camera = Object.assign({}, DEFAULT_CAMERA);
    model.camera = {};
    schedule();
  });

  model.on("camera", () => {  // the user's (from this page) or the server's
    if (!drag) camera = Object.assign({}, DEFAULT_CAMERA, model.camera);
    schedule();
  });
  model.on("layers", schedule);
  model.on("arrays", schedule);  // every frame: the layers themselves may be equal to the last
  for (const name of ["hidden", "box", "title"]) model.on(name, schedule);
  new ResizeObserver(schedule).observe(el);
  schedule();
}
