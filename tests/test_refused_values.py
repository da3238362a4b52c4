"""Values a page sends to the sidebar's widgets that the widget or its setting refuses (outside the
setting's bounds, of the wrong type, not among a select's options), driven in-process as a
browser's change arrives at the server: the page's copy of the widget (its Bokeh model in the
page's document) is set, and Panel takes it from there. Each is explained beside its setting,
naming the setting, its allowed range and the value kept; the page shows the value kept; nothing
reaches the session or the trainer."""

import math

import panel as pn
import param
import pytest
from bokeh.document import Document

from ganlab_app.controls import Controls
from ganlab_app.session import LabSession, preset_settings
from gan_core.config import Experiment
from test_controls import SMALL, RecordingSession, refusals, sent, widget
from waiting import wait_until

# (setting, the property of its widget's model a page's script sets, the value sent): values the
# page's document takes from the browser (what it refuses by type never reaches Panel).
REFUSED = [
    ("lr_g", "value", 50.0), ("lr_g", "value", -1), ("lr_g", "value", math.inf), ("lr_g", "value", 1e308),
    ("roth_gamma", "value", -1.0),
    ("g_width", "value", 10 ** 9), ("g_width", "value", 2.5), ("g_width", "value", -5),
    ("batch_size", "value", 10 ** 30),
    ("beta1", "value_throttled", 5.0), ("beta1", "value_throttled", -math.inf),
    ("n_critic", "value_throttled", 0), ("n_critic", "value_throttled", 1e9),
    ("objective", "value", "nope"), ("objective", "value", "../../etc/passwd"), ("objective", "value", 3),
]


class Page:
    """The sidebar as one page shows it: its document holds the models a browser edits."""

    def __init__(self, session=None, preset="nonsaturating", settings=None):
        self.controls = Controls(session or RecordingSession(), preset, settings or preset_settings(preset))
        self.root = self.controls.__panel__().get_root(Document())

    def model(self, shown: pn.widgets.Widget, prop: str):
        """The page's model of ``shown`` (found by its label, as a page's script finds it)."""
        label = shown.label if "label" in shown.param else shown.name
        [found] = [m for m in self.root.references()
                   if label in (getattr(m, "title", None), getattr(m, "label", None)) and prop in m.properties()]
        return found

    def send(self, shown: pn.widgets.Widget, prop: str, value) -> None:
        """``value`` arrives from the browser as the new ``prop`` of ``shown``'s model."""
        self.model(shown, prop).set_from_json(prop, value)


def stated_range(name: str) -> list[str]:
    """What a message must say of the setting's allowed values, from its parameter's own bounds."""
    p = Experiment.param[name]
    if isinstance(p, param.Selector):
        return [str(option) for option in p.objects]
    low, high = p.bounds
    return [f"[{low}, {high}]"] if isinstance(p, param.Integer) else [f"{low:g}", f"{high:g}"]


@pytest.mark.parametrize("name, prop, value", REFUSED)
def test_a_refused_value_is_explained_and_the_page_shows_the_value_kept(name, prop, value):
    page = Page()
    controls = page.controls
    shown = widget(controls, name)
    [card] = [card for card in controls.cards if shown in card.select(pn.widgets.Widget)]
    card.collapsed = True  # a page's script reaches a widget in a closed card too
    kept = getattr(controls.experiment, name)
    page.send(shown, prop, value)
    [refusal] = refusals(controls)
    assert f"'{name}'" in refusal and (shown.label if "label" in shown.param else shown.name) in refusal
    assert all(part in refusal for part in stated_range(name)), refusal
    assert repr(value) in refusal and refusal.endswith(f"kept {kept!r}.")
    assert [a.object for a in card.select(pn.pane.Alert) if a.visible] == [refusal]  # beside the setting
    assert not card.collapsed
    assert getattr(controls.experiment, name) == shown.value == kept
    assert page.model(shown, "value").value == kept  # what the page shows
    assert sent(controls.session) == []


def test_after_a_refusal_a_good_value_is_taken_and_the_message_goes():
    page = Page()
    box = widget(page.controls, "lr_g")
    page.send(box, "value", 50.0)
    assert refusals(page.controls)
    page.send(box, "value", 0.002)
    assert box.value == page.controls.experiment.lr_g == 0.002
    assert sent(page.controls.session) == [("update", {"lr_g": 0.002})] and refusals(page.controls) == []


def test_a_dataset_the_picker_does_not_offer_is_refused_and_the_pick_kept():
    page = Page()
    controls = page.controls
    controls.dataset.value = "ring"  # a family picked, its parameters being edited, not yet applied
    controls.dataset_params.value = '{"count": 5}'
    page.send(controls.dataset, "value", "csv")  # a server file named from a browser
    [refusal] = refusals(controls)
    assert "'dataset'" in refusal and "'csv'" in refusal and refusal.endswith("kept 'ring'.")
    offered = refusal.split("must be one of ")[1].split(" (got")[0].split(", ")
    assert offered == list(controls.dataset.options) and "csv" not in offered
    assert controls.data_error.visible and controls.data_error.object == refusal
    assert controls.dataset.value == page.model(controls.dataset, "value").value == "ring"
    assert controls.dataset_params.value == '{"count": 5}'  # the edit in progress stays
    assert controls.experiment.dataset == "ring8" and sent(controls.session) == []


def test_the_trainer_keeps_its_setting_when_the_page_sends_a_refused_one():
    settings = {**preset_settings("nonsaturating"), **SMALL}
    session = LabSession(settings=settings)
    try:
        page = Page(session, settings=settings)
        kept = settings["lr_g"]
        page.send(widget(page.controls, "lr_g"), "value", 50.0)
        page.send(widget(page.controls, "roth_gamma"), "value", 5.0)  # a good value after it
        wait_until(lambda: session.settings and session.settings[-1]["roth_gamma"] == 5.0, timeout=30,
                   what="the trainer's settings taking roth_gamma 5")
        assert session.settings[-1]["lr_g"] == kept
    finally:
        session.stop()
