// The busy page (app/busy_page.py): it reloads into a lab when the server says a training place
// is free (the same address: the lab starts what the link names).
export function render({ model }) {
  model.on("msg:custom", () => window.location.reload());
}
