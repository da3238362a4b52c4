"""The sidebar's settings widgets, driven as a browser drives them (a box's value, a slider's
release, a checkbox), in-process: what reaches the session, what is refused and explained, and
one change that goes all the way to the training process."""

import re
import time

import panel as pn
import param
import pytest

import gan_core.lesson_verdicts as lesson_verdicts
from ganlab_app.controls import Controls
from ganlab_app.session import LabSession, preset_settings
from gan_core.claims import arm_name
from gan_core.config import Experiment
from gan_core.lesson_verdicts import measured_verdict
from gan_core.presets import NO_CHECKABLE_CLAIM, PRESETS
from gan_core.stabilizers import CATALOGUE
from test_lesson_verdicts import CLAIMED, claim_entry, write_claims

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
    roth_gamma = preset_settings("roth")["roth_gamma"]
    assert widget(controls, "roth_gamma").value != roth_gamma  # so that showing it is seen
    controls.load_settings({**preset_settings("roth"), "noise_sigma": 1.2, "instance_noise": True})
    assert widget(controls, "roth_gamma").value == roth_gamma and widget(controls, "roth").value is True
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


# ---------------------------------------------------------------------------------------------
# the lesson card: the claim, and the lab's verdict on it with its numbers

def pick(controls, name: str) -> str:
    """Choose ``name`` in the sidebar's preset Select, as a browser does; the card's text."""
    controls.preset.value = name
    return controls.preset_text.object


def use_claims(monkeypatch, path):
    monkeypatch.setattr(lesson_verdicts, "claims_file", lambda: path)


@pytest.mark.parametrize("verdict, said", [("reproduces", "Reproduces here"),
                                           ("does not reproduce", "Does not reproduce here"),
                                           ("inconclusive", "Inconclusive here")])
def test_a_lessons_card_shows_its_claim_and_the_labs_verdict_with_its_numbers(controls, tmp_path, monkeypatch,
                                                                              verdict, said):
    name = CLAIMED[0]
    use_claims(monkeypatch, write_claims(tmp_path, claim_entry(name, verdict=verdict)))
    text = pick(controls, name)
    lesson, measured = PRESETS[name], measured_verdict(name)
    assert measured.current and measured.verdict == verdict
    assert f"**Claim** ({lesson.reference.split(':')[0]} " in text and lesson.claim.sentence in text
    assert said in text and sum(s in text for s in ("Reproduces here", "Does not reproduce here",
                                                     "Inconclusive here")) == 1
    scale = measured.scale
    for arm, mean in ((measured.a, measured.a_mean), (measured.b, measured.b_mean)):
        assert f"{arm} {mean.value * scale:.3g} ± {(mean.high - mean.low) / 2 * scale:.3g}" in text
    difference = measured.difference
    assert (f"{difference.value * scale:+.3g} [{difference.low * scale:.3g}, {difference.high * scale:.3g}]"
            in text)
    assert f"p = {measured.p_value:.2g}" in text and f"{measured.seeds} seeds, {measured.steps:,} steps" in text
    assert "Not yet checked" not in text


def test_a_verdict_that_does_not_reproduce_says_which_way_it_went(controls, tmp_path, monkeypatch):
    name = CLAIMED[0]
    use_claims(monkeypatch, write_claims(tmp_path, claim_entry(name, verdict="does not reproduce")))
    claim = PRESETS[name].claim
    opposite = {"higher": "lower", "lower": "higher"}[claim.direction]
    assert f"{claim.b} scores {opposite} than {claim.a}" in pick(controls, name)


def test_a_stale_verdict_is_not_shown_as_the_lessons(controls, tmp_path, monkeypatch):
    name = CLAIMED[0]
    entry = claim_entry(name, verdict="reproduces", walls=(100.0, 100.0), batches=1)
    settings = entry["arms"][arm_name(PRESETS[name].claim.b)]["settings"]
    settings["lr_g"] = settings["lr_g"] / 2
    use_claims(monkeypatch, write_claims(tmp_path, entry))
    text = pick(controls, name)
    assert "Not yet checked with these settings" in text and "lr_g" in text
    assert f"`python -m gan_core claims {name} --out DIR`" in text and "(about 2 minutes)" in text  # 100 s
    assert "Reproduces here" not in text and "p = " not in text
    assert PRESETS[name].claim.sentence in text  # the claim itself stands


def test_with_no_measurements_every_claim_is_not_yet_checked(controls, monkeypatch):
    use_claims(monkeypatch, None)
    for name in CLAIMED:
        text = pick(controls, name)
        assert "Not yet checked with these settings" in text and "about" not in text.split("Not yet checked")[1]


def test_a_lesson_without_a_checkable_claim_says_why(controls):
    for name, why in NO_CHECKABLE_CLAIM.items():
        text = pick(controls, name)
        assert why in text and "**Claim**" not in text and "lab's check" not in text


def test_a_methods_card_is_unchanged(controls):
    for name in ("wgan-gp", "roth-tuned-ring8"):
        preset = PRESETS[name]
        text = pick(controls, name)
        assert text == f"**{preset.summary}**  \n{preset.explanation}  \nData: `{preset.data}`  \n*{preset.reference}*"


def test_an_arm_with_no_value_is_said_so(controls, tmp_path, monkeypatch):
    """Every run of an arm diverged: its mean is undefined, and the card says so instead of failing."""
    name = CLAIMED[0]
    use_claims(monkeypatch, write_claims(tmp_path, claim_entry(name, verdict="inconclusive", a=(None, None, None))))
    assert f"{PRESETS[name].claim.a} undefined" in pick(controls, name)


BOX_UNITS = "box units: the data's box scaled to run from -1 to 1"


@pytest.mark.parametrize("name", [name for name in Experiment.param if name != "name"])
def test_every_setting_says_what_it_does_in_a_sentence(name):
    """A setting's help (the sidebar's tooltip) says what it does in words a newcomer follows, not
    only its symbol: no bare symbol as the whole explanation ("K: cooling steps", "gamma_0"), no
    code names, and box units explained wherever a setting is in them."""
    doc = Experiment.param[name].doc
    words = re.findall(r"[A-Za-z]{3,}", doc)
    assert len(words) >= 6, f"{name}: {doc!r} is too short to explain anything"
    assert not re.match(r"^\S{1,3}:", doc), f"{name}: starts with a symbol: {doc!r}"
    assert not re.search(r"\b[a-z]+_[A-Za-z0-9]+\b", doc), f"{name}: a code name in {doc!r}"
    assert "^dim" not in doc and "sigma^2" not in doc
    if "box units" in doc:
        assert BOX_UNITS in doc, f"{name}: box units unexplained in {doc!r}"


def test_the_sidebar_shows_each_settings_explanation_at_hand(controls):
    """Every setting's explanation is on the sidebar: its widget's tooltip, or an ⓘ beside a slider
    or checkbox (which have no tooltip of their own)."""
    icons = {icon.value for icon in controls.__panel__().select(pn.widgets.TooltipIcon)}
    for name in Experiment.param:
        if name == "name" or name in NOT_IN_THE_SIDEBAR:
            continue
        shown = widget(controls, name)
        doc = Experiment.param[name].doc
        assert getattr(shown, "description", None) == doc or doc in icons, f"{name}: its explanation is not shown"
    assert Experiment.param.noise_sigma.doc in icons  # a slider's
