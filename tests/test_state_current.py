"""What the page shows is current, in-process (a real training process, the sidebar's real
widgets): messages go when they no longer hold, the preset card names the data the runs train on,
step 0 shows the planned schedules' values, the sidebar names the run it edits, single D / G steps
are counted, "Start fresh on the new data" restarts there, each 3D view keeps its own layers, and
a lesson shows its progress and pauses at its budget."""

import time

import panel as pn
import param
import pytest

from gan_core.presets import PRESETS
from ganlab_app.lab import Lab
from waiting import tick_until



def click(button):
    button.clicks += 1  # what a click in the browser does


def release(slider, value):
    """A drag ending at ``value``: the browser sends value while dragging, value_throttled on release."""
    slider.value = value
    with param.edit_constant(slider):
        slider.value_throttled = value


def sidebar_widget(lab, label: str):
    found = [w for w in lab.controls.__panel__().select(pn.widgets.Widget) if getattr(w, "label", w.name) == label]
    assert len(found) == 1, f"{len(found)} widgets labelled {label!r}"
    return found[0]


def row(lab, label: str) -> str:
    """The Now table's row of ``label``, as a reader sees it."""
    return next(line for line in lab.numbers.text.splitlines() if line.startswith(f"| {label} |"))


def step_shown(lab) -> int | None:
    line = next((line for line in lab.numbers.text.splitlines() if line.startswith("| Step |")), None)
    return None if line is None else int(line.split("**")[1])


@pytest.fixture
def make_lab():
    labs = []

    def make(preset="nonsaturating"):
        lab = Lab(preset=preset, play=False)
        labs.append(lab)
        tick_until(lab, lambda: step_shown(lab) == 0, what="the first frame")
        return lab

    yield make
    for lab in labs:
        lab.stop()


def test_a_restart_banner_goes_when_another_preset_loads(make_lab):
    lab = make_lab()
    release(sidebar_widget(lab, "Latent dimension"), 5)  # the networks change: the run restarts
    tick_until(lab, lambda: any("restarted" in text for text in lab.messages.shown), what="the restart banner")
    lab.controls.preset.value = "lesson-mode-collapse"
    click(lab.controls.load_button)
    tick_until(lab, lambda: lab.session.names == ["plain", "roth"] and step_shown(lab) is not None,
               what="the lesson's runs")
    for _ in range(10):  # and it does not come back with the events that follow
        lab.tick()
        time.sleep(0.02)
    assert not any("restarted" in text for text in lab.messages.shown)


def test_data_switched_goes_on_reset_and_the_card_names_the_new_data(make_lab):
    lab = make_lab()
    assert "Data: `ring8`" in lab.controls.preset_text.object
    lab.controls.dataset.value = "grid25"  # a benchmark: switches at once
    tick_until(lab, lambda: any("Data switched to grid25" in text for text in lab.messages.shown),
               what="the data switch's message")
    assert "Data: `grid25` (switched from the preset's `ring8`)" in lab.controls.preset_text.object
    generation = lab._generation
    click(lab.controls.reset_button)
    tick_until(lab, lambda: lab._generation != generation, what="the reset")
    assert lab.messages.shown == []
    assert "`grid25`" in row(lab, "Data")


def test_step_zero_shows_the_planned_schedules_after_reset(make_lab):
    lab = make_lab("instance-noise")
    settings = PRESETS["instance-noise"].lesson_settings()
    lab.session.step_full()
    lab.session.step_full()
    tick_until(lab, lambda: step_shown(lab) == 2, what="two steps")
    generation = lab._generation
    click(lab.controls.reset_button)
    tick_until(lab, lambda: lab._generation != generation and step_shown(lab) == 0, what="step 0 after the reset")
    # The trainer has taken no step: sigma is the schedule's first value, no beta-annealing (the data).
    assert row(lab, "σ / γ") == f"| σ / γ | {settings['noise_sigma']:.3g} / 0 |"
    assert row(lab, "β") == "| β | ∞ (the data) |"
    assert row(lab, "D loss / G loss") == "| D loss / G loss | no step yet |"


def test_the_sidebar_names_the_run_it_edits_side_by_side(make_lab):
    lab = make_lab("lesson-mode-collapse")
    assert lab.controls.editing.visible
    assert lab.controls.editing.object.startswith("Editing run **B: roth**")
    lab.controls.preset.value = "nonsaturating"
    click(lab.controls.load_button)
    tick_until(lab, lambda: lab.session.names == [""], what="one run")
    assert not lab.controls.editing.visible


def test_single_d_and_g_steps_move_a_counter_beside_the_step(make_lab):
    lab = make_lab()
    click(lab.controls.step_d_button)
    click(lab.controls.step_d_button)
    click(lab.controls.step_g_button)
    tick_until(lab, lambda: "**0** (+2 D, +1 G)" in row(lab, "Step"), what="the counter")
    lab.session.step_full()
    tick_until(lab, lambda: step_shown(lab) == 1, what="a full step")
    assert "(+" not in row(lab, "Step")  # a new step: counted afresh


