"""The sidebar's settings widgets, driven as a browser drives them (a box's value, a slider's
release, a checkbox), in-process: what reaches the session, what is refused and explained, and
one change that goes all the way to the training process."""

import time

import panel as pn
import param
import pytest

from ganlab_app.controls import Controls
from ganlab_app.session import LabSession, preset_settings
from gan_core.config import Experiment
from gan_core.stabilizers import CATALOGUE

SMALL = {"batch_size": 64, "g_width": 32, "d_width": 32}
NOT_IN_THE_SIDEBAR = ("dataset", "dataset_params", "steps")  # the data picker's, and the command line's


class RecordingSession:
    """What Controls asks of a session, recorded."""

    steps_per_frame = 20
    playing = False

    def __init__(self):
        self.calls = []

    def update(self, changes):
        self.calls.append(("update", changes))

    def reset(self):
        self.calls.append(("reset",))

    def load_preset(self, name):
        self.calls.append(("load_preset", name))

    def play(self):
        self.calls.append(("play",))


def label_of(widget):
    return widget.label if "label" in widget.param else widget.name


def sidebar_label(name):
    """What the sidebar calls a setting, as a user reads it (an independent statement of the
    labels' sources: a stabilizer's title, else the parameter's label)."""
    return {entry.switch: entry.title for entry in CATALOGUE}.get(name, Experiment.param[name].label)


def widget(controls, name):
    """The one widget on the sidebar that a user would take for setting ``name``."""
    found = [w for w in controls.__panel__().select(pn.widgets.Widget) if label_of(w) == sidebar_label(name)]
    assert len(found) == 1, f"{len(found)} widgets labelled {sidebar_label(name)!r}"
    return found[0]


def release(slider, value):
    """A drag ending at ``value``: the browser sends value while dragging, value_throttled on release."""
    slider.value = value
    with param.edit_constant(slider):
        slider.value_throttled = value


def sent(session):
    return [call for call in session.calls if call[0] == "update"]


def refusals(controls):
    """The explanations the sidebar shows now."""
    return [alert.object for alert in controls.__panel__().select(pn.pane.Alert) if alert.visible]


@pytest.fixture
def controls():
    return Controls(RecordingSession(), "nonsaturating", preset_settings("nonsaturating"))


def test_every_setting_has_one_widget_with_the_parameters_range_and_value(controls):
    experiment = controls.experiment
    for name in Experiment.param:
        if name == "name" or name in NOT_IN_THE_SIDEBAR:
            continue
        p, shown = Experiment.param[name], widget(controls, name)
        assert shown.value == getattr(experiment, name), name
        if isinstance(p, param.Selector):
            assert list(shown.options) == list(p.objects), name
        elif isinstance(p, param.Number) and not isinstance(p, param.Boolean):
            assert (shown.start, shown.end) == p.bounds, name  # a browser's box or slider stops there
            assert isinstance(shown, (pn.widgets.IntInput, pn.widgets.IntSlider)) == isinstance(p, param.Integer)


def test_checkbox_and_typed_values_reach_the_session(controls):
    widget(controls, "instance_noise").value = True
    widget(controls, "roth_gamma").value = 5.0
    widget(controls, "batch_size").value = 128
    assert sent(controls.session) == [("update", {"instance_noise": True}), ("update", {"roth_gamma": 5.0}),
                                      ("update", {"batch_size": 128})]
    assert isinstance(widget(controls, "roth_gamma"), pn.widgets.FloatInput)  # a range of 0..100 is typed


def test_a_slider_sends_once_on_release(controls):
    slider = widget(controls, "noise_sigma")
    assert isinstance(slider, pn.widgets.FloatSlider)
    for value in (0.4, 0.5, 0.6):  # dragging
        slider.value = value
    assert sent(controls.session) == []
    release(slider, 0.7)
    assert sent(controls.session) == [("update", {"noise_sigma": 0.7})]


def test_an_emptied_box_is_explained_and_put_back(controls):
    box = widget(controls, "g_width")
    box.value = None  # what the browser sends for an empty box
    assert box.value == 128 and controls.experiment.g_width == 128
    [refusal] = refusals(controls)
    assert "parameter 'g_width' must be an integer in [4, 1024]" in refusal
    assert sent(controls.session) == []
    box.value = 64  # a valid value clears the message
    assert sent(controls.session) == [("update", {"g_width": 64})] and refusals(controls) == []


