"""The lab's views and its bridge, in-process (no server, no browser): snapshots reach the
2D plane, the 3D figure and the charts; settings reach the trainer; a diverged run says so."""


import numpy as np
import panel as pn
import pytest
import torch

from ganlab_app.lab import Lab
from ganlab_app.protocol import Frame, RunFrame, RunStarted
from ganlab_app.session import preset_settings
from gan_core.schedules import beta_schedule_length
from waiting import tick_until

SMALL = {"batch_size": 64, "g_width": 32, "d_width": 32}



def sidebar_widget(lab, label: str):
    """The sidebar's widget with this label."""
    found = [w for w in lab.controls.__panel__().select(pn.widgets.Widget) if getattr(w, "label", w.name) == label]
    assert len(found) == 1, f"{len(found)} widgets labelled {label!r}"
    return found[0]


def drawn(view) -> dict:
    """The layers of the 3D view's last frame, by name, with their arrays."""
    return {layer["name"]: layer for layer in view.scene.shown_layers()}


@pytest.fixture
def lab():
    lab = Lab(play=False)
    lab.session.load_runs({"": {**preset_settings("nonsaturating"), **SMALL}})
    yield lab
    lab.stop()


def test_plane_charts_and_numbers_update(lab):
    lab.session.play()
    data = lab.plane.data
    tick_until(lab, lambda: len(data["fake_samples"]) == 1000 and len(lab.charts.histories[0].data["step"]) >= 10)
    first = np.array(data["fake_samples"][:10])
    tick_until(lab, lambda: not np.array_equal(first, data["fake_samples"][:10]))
    image = data["d_image"]["image"]
    assert image.shape == (64, 64) and 0 <= image.min() <= image.max() <= 1
    assert len(lab.plane.data["g_arrows"]) > 0
    assert len(lab.plane.data["mode_centres"]) == 8
    steps = np.asarray(lab.charts.histories[0].data["step"])
    assert (np.diff(steps) > 0).all()  # one point per update, none repeated
    assert "Step" in lab.numbers.text
    trains_on = "| Trains on | CUDA (" if torch.cuda.is_available() else f"| Trains on | CPU, {lab.session.threads} thread"
    assert trains_on in lab.numbers.text


def test_the_now_table_says_which_gpu_the_runs_train_on(lab):
    """A training process on a GPU names it in its RunStarted event (faked here, after a real
    frame), and the Now table shows it."""
    seen, poll = [], lab.session.poll
    lab.session.poll = lambda: seen.append(poll()) or seen[-1]
    lab.session.step_full()
    tick_until(lab, lambda: any(u and u.runs and u.runs[0].snapshot is not None for u in seen))
    update = next(u for u in seen if u and u.runs and u.runs[0].snapshot is not None)
    lab.session._apply(RunStarted(("",), update.dataset, None, "CUDA (NVIDIA H100 80GB HBM3)", None))
    lab.session._apply(Frame((RunFrame(update.runs[0].snapshot, {"step": np.empty(0)}, []),)))
    tick_until(lab, lambda: "| Trains on | CUDA (NVIDIA H100 80GB HBM3) |" in lab.numbers.text)


def test_stabilizer_widget_reaches_trainer(lab):
    sidebar_widget(lab, "Instance noise").value = True  # what a click on the checkbox does
    lab.session.step_full()
    tick_until(lab, lambda: len(lab.charts.histories[0].data["sigma"]) and lab.charts.histories[0].data["sigma"][-1] > 0)


def test_3d_dataset_shows_volume(lab):
    lab.controls.dataset.value = "gauss3d5"  # a benchmark: switches at once; structural: restarts, says so
    lab.session.step_full()
    tick_until(lab, lambda: lab.view.objects[0] is lab.volume.__panel__() and len(drawn(lab.volume)) >= 4)
    layers = drawn(lab.volume)
    assert set(layers) == {"D on slices", "real", "generated", "mode centres"}
    assert len(layers["D on slices"]["xyz"]) == 3 * (3 * 16 * 16)  # three slices of 16 x 16 points
    assert lab.messages.alert.visible and "restarted" in lab.messages.alert.object


def test_preset_load_syncs_widgets(lab):
    lab.controls.preset.value = "wgan-gp"
    lab.controls._load_preset()
    tick_until(lab, lambda: lab.controls.experiment.objective == "wasserstein")
    assert lab.controls.experiment.gradient_penalty
    tick_until(lab, lambda: len(lab.plane.data["gp_points"]) > 0)  # WGAN-GP's interpolates
    tick_until(lab, lambda: "critic value, auto-scaled" in lab.plane.note.object)


