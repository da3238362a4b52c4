"""The Panel internals the lab relies on (app/panel_internals.py) still do what it needs: a
canvas's echoes and the lab's ticks do not count as the app being busy, a canvas's frame does not
resolve the page design's stylesheets, a canvas knows whether a browser shows it, and a value a
widget refuses from the browser reaches the lab's hook. If a Panel release changes one of them,
these tests say so."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import panel as pn
import param
import pytest
from bokeh.document import Document
from panel.custom import JSComponent

from ganlab_app.chart_canvas import ChartCanvas
from ganlab_app.panel_internals import on_refused_change
from ganlab_app.lab import Lab
from ganlab_app.plane2d import PlaneCanvas, points_layer
from ganlab_app.scene3d import PointScene
from ganlab_app.session import preset_settings

SMALL = {"dataset": "ring8", "batch_size": 64, "steps": 50}


@pytest.fixture
def busy_events():
    """Every change of Panel's busy counter while the test runs."""
    events = []
    watcher = pn.state.param.watch(events.append, "_busy_counter")
    yield events
    pn.state.param.unwatch(watcher)


@pytest.mark.parametrize("cls, echo", [(PlaneCanvas, "drawn"), (PointScene, "drawn"), (PointScene, "camera")])
def test_a_canvas_echo_does_not_make_the_app_busy(cls, echo, busy_events):
    canvas = cls()
    value = 3 if echo == "drawn" else {"yaw": 0.5, "pitch": 0.1, "zoom": 2.0}
    canvas._process_events({echo: value})  # as a message from the browser arrives
    assert getattr(canvas, echo) == value  # the echo itself is taken
    assert busy_events == []
    canvas._process_events({"title": "a change the user made"})  # the control: that one counts
    assert busy_events != []


def test_the_labs_tick_does_not_make_the_app_busy(busy_events):
    lab = Lab(play=False)
    try:
        lab.session.load_runs({"": {**preset_settings("nonsaturating"), **SMALL}})
        ticks = []
        lab._callback.callback = lambda: ticks.append(1)
        # What Panel runs each period, on a thread of its own: an earlier test may have left an
        # event loop running on this one (Playwright's sync API does).
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, lab._callback._periodic_callback()).result()
        assert ticks == [1]
        assert busy_events == []
    finally:
        lab.stop()


@pytest.mark.parametrize("cls, changes", [
    (PlaneCanvas, {"layers": [points_layer("fake", [[0.0, 1.0], [2.0, 3.0]], "#000000", 3)], "frame": 1}),
    (PointScene, {"title": "3D", "frame": 2}),
    (ChartCanvas, {"scalars": {"now": 10}}),
    (PlaneCanvas, {"stylesheets": [":host { margin: 0; }"]}),
])
def test_a_frame_skips_the_design_but_sends_what_panel_would(cls, changes, monkeypatch):
    canvas = cls(design=pn.theme.Bootstrap)
    doc = Document()
    canvas.get_root(doc)
    events = []
    canvas.param.watch(lambda *changed: events.extend(changed), list(changes))
    canvas.param.update(**changes)
    assert {event.name for event in events} == set(changes)
    resolved = []
    original = type(canvas._design).params
    monkeypatch.setattr(type(canvas._design), "params",
                        lambda self, *args, **kwargs: resolved.append(1) or original(self, *args, **kwargs))
    ours = canvas._update_properties(*events, doc=doc)
    resolved_by_ours = len(resolved)
    panels = JSComponent._update_properties(canvas, *events, doc=doc)  # Panel's own, as a second path
    assert ours.keys() == panels.keys()
    for key in ours:  # repr: the layers hold numpy arrays; a stylesheet model's id differs per call
        ours_, panels_ = ([getattr(sheet, "url", sheet) for sheet in values] if key == "stylesheets" else values
                          for values in (ours[key], panels[key]))
        assert repr(ours_) == repr(panels_)
    # The design's stylesheets are resolved only when the stylesheets change.
    assert resolved_by_ours == (1 if "stylesheets" in changes else 0)
    if "stylesheets" in changes:
        assert len(ours["stylesheets"]) > len(changes["stylesheets"])  # the design's come first


class Bounded(param.Parameterized):
    rate = param.Number(0.5, bounds=(0, 1))


def picker():
    return pn.widgets.Select(options=["a", "b"], value="a")


def linked_box():
    [box] = pn.Param(Bounded().param, parameters=["rate"], widgets={"rate": pn.widgets.FloatInput},
                     show_name=False).select(pn.widgets.FloatInput)
    return box


@pytest.mark.parametrize("make_widget, refused, taken", [
    (picker, "c", "b"),  # refused by the widget itself: not among its options
    (linked_box, 5.0, 0.25),  # refused by the parameter linked to it: beyond its bounds
])
def test_a_refused_change_from_the_browser_reaches_the_hook(make_widget, refused, taken):
    # The page's model of the widget takes the browser's change, as a websocket message sets it.
    plain = make_widget()
    with pytest.raises(ValueError):  # Panel raises where it applies the browser's change
        plain.get_root(Document()).set_from_json("value", refused)
    widget = make_widget()
    kept = widget.value
    refusals = []
    on_refused_change(widget, refusals.append)
    model = widget.get_root(Document())
    model.set_from_json("value", refused)
    assert refusals == [{"value": refused}] and widget.value == kept
    model.set_from_json("value", taken)  # a value it takes passes through
    assert widget.value == taken and len(refusals) == 1
