"""Every place the lab reaches into Panel's private internals, and the measured gain that pays
for each. Nothing else in the lab touches a private name of Panel, Bokeh or torch;
tests/test_panel_internals.py fails when a Panel release renames or changes one of these.

* ``without_delay``: Panel holds each change from the browser for 50 ms before handling it
  (``Reactive._debounce``), to merge bursts such as typing. The lab's widgets change once per click
  or slider release, and a click must reach the trainer within 100 ms: with Panel's 50 ms it took
  76-101 ms (``python bench/app_speed.py``, "click -> trainer"), with 5 ms 30-60 ms.
* ``QuietComponent``: a component the server updates ~11 times a second (the canvases). Panel
  counts each echo the browser sends back (the frame drawn, the camera) as the app being busy
  (``_busy__ignore`` lists what it must not count), and resolves the page design's stylesheets
  (file lookups) on every property change (``_update_properties``), although it uses them only when
  the stylesheets change. Together ~25 % of the server's thread at 11 frames a second (py-spy);
  without them the server thread went from 0.26-0.29 to 0.17-0.19 of a core.
* ``start_background_callback``: Panel counts each tick of a periodic callback as the app being busy
  unless it is a background callback (``PeriodicCallback._background``); the lab ticks 16 times a
  second, and that bookkeeping was ~12 % of the server's time (py-spy).
* ``QuietComponent.on_page``: whether any browser shows the component (``_models``), so a view
  waits for the browser's echo of a frame only where there is a browser to echo it.
* ``on_refused_change``: Panel applies a value the browser sends in the widget's
  ``_process_events``; a value the widget or the setting linked to it refuses (outside its bounds,
  of the wrong type, not among a select's options) raises there and reaches only the server's log.
  Measured in Chromium with values sent by a page's script (lr_g 50, g_width 2.5, objective
  "nope", dataset "csv", β₁ 5): without it none of the five was explained on the page, and three
  (those the widget itself refuses) stayed shown as if taken; caught there, all five are explained
  beside their setting and the page shows the value kept.
"""

from __future__ import annotations

from panel.custom import JSComponent
from panel.io.callbacks import PeriodicCallback

CHANGE_DELAY_MS = 5  # how long the lab's widgets hold a change from the browser (Panel's: 50)


def without_delay(widget):
    """The widget's changes from the browser handled after CHANGE_DELAY_MS, not Panel's 50 ms."""
    widget._debounce = CHANGE_DELAY_MS
    return widget


def on_refused_change(widget, refused):
    """``refused(sent)`` when ``widget`` refuses a change a browser sent (``sent``: the browser's
    properties and values): the widget keeps its value, and the ValueError or TypeError goes no
    further than Panel's log line."""
    apply = widget._process_events

    def apply_or_refuse(events):
        try:
            apply(dict(events))  # Panel may take properties out of the dict it gets
        except (ValueError, TypeError):
            refused(events)

    widget._process_events = apply_or_refuse
    return widget


def start_background_callback(callback, period_ms: int) -> PeriodicCallback:
    """Run ``callback`` every ``period_ms`` on the server's loop, not counted as the app being busy."""
    periodic = PeriodicCallback(callback=callback, period=period_ms, log=False)
    periodic._background = True
    periodic.start()
    return periodic


class QuietComponent(JSComponent):
    """A JavaScript component updated many times a second, without Panel's busy bookkeeping for
    its echoes and without resolving the design's stylesheets for changes other than theirs."""

    # The browser's echoes and what the user keeps in the view (pan, zoom, camera, hidden layers):
    # none of them is the app being busy.
    _busy__ignore = ["drawn", "camera", "view", "hidden"]

    def _update_properties(self, *events, doc):
        if any(event.name == "stylesheets" for event in events):
            return super()._update_properties(*events, doc=doc)
        return self._process_param_change({event.name: event.new for event in events})

    def on_page(self) -> bool:
        """Whether any browser shows this component (only then is there an echo to wait for)."""
        return bool(self._models)
