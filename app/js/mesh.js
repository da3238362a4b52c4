// A warped grid on the plane (a "quads" layer, app/views2d.py's quads_layer): each cell a
// quadrilateral filled in its palette shade, the grid lines over the cells. The layer's `xy` holds
// the vertices of an nu x nv grid (the second index fastest), `shades` one palette index per cell
// in the same order; `opacity` is the cells', `line_opacity`, `color` and `size` the lines'.
function drawQuads(ctx, layer, sx, sy, palette) {
  const {nu, nv, xy, shades} = layer;
  const x = (a, b) => sx(xy[2 * (a * nv + b)]), y = (a, b) => sy(xy[2 * (a * nv + b) + 1]);
  ctx.globalAlpha = layer.opacity;
  for (let a = 0; a + 1 < nu; a++) {
    for (let b = 0; b + 1 < nv; b++) {
      ctx.fillStyle = palette[shades[a * (nv - 1) + b]];
      ctx.beginPath();
      ctx.moveTo(x(a, b), y(a, b)); ctx.lineTo(x(a + 1, b), y(a + 1, b));
      ctx.lineTo(x(a + 1, b + 1), y(a + 1, b + 1)); ctx.lineTo(x(a, b + 1), y(a, b + 1));
      ctx.closePath(); ctx.fill();
    }
  }
  ctx.globalAlpha = layer.line_opacity; ctx.strokeStyle = layer.color; ctx.lineWidth = layer.size;
  ctx.beginPath();
  for (let a = 0; a < nu; a++) {
    ctx.moveTo(x(a, 0), y(a, 0));
    for (let b = 1; b < nv; b++) ctx.lineTo(x(a, b), y(a, b));
  }
  for (let b = 0; b < nv; b++) {
    ctx.moveTo(x(0, b), y(0, b));
    for (let a = 1; a < nu; a++) ctx.lineTo(x(a, b), y(a, b));
  }
  ctx.stroke();
}
