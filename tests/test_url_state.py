"""The experiment in the page's address (app/url_state.py): a query's names and values, checked by
the settings' own bounds, into the runs a page starts; what is refused is reported and left out;
an experiment into the shortest query that starts it again."""

import random
import urllib.parse

import numpy as np
import panel as pn
import param
import pytest
from waiting import wait_until

from ganlab_app.controls import SECTIONS as CONTROL_SECTIONS
from ganlab_app.session import LabSession, preset_runs, preset_settings
from ganlab_app.url_state import DEFAULT_LAYERS, LINK_POINTS_MAX, data_left_out, parse_query, query_of, runs_with
from gan_core.config import SETTINGS, Experiment, check_rules, coerce, settings_of
from gan_core.presets import PRESETS

SECTIONS = tuple(CONTROL_SECTIONS)


def notice_for(link, parameter):
    found = [n for n in link.notices if n.parameter == parameter]
    assert len(found) == 1, [n.text for n in link.notices]
    return found[0]


def test_the_documented_example_link_starts_the_preset_with_its_changes():
    link = parse_query("?preset=roth&data=grid25&roth_gamma=0.3&seed=5", SECTIONS)
    assert link.notices == []
    expected = {**preset_settings("roth"), "dataset": "grid25", "dataset_params": {}, "roth_gamma": 0.3, "seed": 5}
    assert link.runs() == {"": expected}


@pytest.mark.parametrize("name, text, value", [
    ("lr_g", "0.002", 0.002), ("beta2", "0.9", 0.9), ("noise_sigma", "1e-1", 0.1),  # numbers
    ("n_critic", "5", 5), ("steps", "1e4", 10_000),  # integers, also in an exponent's spelling
    ("roth", "true", True), ("roth", "on", True), ("instance_noise", "1", True), ("g_batchnorm", "no", False),
    ("objective", "minimax", "minimax"), ("g_activation", "tanh", "tanh"),  # choices
    ("seed", "123", 123)])
def test_each_kind_of_setting_is_read_as_the_setting_holds_it(name, text, value):
    link = parse_query(f"?preset=nonsaturating&{name}={text}")
    assert link.notices == []
    settings = link.settings()
    assert settings[name] == value and type(settings[name]) is type(value)
    assert settings == {**preset_settings("nonsaturating"), name: value}


def test_a_family_takes_its_parameters_one_by_one_or_as_json():
    link = parse_query("?preset=nonsaturating&data=ring&data.count=12&data.radius=2")
    assert link.notices == []
    assert (link.settings()["dataset"], link.settings()["dataset_params"]) == ("ring", {"count": 12, "radius": 2})
    link = parse_query('?data=mixture&data.centres=[[0,0],[1,1]]')
    assert link.settings()["dataset_params"] == {"centres": [[0, 0], [1, 1]]}
    link = parse_query('?data=spiral&dataset_params={"arms":3}')
    assert link.settings()["dataset_params"] == {"arms": 3}
    # The preset's own family: a parameter changes on top of the preset's others.
    ring = preset_settings("lesson-mode-collapse")["dataset_params"]
    link = parse_query("?preset=lesson-mode-collapse&data.count=6")
    assert link.settings()["dataset_params"] == {**ring, "count": 6}


def test_view_options_and_lecture_mode():
    link = parse_query("?layers=d_image,fake_samples&lecture=1&hide=networks,optimizers", SECTIONS)
    assert (link.layers, link.lecture, link.hide, link.notices) == (("d_image", "fake_samples"), True,
                                                                    ("networks", "optimizers"), [])
    plain = parse_query("", SECTIONS)
    assert (plain.layers, plain.lecture, plain.hide, plain.overrides) == (DEFAULT_LAYERS, False, (), {})


