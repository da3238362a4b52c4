// The "Copy follow link" button's click (app/follow_panel.py; Bokeh runs this with the button as
// `source` and the page's code as `code`): this lab's address with ?follow=CODE, which opens the
// page's run read-only, onto the clipboard. Where the browser refuses the clipboard (a page served
// over plain http from another machine), a prompt shows the address to copy by hand.
const link = window.location.origin + window.location.pathname + "?follow=" + code;
const copied = () => {
  source.label = "Link copied";
  setTimeout(() => { source.label = "Copy follow link"; }, 2000);
};
if (navigator.clipboard && window.isSecureContext) {
  navigator.clipboard.writeText(link).then(copied, () => window.prompt("Copy this link:", link));
} else {
  window.prompt("Copy this link:", link);
}
