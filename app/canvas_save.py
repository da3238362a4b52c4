"""A "PNG" button for the lab's canvases (plane, 3D scene, charts): the figure as the page shows it,
downloaded by the browser. Bokeh's and Plotly's save tools did this before the views became
canvases; the JavaScript below is prepended to each canvas component's module."""

SAVE_BUTTON_JS = """
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
"""
