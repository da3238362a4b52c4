// Whether someone uses the page (app/activity.py): a pointer moved or pressed, a key, the wheel.
// The server needs to know only that the page is in use, not each event: at most one message
// every model.report_every_ms.

const EVENTS = ["pointerdown", "pointermove", "keydown", "wheel"];

export function render({ model }) {
  let last = -Infinity;
  const seen = () => {
    const now = performance.now();
    if (now - last < model.report_every_ms) return;
    last = now;
    model.send_msg({kind: "active"});
  };
  for (const name of EVENTS) document.addEventListener(name, seen, {capture: true, passive: true});
  model.on("remove", () => {
    for (const name of EVENTS) document.removeEventListener(name, seen, {capture: true});
  });
}