def test_bad_names_and_values_are_reported_with_their_range_and_the_rest_applied():
    link = parse_query("?preset=nope&lr_g=-5&foo=1&roth=maybe&beta1=nan&steps=many&lr_d=0.004"
                       "&data=csv&hide=networks,sidebar&layers=d_image,glow", SECTIONS)
    assert link.preset == "nonsaturating"  # the default preset
    assert "one of vanilla, nonsaturating" in notice_for(link, "preset").text
    assert notice_for(link, "lr_g").text == "lr_g=-5 was ignored: lr_g must be a number in [0, 10]."
    assert "a setting's name" in notice_for(link, "foo").text
    assert notice_for(link, "roth").allowed == "true or false"
    assert notice_for(link, "beta1").allowed == "a number in [0, 0.999]"  # never a NaN setting
    assert notice_for(link, "steps").allowed == "an integer in [1, 10000000]"
    assert "csv" not in notice_for(link, "data").allowed  # a link never names a file on the server
    assert notice_for(link, "hide").given == "sidebar" and "networks" in notice_for(link, "hide").allowed
    assert notice_for(link, "layers").given == "glow"
    assert len(link.notices) == 9
    assert link.settings() == {**preset_settings("nonsaturating"), "lr_d": 0.004}
    assert (link.hide, link.layers) == (("networks",), ("d_image",))


def test_bad_dataset_parameters_are_reported_and_the_familys_defaults_used():
    link = parse_query("?data=ring&data.count=-3")
    assert notice_for(link, "data.count").allowed.startswith("an integer in [1,")
    assert link.settings()["dataset"] == "ring" and link.settings()["dataset_params"] == {}
    link = parse_query("?data=ring&data.petals=3")
    assert notice_for(link, "data.petals").text.startswith("data.petals=3 was ignored: data.petals must be one of")
    link = parse_query("?data=grid25&data.count=3")  # a benchmark has none
    assert "benchmark" in notice_for(link, "data.count").allowed
    assert link.settings()["dataset_params"] == {}


def test_a_value_that_breaks_a_rule_between_settings_is_refused_and_the_rest_kept():
    # The mode-collapse lesson's second run has Roth's regularizer on: a Wasserstein objective
    # (shared by both runs) is refused; the other changes stay.
    link = parse_query("?preset=lesson-mode-collapse&roth_gamma=0.5&objective=wasserstein&lr_g=0.001")
    notice = notice_for(link, "objective")
    assert "roth" in notice.text and "wasserstein" in notice.text
    assert link.overrides == {"roth_gamma": 0.5, "lr_g": 0.001}
    for settings in link.runs().values():
        check_rules(settings)


def test_a_lessons_shared_settings_change_every_run_and_the_others_the_last():
    link = parse_query("?preset=lesson-mode-collapse&seed=9&latent_dim=3&roth_gamma=0.5")
    plain, roth = preset_runs("lesson-mode-collapse").values()
    runs = link.runs()
    assert list(runs) == ["plain", "roth"]
    assert runs["plain"] == {**plain, "seed": 9, "latent_dim": 3}
    assert runs["roth"] == {**roth, "seed": 9, "latent_dim": 3, "roth_gamma": 0.5}


def test_the_query_holds_only_what_differs_from_the_preset():
    settings = preset_settings("roth")
    assert query_of("roth", settings) == f"?preset=roth&seed={settings['seed']}"
    changed = {**settings, "lr_g": 0.0025, "instance_noise": True, "seed": 7}
    query = query_of("roth", changed, layers=("d_image",), lecture=True, hide=("networks",))
    names = [name for name, _ in urllib.parse.parse_qsl(query[1:])]
    assert names == ["preset", "lr_g", "instance_noise", "seed", "layers", "lecture", "hide"]
    assert parse_query(query, SECTIONS).settings() == changed


def test_a_drawing_travels_in_the_link_and_an_upload_too_large_for_one_is_left_out_with_a_reason():
    rng = np.random.default_rng(0)
    drawn = {**preset_settings("roth"), "dataset": "points",
             "dataset_params": {"points": rng.normal(size=(30, 2)).round(3).tolist()}}
    assert data_left_out(drawn) is None
    assert parse_query(query_of("roth", drawn), SECTIONS).settings() == drawn
    uploaded = {**drawn, "dataset_params": {"points": rng.normal(size=(LINK_POINTS_MAX + 1, 2)).tolist()}}
    assert str(LINK_POINTS_MAX + 1) in data_left_out(uploaded)
    query = query_of("roth", uploaded)
    assert "points" not in query and len(query) < 200
    assert parse_query(query, SECTIONS).settings()["dataset"] == preset_settings("roth")["dataset"]


