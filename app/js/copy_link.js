// The copy buttons' clicks: "Copy link" (app/lab.py) copies the page's address, which holds the
// experiment (app/url_state.py); "Copy follow link" (app/follow_panel.py, which passes the page's
// `code`) copies this lab's address with ?follow=CODE, which opens the page's run read-only. Bokeh
// runs this with the button as `source`. The button says "Link copied" for two seconds; where the
// browser refuses the clipboard (a page served over plain http from another machine), a prompt
// shows the address to copy by hand.
const following = typeof code !== "undefined";
const link = following ? window.location.origin + window.location.pathname + "?follow=" + code
                       : window.location.href;
const copied = () => {
  source.label = "Link copied";
  setTimeout(() => { source.label = following ? "Copy follow link" : "Copy link"; }, 2000);
};
if (navigator.clipboard && window.isSecureContext) {
  navigator.clipboard.writeText(link).then(copied, () => window.prompt("Copy this link:", link));
} else {
  window.prompt("Copy this link:", link);
}
