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

// Start a draw of `canvas` at W x H CSS pixels: its pixel buffer matches the screen's density
// (resized only when that changes), drawing is in CSS pixels, and the background is white.
function startDraw(canvas, ctx, W, H) {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, W, H);
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