def random_value(name, rng):
    """A valid value of setting ``name``, drawn from its own bounds or choices."""
    p = Experiment.param[name]
    if isinstance(p, param.Boolean):
        return rng.random() < 0.5
    if isinstance(p, param.Selector):
        return rng.choice(p.objects)
    low, high = p.bounds
    if isinstance(p, param.Integer):
        return rng.randint(low, min(high, low + 10_000))
    return float(f"{rng.uniform(low, min(high, low + 50)):.6g}")


@pytest.mark.parametrize("preset", ["nonsaturating", "roth", "wgan-gp", "lesson-mode-collapse", "lesson-roth"])
def test_settings_to_query_to_settings(preset):
    """Random changes of a few settings at a time (those the rules allow) come back unchanged."""
    rng = random.Random(preset)
    names = [name for name in SETTINGS if not name.startswith("dataset")]
    data = [("ring", {"count": 5, "radius": 1.5}), ("grid25", {}), ("spiral", {"arms": 3}),
            ("mixture", {"centres": [[0, 0], [1, 0.5]], "sigma": 0.1})]
    tried = 0
    while tried < 60:
        settings = dict(preset_settings(preset))
        for name in rng.sample(names, 3):
            settings[name] = coerce(name, random_value(name, rng))
        if rng.random() < 0.3:
            settings["dataset"], settings["dataset_params"] = rng.choice(data)
        try:
            base = preset_settings(preset)
            for run in runs_with(preset, {k: v for k, v in settings.items() if v != base[k]}).values():
                check_rules(run)
        except Exception:  # noqa: BLE001 - a draw the rules refuse: not a link a page can have
            continue
        tried += 1
        layers = tuple(rng.sample(DEFAULT_LAYERS, 3))
        link = parse_query(query_of(preset, settings, layers=layers), SECTIONS)
        assert link.notices == []
        assert link.settings() == settings
        assert set(link.layers) == set(layers)


def test_every_preset_has_a_query_of_its_own():
    for name in PRESETS:
        link = parse_query(query_of(name, preset_settings(name)))
        assert link.notices == [] and link.runs() == preset_runs(name)


# ---------------------------------------------------------------------------------------------
# a Lab started from a link (in-process, as a notebook runs it)
def first_samples(lab) -> np.ndarray:
    """The generated samples of the lab's first frame (step 0, not training)."""
    wait_until(lambda: (lab.tick(), lab.plane.data["fake_samples"].size)[1], timeout=60, what="the first frame")
    return lab.plane.data["fake_samples"].copy()


def test_a_lab_starts_the_linked_experiment_and_its_address_follows_the_sidebar():
    from ganlab_app.lab import Lab  # a training process each: the Lab tests only

    lab = Lab(query="?preset=roth&data=grid25&roth_gamma=0.3&seed=5&lr_g=-5", play=False)
    try:
        assert settings_of(lab.controls.experiment) == {**preset_settings("roth"), "dataset": "grid25",
                                                        "dataset_params": {}, "roth_gamma": 0.3, "seed": 5}
        assert lab.link_notices.visible and "lr_g=-5 was ignored" in lab.link_notices.object
        lab.dismiss_link_notices.clicks += 1  # the reader has seen them: they go
        assert not lab.link_notices.visible and not lab.dismiss_link_notices.visible
        linked = first_samples(lab)
        # The sidebar's widget: the address follows it.
        box = next(w for w in lab.controls.cards[2].select(pn.widgets.FloatInput) if w.name == "D learning rate")
        box.value = 0.004
        assert lab.location.search == "?preset=roth&data=grid25&lr_d=0.004&roth_gamma=0.3&seed=5"
        lab.location.search = lab.query  # the browser, loading, reports the link it opened
        assert lab.location.search == "?preset=roth&data=grid25&lr_d=0.004&roth_gamma=0.3&seed=5"
    finally:
        lab.stop()
    # The same experiment started by its settings, without a link: the same first samples; another seed: others.
    for seed, same in ((5, True), (6, False)):
        session = LabSession(runs={"": {**preset_settings("roth"), "dataset": "grid25", "dataset_params": {},
                                        "roth_gamma": 0.3, "seed": seed}})
        session.set_view_options(grad_grid=False)  # a paused run sends a frame when asked for one
        try:
            update = wait_until(lambda: (u := session.poll()) and u.runs and u.runs[0].snapshot and u,
                                timeout=60, what="the session's first frame")
            assert np.array_equal(update.runs[0].snapshot.fixed_samples[0], linked) == same
        finally:
            session.stop()
