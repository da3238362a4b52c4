// A canvas in `el`, with a PNG button. `interactive`: it fills `el` and takes drags (no touch scrolling).
// `figure`: the renderer's {model, draw}; with them the canvas also offers "Handout": the figure
// redrawn at 1x, 2x or 3x with a caption (the model's `caption`) under it.
function addCanvas(el, className, filename, interactive, figure) {
  const canvas = document.createElement("canvas");
  canvas.className = className;
  if (interactive) {
    canvas.style.width = "100%"; canvas.style.height = "100%";
    canvas.style.touchAction = "none"; canvas.style.cursor = "grab";
  }
  el.appendChild(canvas);
  addSaveButton(el, canvas, filename);
  if (figure && figure.model && figure.draw) addHandoutButton(el, canvas, filename, figure);
  return canvas;
}

// Start a draw of `canvas` at W x H CSS pixels: its pixel buffer matches the screen's density
// (or the scale a handout asks for, while it is drawn), drawing is in CSS pixels, and the
// background is white.
function startDraw(canvas, ctx, W, H) {
  const dpr = canvas.exportScale || window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, W, H);
}

const CORNER_BUTTON = "position:absolute; top:2px; font:13px sans-serif; padding:1px 5px;" +
                      "background:rgba(255,255,255,0.85); border:1px solid #bbb; border-radius:3px; cursor:pointer;";

function cornerButton(el, text, title, className, right) {
  el.style.position = "relative";
  const button = document.createElement("button");
  button.textContent = text;
  button.title = title;
  button.className = className;
  button.style.cssText = CORNER_BUTTON + `right:${right}px;`;
  button.addEventListener("pointerdown", e => e.stopPropagation());  // not a drag of the view
  el.appendChild(button);
  return button;
}

function download(canvas, filename) {
  const link = document.createElement("a");
  link.download = filename;
  link.href = canvas.toDataURL("image/png");
  link.click();
}

function addSaveButton(el, canvas, filename) {
  const button = cornerButton(el, "PNG", "Save this figure as a PNG file, as the page shows it", "lab-save", 2);
  button.addEventListener("click", () => download(canvas, filename));
}

// "Handout": a small menu of scales; each saves the figure redrawn at that scale (whole legends
// and type, not a blown-up screenshot) with a caption strip naming the preset or lesson, the
// seed and the step, in a file named after them: roth_seed5_step1200_plane_2x.png.
const HANDOUT_SCALES = [1, 2, 3];
const CAPTION_STRIP = 24;  // CSS pixels under the figure

function addHandoutButton(el, canvas, filename, figure) {
  const button = cornerButton(el, "Handout", "Save this figure for a handout: at 1x, 2x or 3x, with the " +
                              "preset, seed and step under it", "lab-handout", 46);
  const menu = document.createElement("div");
  menu.className = "lab-handout-menu";
  menu.style.cssText = "position:absolute; top:24px; right:46px; display:none; z-index:10; background:white;" +
                       "border:1px solid #bbb; border-radius:3px; padding:3px; font:13px sans-serif;";
  for (const scale of HANDOUT_SCALES) {
    const choice = document.createElement("button");
    choice.textContent = `${scale}×`;
    choice.title = `PNG at ${scale}x the figure's size on the page`;
    choice.className = "lab-handout-scale";
    choice.dataset.scale = scale;
    choice.style.cssText = "margin:0 2px; font:13px sans-serif; cursor:pointer;";
    choice.addEventListener("pointerdown", e => e.stopPropagation());
    choice.addEventListener("click", () => {
      menu.style.display = "none";
      saveHandout(canvas, filename, figure, scale);
    });
    menu.appendChild(choice);
  }
  menu.addEventListener("pointerdown", e => e.stopPropagation());
  el.appendChild(menu);
  button.addEventListener("click", () => { menu.style.display = menu.style.display === "none" ? "block" : "none"; });
}

function handoutName(filename, model, scale) {
  const kind = filename.replace(/^gan-lab-/, "").replace(/\.png$/, "");  // plane, 3d, charts
  return `${model.export_name || "gan-lab"}_${kind}_${scale}x.png`;
}

function saveHandout(canvas, filename, figure, scale) {
  const {model, draw} = figure;
  canvas.exportScale = scale;
  try { draw(); } finally { canvas.exportScale = 0; }
  const strip = Math.round(CAPTION_STRIP * scale);
  const out = document.createElement("canvas");
  out.width = canvas.width; out.height = canvas.height + strip;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  ctx.fillStyle = "#222"; ctx.font = `${14 * scale}px sans-serif`; ctx.textBaseline = "middle";
  ctx.fillText(model.caption || "", 8 * scale, canvas.height + strip / 2);
  draw();  // back to the screen's density
  download(out, handoutName(filename, model, scale));
}