def test_divergence_is_shown_with_reset(lab):
    lab.session.load_runs({"": {**preset_settings("nonsaturating"), **SMALL, "objective": "least_squares",
                                "lr_d": 10.0, "lr_g": 10.0, "g_optimizer": "sgd", "d_optimizer": "sgd"}})
    lab.session.play()
    tick_until(lab, lambda: lab.messages.divergence.visible)
    assert "The run diverged at step " in lab.messages.divergence_text.object
    assert not lab.session.playing
    button = lab.controls.play_button
    tick_until(lab, lambda: button.name == "Play")  # stopped: the button offers to play again
    reset = lab.messages.divergence.select(pn.widgets.Button)[0]
    reset.clicks += 1  # what a click on "Reset the run" does
    lab.session.step_full()
    tick_until(lab, lambda: not lab.messages.divergence.visible and len(lab.charts.histories[0].data["step"]) == 1)


def test_widget_changes_are_not_held_back(lab):
    """Panel holds a browser's change 50 ms before handling it (Reactive._debounce); the lab's
    widgets take theirs at once. If a Panel release renames that setting, this says so."""
    import panel as pn

    from ganlab_app.panel_internals import CHANGE_DELAY_MS
    assert isinstance(pn.reactive.Syncable._debounce, int)  # Panel still holds changes by this setting
    lab.controls.dataset.value = "gauss3d5"  # so the 3D view's widgets are on the page too
    lab.session.step_full()
    tick_until(lab, lambda: lab.view.objects[0] is lab.volume.__panel__())
    page = pn.Row(lab.controls.__panel__(), lab.main, lab.plane.__panel__())
    widgets = page.select(pn.widgets.Widget)
    assert len(widgets) > 30
    assert {w._debounce for w in widgets} == {CHANGE_DELAY_MS}


def test_play_button_says_what_it_will_do(lab):
    button = lab.controls.play_button
    lab.session.play()
    tick_until(lab, lambda: button.name == "Pause")
    lab.session.pause()
    tick_until(lab, lambda: button.name == "Play")
    lab.session.play()
    tick_until(lab, lambda: button.name == "Pause")


def test_seed_change_restarts_the_run(lab):
    lab.session.step_full()
    tick_until(lab, lambda: lab._generation is not None and len(lab.charts.histories[0].data["step"]) == 1)
    generation = lab._generation
    sidebar_widget(lab, "Seed").value = 7
    lab.session.step_full()
    tick_until(lab, lambda: lab._generation != generation and len(lab.charts.histories[0].data["step"]) == 1)


def test_dataset_family_with_parameters_reaches_the_trainer(lab):
    controls = lab.controls
    tick_until(lab, lambda: lab.controls.experiment.batch_size == SMALL["batch_size"])  # the load reached the sidebar
    controls.dataset.value = "ring"  # a family: example parameters appear, nothing is sent yet
    assert controls.dataset_params.value and not controls.dataset_params.disabled
    controls.dataset_params.value = '{"count": 12, "radius": 2.0, "sigma": 0.03}'
    assert controls.apply_dataset()
    lab.session.step_full()
    tick_until(lab, lambda: len(lab.plane.data["mode_centres"]) == 12)
    centres = lab.plane.data["mode_centres"]
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2.0, rtol=1e-6)
    assert controls.experiment.dataset_params == {"count": 12, "radius": 2.0, "sigma": 0.03}


@pytest.mark.parametrize("text, expected", [
    ('{"count": 0}', "count"),  # out of range: the parameter and its range are named
    ('{"colour": 3}', "colour"),  # not a parameter of the family
    ('{"count": 8', "not valid JSON"),
])
def test_bad_dataset_parameters_are_explained_and_not_sent(lab, text, expected):
    controls = lab.controls
    controls.dataset.value = "ring"
    controls.dataset_params.value = text
    sent = []
    lab.session.update = lambda changes: sent.append(changes)
    assert not controls.apply_dataset()
    assert controls.data_error.visible and expected in controls.data_error.object
    assert sent == [] and controls.experiment.dataset == "ring8"


def test_beta_chart_draws_the_whole_schedule_and_the_current_step(lab):
    settings = preset_settings("beta-gan")
    lab.session.load_runs({"": {**settings, **SMALL}})
    lab.session.play()
    tick_until(lab, lambda: len(lab.charts.plans[0].data["step"]) > 0 and len(lab.charts.histories[0].data["step"]) > 5)
    plan = lab.charts.plans[0].data
    # beta rises geometrically to its end value; the data phase (inf) is left undrawn.
    finite = np.asarray(plan["beta"])[np.isfinite(plan["beta"])]
    assert finite.max() == pytest.approx(10.0, rel=1e-5) and finite.min() == pytest.approx(0.1, rel=1e-5)
    switch = beta_schedule_length(settings["beta_uniform_steps"], settings["beta_levels"],
                                  settings["beta_steps_per_level"])
    assert plan["step"][-1] > switch  # the plan reaches past the switch to the data
    assert lab.charts.now == lab.charts.histories[0].data["step"][-1] > 0  # the dashed "now" line
    beta = next(spec for spec in lab.charts.canvas.specs if spec["name"] == "chart_beta")
    assert beta["now"] and beta["log"] and {"h0:beta", "p0:beta"} <= {line["y"] for line in beta["lines"]}
    sent = lab.charts.canvas.shown_columns()  # what the canvas draws: the same points, float32
    np.testing.assert_allclose(sent["p0:beta"], plan["beta"], rtol=1e-6)
    np.testing.assert_array_equal(sent["h0:step"], lab.charts.histories[0].data["step"])


