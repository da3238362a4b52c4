// The "Copy link" button's click (app/lab.py; Bokeh runs this with the button as `source`): the
// page's address, which holds the experiment (app/url_state.py), onto the clipboard. The button
// says "Link copied" for two seconds; where the browser refuses the clipboard (a page served over
// plain http from another machine), a prompt shows the address to copy by hand.
const link = window.location.href;
const copied = () => {
  source.label = "Link copied";
  setTimeout(() => { source.label = "Copy link"; }, 2000);
};
if (navigator.clipboard && window.isSecureContext) {
  navigator.clipboard.writeText(link).then(copied, () => window.prompt("Copy this link:", link));
} else {
  window.prompt("Copy this link:", link);
}