def test_start_fresh_on_the_new_data_restarts_at_step_zero_there(make_lab):
    lab = make_lab()
    for _ in range(3):
        lab.session.step_full()
    tick_until(lab, lambda: step_shown(lab) == 3, what="three steps")
    lab.controls.dataset.value = "grid25"
    tick_until(lab, lambda: "`grid25`" in row(lab, "Data"), what="the switch")
    assert step_shown(lab) == 3  # switched mid-run: the networks train on
    generation = lab._generation
    click(lab.controls.start_fresh)
    tick_until(lab, lambda: lab._generation != generation and step_shown(lab) == 0, what="the fresh start")
    assert "`grid25`" in row(lab, "Data")
    assert lab.session.settings[-1]["dataset"] == "grid25"


def test_start_fresh_applies_a_picked_family_first(make_lab):
    lab = make_lab()
    lab.session.step_full()
    tick_until(lab, lambda: step_shown(lab) == 1, what="a step")
    lab.controls.dataset.value = "ring"  # a family: its example parameters wait to be applied
    lab.controls.dataset_params.value = '{"count": 5, "radius": 1.0, "sigma": 0.02, "dim": 2}'
    generation = lab._generation
    click(lab.controls.start_fresh)
    tick_until(lab, lambda: lab._generation != generation and step_shown(lab) == 0, what="the fresh start")
    assert lab.session.settings[-1]["dataset"] == "ring"
    assert lab.session.settings[-1]["dataset_params"]["count"] == 5


def test_each_3d_view_keeps_its_own_layers(make_lab):
    lab = make_lab("lesson-roth")
    first, second = lab.volumes
    first.show_isosurface.value = True  # what a click on A's checkbox does
    assert second.show_isosurface.value is False
    assert lab.session._view["volume"] is True  # computed for the view that wants it
    lab.session.step_full()
    tick_until(lab, lambda: any(layer["name"].startswith("D isosurface") for layer in first.scene.shown_layers()),
               what="A's isosurface")
    assert not any(layer["name"].startswith("D isosurface") for layer in second.scene.shown_layers())
    second.show_isosurface.value = True
    first.show_isosurface.value = False
    assert lab.session._view["volume"] is True  # B still wants it
    second.show_slices.value = False
    assert first.show_slices.value is True
    first.sliders[0].value = 0.5  # the slice point is one per session: the sliders move together
    assert second.sliders[0].value == 0.5


def test_a_lesson_shows_its_phase_and_pauses_at_its_budget(make_lab):
    lab = make_lab("lesson-vanishing-gradients")
    progress = lab.lesson
    assert progress.__panel__().visible and progress.lesson.name == "lesson-vanishing-gradients"
    assert progress.current_phase.name == "warm-up: G and D train together"
    sidebar_widget(lab, "Freeze G after step").value = 10  # the phase boundary moves with the setting
    tick_until(lab, lambda: [phase.start for phase in progress.phases] == [0, 10], what="the moved phase")
    lab.session.update({"steps": 30})  # the budget, cut short
    tick_until(lab, lambda: progress.budget == 30, what="the shorter budget")
    lab.session.play()
    tick_until(lab, lambda: progress.budget_note.visible and not lab.session.playing, what="the pause at the budget")
    assert progress.step >= 30
    assert "budget of 30 steps is reached" in progress.budget_note.object
    assert progress.current_phase.name == "G frozen: D trains on alone"
    now = '<span class="phase now" title="from step 10">G frozen: D trains on alone</span>'
    assert now in progress.phase_list.object
    assert "✓ step 10:" in progress.moment_list.object  # passed: ticked
    assert progress.bar.value == progress.bar.max == 30
    # Play trains on past the budget, without another pause.
    paused_at = progress.step
    lab.session.play()
    tick_until(lab, lambda: progress.step > paused_at + 20, what="training past the budget")
    assert lab.session.playing
    lab.session.pause()
    # Reset starts the lesson again: the note goes, the pause is armed again.
    click(lab.controls.reset_button)
    tick_until(lab, lambda: step_shown(lab) == 0 and not progress.budget_note.visible, what="the reset")


def test_no_progress_for_a_preset_that_is_no_lesson(make_lab):
    lab = make_lab()
    assert not lab.lesson.__panel__().visible
    lab.controls.preset.value = "lesson-clip-vs-gp"
    click(lab.controls.load_button)
    tick_until(lab, lambda: lab.session.names == ["clipping", "gradient penalty"], what="the lesson")
    assert lab.lesson.__panel__().visible and lab.lesson.budget == 2000
