"""Lessons have a shape: phases in step order within the budget, moments to watch for within it,
and phases that follow the schedule settings they come from (checked against the schedules'
own functions, a second code path)."""

import math

import pytest
import torch

from gan_core import schedules
from gan_core.presets import LESSONS, PRESETS, Phase

LESSON_NAMES = [lesson.name for lesson in LESSONS]


def first_step_on_the_data(settings: dict) -> int:
    """Where beta-GAN's schedule (gan_core.schedules.beta) first reaches inf, found by stepping it."""
    tensor = {name: torch.tensor([float(settings[name])]) for name in
              ("beta_uniform_steps", "beta_start", "beta_end", "beta_levels", "beta_steps_per_level")}
    t = 0
    while math.isfinite(float(schedules.beta(t, tensor["beta_uniform_steps"], tensor["beta_start"],
                                             tensor["beta_end"], tensor["beta_levels"],
                                             tensor["beta_steps_per_level"])[0])):
        t += 1
    return t


def first_step_off_the_box(settings: dict) -> int:
    """Where beta-GAN's schedule first leaves 0 (the uniform box)."""
    tensor = {name: torch.tensor([float(settings[name])]) for name in
              ("beta_uniform_steps", "beta_start", "beta_end", "beta_levels", "beta_steps_per_level")}
    t = 0
    while float(schedules.beta(t, *tensor.values())[0]) == 0:
        t += 1
    return t


@pytest.mark.parametrize("name", LESSON_NAMES)
def test_every_lesson_has_phases_and_moments_in_step_order_within_its_budget(name):
    lesson = PRESETS[name]
    budget = lesson.budget()
    assert budget == lesson.lesson_settings()["steps"] > 0
    phases = lesson.phases()
    assert phases and phases[0].start == 0, "a lesson's first phase starts at step 0"
    starts = [phase.start for phase in phases]
    assert starts == sorted(set(starts)) and starts[-1] < budget
    assert all(phase.name.strip() for phase in phases)
    moments = lesson.watch_for()
    assert moments, f"{name} has nothing to watch for"
    steps = [moment.step for moment in moments]
    assert steps == sorted(steps) and 0 <= steps[0] and steps[-1] <= budget
    assert all(moment.what.strip() and moment.when().endswith(f"step {moment.step:,}") for moment in moments)


def test_presets_that_are_no_lessons_have_no_shape():
    for preset in PRESETS.values():
        assert (preset.shape is not None) == (preset.kind == "lesson"), preset.name
        if preset.shape is None:
            assert preset.phases() == () and preset.watch_for() == ()


def test_beta_phases_follow_the_schedule_settings():
    lesson = PRESETS["lesson-beta-vs-vanilla"]
    settings = lesson.lesson_settings()
    phases = lesson.phases()
    assert [phase.start for phase in phases] == [0, first_step_off_the_box(settings),
                                                 first_step_on_the_data(settings)]
    assert phases[1].name.startswith("cooling") and phases[2].name.startswith("the data")
    # The final decay starts on the data: one phase, both said.
    assert "learning rates decay to 10 %" in phases[2].name

    changed = {**settings, "beta_uniform_steps": 700, "beta_steps_per_level": 100, "lr_decay_start": 9000}
    moved = lesson.phases(changed)
    assert [phase.start for phase in moved] == [0, 700, first_step_on_the_data(changed), 9000]
    assert first_step_on_the_data(changed) == 700 + 21 * 100
    assert moved[2].name == "the data (β = ∞)" and moved[3].name == "learning rates decay to 10 %"
    # The moments that name a schedule's step move with it.
    before = {m.what: m.step for m in lesson.watch_for()}
    after = {m.what: m.step for m in lesson.watch_for(changed)}
    box, data = (next(what for what in before if what.startswith(start))
                 for start in ("the uniform box is learnt", "beta-GAN now trains on the data"))
    assert (before[box], before[data]) == (1200, first_step_on_the_data(settings))
    assert (after[box], after[data]) == (700, first_step_on_the_data(changed))


def test_phases_beyond_the_budget_are_left_out():
    lesson = PRESETS["lesson-beta-cubes"]
    short = {**lesson.lesson_settings(), "steps": 1000}
    assert lesson.phases(short) == (Phase(0, "uniform box (β = 0)"),)
    assert all(moment.step <= 1000 for moment in lesson.watch_for(short))
    assert lesson.budget(short) == 1000


def test_the_freeze_and_the_regularizer_make_their_phases():
    vanishing = PRESETS["lesson-vanishing-gradients"]
    settings = vanishing.lesson_settings()
    assert [phase.start for phase in vanishing.phases()] == [0, settings["freeze_g_after"]] == [0, 500]
    assert [phase.start for phase in vanishing.phases({**settings, "freeze_g_after": 1234})] == [0, 1234]
    assert vanishing.watch_for({**settings, "freeze_g_after": 1234})[0].step == 1234

    collapse = PRESETS["lesson-mode-collapse"]
    settings = {**collapse.lesson_settings(), "roth_anneal_steps": 800}
    phases = collapse.phases(settings)
    assert [phase.start for phase in phases] == [0, 800]
    # The weights named are the schedule's own at its start and once annealed.
    end = float(schedules.roth_gamma(800, torch.tensor(settings["roth_gamma"]), torch.tensor(settings["roth_alpha"]),
                                     torch.tensor(float(settings["roth_anneal_steps"]))))
    assert phases[0].name == f"γ anneals from {settings['roth_gamma']:.3g} to {end:.3g}"
    assert phases[1].name == f"γ held at {end:.3g}"
    assert collapse.phases({**settings, "roth": False}) == (Phase(0, "no regularizer"),)