def test_grad_map_layer_asks_for_the_map_and_draws_it(lab):
    lab.session.step_full()
    tick_until(lab, lambda: len(lab.plane.data["fake_samples"]) == 1000)
    assert lab.plane.data["grad_image"] is None  # off at start: not computed
    lab.plane.layers.value = [*lab.plane.layers.value, "|∇x D| map"]  # what the checkbox does
    lab.session.step_full()
    tick_until(lab, lambda: lab.plane.data["grad_image"] is not None)
    norms = lab.plane.data["grad_image"]["image"]
    assert norms.shape == (64, 64) and np.isfinite(norms).all() and norms.max() > 0
    sent = {layer["name"]: layer for layer in lab.plane.canvas.layers}  # drawn, with its log colour bar
    assert sent["grad_image"]["log"] and sent["grad_image"]["high"] == pytest.approx(float(norms.max()))


def test_lesson_with_variants_shows_its_runs_side_by_side(lab):
    lab.controls.preset.value = "lesson-beta-vs-vanilla"
    lab.controls._load_preset()
    tick_until(lab, lambda: len(lab.volumes) == 2 and all(len(drawn(v)) >= 3 for v in lab.volumes),
               timeout=60)
    row = lab.view.objects[0]
    assert [p for p in row.objects] == [v.__panel__() for v in lab.volumes]  # both 3D views on the page
    assert lab.charts.runs == ["A: vanilla", "B: beta-gan"]
    tick_until(lab, lambda: len(lab.charts.histories[1].data["step"]) > 0 and
               len(lab.charts.histories[0].data["step"]) > 0, timeout=60)
    assert "**A**: vanilla" in lab.numbers.text and "**B**: beta-gan" in lab.numbers.text
    # The vanilla run trains on the data; beta-GAN starts on the uniform box (beta 0).
    beta_row = next(line for line in lab.numbers.text.splitlines() if line.startswith("| β |"))
    assert beta_row == "| β | ∞ (the data) | 0 (the uniform box) |"
    plan_b = np.asarray(lab.charts.plans[1].data["beta"])
    assert np.nanmax(plan_b) == pytest.approx(10.0, rel=1e-5)
    assert np.isnan(np.asarray(lab.charts.plans[0].data["beta"])).all()  # vanilla: no beta schedule


def test_cube_frames_are_drawn_as_edges_and_the_slice_point_reaches_the_trainer(lab):
    lab.controls.dataset.value = "cubes"  # a benchmark: switches at once
    lab.session.step_full()
    tick_until(lab, lambda: "cube edges" in drawn(lab.volume), timeout=30)
    points = drawn(lab.volume)["cube edges"]["xyz"].reshape(-1, 3)
    assert len(points) == 2 * 24  # 24 edges, two ends each
    assert set(np.round(np.abs(points.astype(float)).max(1), 6)) == {0.8, 0.4}  # two frames, half-sides 0.8 and 0.4
    lab.session.set_view_options(slice_point=(0.3, -0.2, 0.1))
    lab.session.step_full()

    def slices_through_point():
        slices = drawn(lab.volume).get("D on slices")
        return slices is not None and all(np.isclose(slices["xyz"].reshape(-1, 3)[:, axis], value).any()
                                          for axis, value in enumerate((0.3, -0.2, 0.1)))
    tick_until(lab, slices_through_point, timeout=30)


def test_first_frame_is_drawn_before_the_page_is_served():
    lab = Lab(play=False)  # what a served page does while its document is being built
    try:
        lab._draw_first_frame(timeout=20)
        assert len(lab.plane.data["fake_samples"]) == 1000
        assert lab.plane.data["d_image"]["image"].shape == (64, 64)
        assert not lab.session.playing  # drawing is not training: play starts when the page has loaded
    finally:
        lab.stop()


def test_the_lab_renders_outside_a_server_as_in_a_notebook(lab):
    """A notebook shows ``Lab`` (its ``__panel__``) as one Bokeh document, with no server: the
    page's models, the 3D scene's included, build from the lab object as it stands."""
    lab.controls.dataset.value = "gauss3d5"
    lab.session.step_full()
    tick_until(lab, lambda: lab.view.objects[0] is lab.volume.__panel__() and drawn(lab.volume))
    root = lab.__panel__().get_root()
    components = {m.data.name: m for m in root.references() if getattr(m, "esm", None)}  # canvases, the upload, the idle watch
    assert set(components) == {"volume", "charts", "csv_upload", "activity"} and lab.volume.scene.on_page()
    scenes = [components["volume"]]
    assert [layer["name"] for layer in scenes[0].data.layers] == list(drawn(lab.volume))
