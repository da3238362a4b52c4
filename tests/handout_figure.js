// A small figure for tests/test_browser_files.py: a renderer that hands canvas.js its model and
// draw function, as the lab's canvases do, so the handout export can redraw it at any scale.
export function render({ model, el }) {
  el.style.width = "300px"; el.style.height = "200px";
  const canvas = addCanvas(el, "lab-test", "gan-lab-test.png", true, {model, draw});
  const ctx = canvas.getContext("2d");
  function draw() {
    startDraw(canvas, ctx, 300, 200);
    ctx.fillStyle = "#7b3294"; ctx.fillRect(10, 10, 50, 50);
    ctx.fillStyle = "#000000"; ctx.font = "13px sans-serif"; ctx.fillText("legend", 200, 100);
  }
  draw();
}