def test_out_of_range_never_reaches_the_session(controls):
    box = widget(controls, "lr_d")
    assert (box.start, box.end) == (0.0, 10.0)  # the browser's box keeps its old value beyond these
    with pytest.raises(ValueError, match="lr_d"):
        box.value = 20.0
    assert box.value == controls.experiment.lr_d == 1e-3
    assert sent(controls.session) == []


def test_a_rule_between_settings_is_explained_and_put_back():
    controls = Controls(RecordingSession(), "beta-gan", preset_settings("beta-gan"))  # 3D data, latent 3
    slider = widget(controls, "latent_dim")
    release(slider, 2)  # too few to fill the 3D box beta-annealing starts on
    assert slider.value == controls.experiment.latent_dim == 3
    [refusal] = refusals(controls)
    assert "parameter 'latent_dim' must be at least the data's dimension (3)" in refusal
    [card] = [card for card in controls.cards if slider in card.select(pn.widgets.Widget)]
    assert [a.object for a in card.select(pn.pane.Alert) if a.visible] == [refusal]  # said where it was done
    assert sent(controls.session) == []
    release(slider, 4)
    assert sent(controls.session) == [("update", {"latent_dim": 4})] and refusals(controls) == []


def test_data_that_breaks_a_rule_is_explained_and_not_sent():
    settings = {**preset_settings("beta-gan"), "dataset": "ring8", "latent_dim": 2}
    controls = Controls(RecordingSession(), "beta-gan", settings)
    controls.dataset.value = "gauss3d5"  # a benchmark: applied at once, if it may be
    assert controls.data_error.visible and "latent_dim" in controls.data_error.object
    assert sent(controls.session) == [] and controls.experiment.dataset == "ring8"
    controls.dataset.value = "cubes"
    assert "latent_dim" in controls.data_error.object
    controls.experiment.beta_annealing = False  # rule off: the 3D data may come
    controls.dataset.value = "gauss3d5"
    assert not controls.data_error.visible
    assert sent(controls.session)[-1] == ("update", {"dataset": "gauss3d5", "dataset_params": {}})
    assert "benchmark: no parameters" in controls.data_help.object


def test_a_new_seed_restarts_the_run(controls):
    widget(controls, "seed").value = 7
    assert controls.session.calls == [("update", {"seed": 7}), ("reset",)]


def test_loaded_settings_are_shown_not_sent_back(controls):
    controls.load_settings({**preset_settings("roth"), "noise_sigma": 1.2, "instance_noise": True})
    assert widget(controls, "roth_gamma").value == 2.0 and widget(controls, "roth").value is True
    slider = widget(controls, "noise_sigma")
    assert slider.value == slider.value_throttled == 1.2
    assert widget(controls, "instance_noise").value is True
    assert controls.dataset.value == "ring7_3d"
    assert controls.session.calls == []


def test_deferred_cards_join_the_sidebar_at_show_all():
    controls = Controls(RecordingSession(), "nonsaturating", preset_settings("nonsaturating"), defer=True)
    widget(controls, "seed")  # the Data card is there at once
    with pytest.raises(AssertionError, match="0 widgets"):
        widget(controls, "roth_gamma")
    controls.show_all()
    widget(controls, "roth_gamma").value = 3.0
    assert sent(controls.session) == [("update", {"roth_gamma": 3.0})]


def test_a_typed_value_reaches_the_training_process():
    settings = {**preset_settings("nonsaturating"), **SMALL}
    session = LabSession(settings=settings)
    try:
        controls = Controls(session, "nonsaturating", settings)
        widget(controls, "roth_gamma").value = 5.0
        widget(controls, "roth").value = True
        deadline = time.time() + 30
        while not (session.settings and session.settings[-1]["roth"] and session.settings[-1]["roth_gamma"] == 5.0):
            assert time.time() < deadline, f"the trainer's settings: {session.settings}"
            time.sleep(0.05)
    finally:
        session.stop()
