"""The sidebar: widgets generated from the Experiment's parameters (bounds and docs stated
once in gan_core.config), grouped into cards; presets and lessons; play / step / reset.

Widgets edit a UI-side Experiment; each change of it is sent to the session as an update.
A preset load sets the Experiment without echoing the changes back."""

from __future__ import annotations

import json

import panel as pn
import param

from ganlab_datasets import BENCHMARKS, DATASET_NAMES, FAMILIES, ParameterError, get_dataset
from ganlab_datasets.registry import family_parameters
from gan_core.config import Experiment
from gan_core.presets import PRESETS
from gan_core.stabilizers import CATALOGUE

from .widgets import make, set_label

DATA = ("seed",)
NETWORKS = ("latent_dim", "latent_prior", "g_width", "g_depth", "g_activation", "g_batchnorm", "g_output",
            "d_width", "d_depth", "d_activation", "conditional")
OBJECTIVE = ("objective", "n_critic", "batch_size", "g_optimizer", "d_optimizer", "lr_g", "lr_d", "beta1", "beta2",
             "lr_final_fraction", "lr_decay_start", "lr_decay_steps", "freeze_g_after", "metrics_every")


# Example parameters shown for a family when it is picked (valid as they stand; edit and apply).
FAMILY_EXAMPLES = {
    "ring": {"count": 8, "radius": 1.0, "sigma": 0.02, "dim": 2},
    "grid": {"per_side": 5, "spacing": 2.0, "sigma": 0.05, "dim": 2},
    "mixture": {"centres": [[0, 0], [1, 1], [-1, 1]], "sigma": 0.05},
    "cube_frames": {"half_sides": [0.8, 0.4], "noise": 0.02},
    "moons": {"noise": 0.05}, "swiss_roll": {"noise": 0.05, "dim": 2}, "spiral": {"arms": 2, "turns": 1.5, "noise": 0.03},
}

LABELS = {"lr_g": "G learning rate", "lr_d": "D learning rate", "n_critic": "D steps per G step"}


def widget_for(experiment: Experiment, name: str, label: str | None = None):
    """A widget for one parameter, with its bounds and doc; two-way linked to ``experiment``.
    Sliders send one change per drag (value_throttled)."""
    p = experiment.param[name]
    label = label or LABELS.get(name, name.replace("_", " "))
    value = getattr(experiment, name)
    common = dict(name=label, description=p.doc, sizing_mode="stretch_width")
    watched = "value"
    if isinstance(p, param.Boolean):
        widget = make(pn.widgets.Checkbox, value=value, **common)
    elif isinstance(p, param.Selector):
        options = list(p.objects)
        widget = make(pn.widgets.Select, options=options, value=value, **common)
    elif isinstance(p, param.Integer):
        low, high = p.bounds
        if high - low <= 100:
            widget, watched = make(pn.widgets.IntSlider, start=low, end=high, value=value, **common), "value_throttled"
        else:
            widget = make(pn.widgets.IntInput, start=low, end=high, value=value, **common)
    elif isinstance(p, param.Number):
        low, high = p.bounds
        if high - low <= 2.5:
            widget, watched = make(pn.widgets.FloatSlider, start=low, end=high, value=value, step=(high - low) / 200,
                                                     **common), "value_throttled"
        else:
            widget = make(pn.widgets.FloatInput, start=low, end=high, value=value, step=abs(value) / 10 or 1e-3,
                                           format="0.[00000]", **common)
    else:
        raise TypeError(f"no widget for {name}")

    def to_experiment(event):
        try:
            setattr(experiment, name, event.new)
        except ValueError:  # out of bounds: the widget goes back to the valid value
            widget.value = getattr(experiment, name)

    def to_widget(event):
        if widget.value != event.new:
            widget.value = event.new

    widget.param.watch(to_experiment, watched)
    experiment.param.watch(to_widget, name)
    return widget


class Controls(pn.viewable.Viewer):
    def __init__(self, session, preset: str, settings: dict, defer: bool = False):
        """``defer``: the cards after Data join the sidebar at ``show_all()`` (a served page calls
        it once loaded: building their models took about a second of the page's way to its first
        frame on a slow machine)."""
        super().__init__()
        self.session = session
        self.experiment = Experiment(**settings)
        self._loading = False
        self.experiment.param.watch(self._changed, [n for n in Experiment.param if n not in ("name", "dataset_params")])

        def widgets(names):
            return [widget_for(self.experiment, n) for n in names]

        self.preset = make(pn.widgets.Select, name="Preset or lesson", options={f"{n}": n for n in PRESETS}, value=preset,
                                        sizing_mode="stretch_width")
        self.preset_text = pn.pane.Markdown("", sizing_mode="stretch_width", styles={"font-size": "0.9em"})
        self.load_button = make(pn.widgets.Button, name="Load preset", button_type="primary")
        self.load_button.on_click(self._load_preset)
        self.preset.param.watch(lambda e: self._describe(e.new), "value")
        self._describe(preset)

        self.play_button = make(pn.widgets.Button, name="Pause", button_type="success", width=100)
        self._shown_playing = True  # what the button says now
        self.play_button.on_click(self._toggle_play)
        step_d = make(pn.widgets.Button, name="Step D", width=80)
        step_d.on_click(lambda e: session.step_d())
        step_g = make(pn.widgets.Button, name="Step G", width=80)
        step_g.on_click(lambda e: session.step_g())
        step = make(pn.widgets.Button, name="Step (D+G)", width=100)
        step.on_click(lambda e: session.step_full())
        self.reset_button = make(pn.widgets.Button, name="Reset", button_type="warning", width=100)
        self.reset_button.on_click(lambda e: session.reset())
        self.speed = make(pn.widgets.IntSlider, name="Steps per frame (at most)", start=1, end=100,
                                          value=session.steps_per_frame, sizing_mode="stretch_width")
        self.speed.param.watch(self._set_speed, "value_throttled")

        stabilizers = []
        for entry in CATALOGUE:
            switch = widget_for(self.experiment, entry.switch, label=entry.title)
            stabilizers += [switch, *widgets(entry.settings),
                            pn.pane.Markdown(f"{entry.explanation}.  \n*{entry.reference}*",
                                             styles={"font-size": "0.85em", "color": "#555"},
                                             sizing_mode="stretch_width"),
                            pn.layout.Divider()]
        self.cards = [
            pn.Card(*self._data_widgets(), *widgets(DATA), title="Data", sizing_mode="stretch_width"),
            pn.Card(*stabilizers, title="Stabilizers", sizing_mode="stretch_width"),
            pn.Card(*widgets(OBJECTIVE), title="Objective & optimizers", sizing_mode="stretch_width",
                    collapsed=True),
            pn.Card(pn.pane.Markdown("Changing these restarts the run (new networks, same seed).",
                                     styles={"font-size": "0.85em"}),
                    *widgets(NETWORKS), title="Networks", sizing_mode="stretch_width", collapsed=True),
        ]
        self._later = pn.Column(*([] if defer else self.cards[1:]), sizing_mode="stretch_width")
        self._layout = pn.Column(
            pn.Row(self.play_button, self.reset_button, sizing_mode="stretch_width"),
            pn.Row(step_d, step_g, step, sizing_mode="stretch_width"),
            self.speed,
            pn.Card(self.preset, self.load_button, self.preset_text, title="Presets & lessons",
                    sizing_mode="stretch_width"),
            self.cards[0], self._later, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def show_all(self) -> None:
        """Put the deferred cards (stabilizers, objective, networks) into the sidebar."""
        if not self._later.objects:
            self._later.objects = self.cards[1:]

    def _data_widgets(self) -> list:
        """The dataset picker and, for a family, its parameters as JSON. Both are checked here by
        building the dataset (milliseconds), so a bad value is explained at once and never sent."""
        # Not "csv": a served lab must not read files on the server named from a browser.
        self.dataset = make(pn.widgets.Select, name="dataset", options=[n for n in DATASET_NAMES if n != "csv"],
                             value=self.experiment.dataset, description=self.experiment.param.dataset.doc,
                             sizing_mode="stretch_width")
        self.dataset_params = make(pn.widgets.TextInput, name="dataset parameters (JSON)",
                                    value=json.dumps(self.experiment.dataset_params), sizing_mode="stretch_width")
        self.apply_data = make(pn.widgets.Button, name="Apply data", button_type="primary", width=120)
        self.data_help = pn.pane.Markdown("", styles={"font-size": "0.85em"}, sizing_mode="stretch_width")
        self.data_error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.dataset.param.watch(self._dataset_picked, "value")
        self.experiment.param.watch(lambda event: setattr(self.dataset, "value", event.new), "dataset")
        self.apply_data.on_click(lambda event: self.apply_dataset())
        self._show_data_help(self.experiment.dataset)
        return [self.dataset, self.dataset_params, self.apply_data, self.data_help, self.data_error]

    def _show_data_help(self, name: str) -> None:
        if name in BENCHMARKS:
            self.data_help.object = f"`{name}` is a benchmark of PROTOCOL.md: no parameters."
        else:
            self.data_help.object = f"Family `{name}`; parameters: {', '.join(family_parameters(name))}."
        self.dataset_params.disabled = name in BENCHMARKS

    def _dataset_picked(self, event) -> None:
        if self._loading:
            return
        name = event.new
        self._show_data_help(name)
        if name == self.experiment.dataset:
            return  # the trainer's data shown, not a new pick
        self.dataset_params.value = json.dumps({} if name in BENCHMARKS else FAMILY_EXAMPLES.get(name, {}))
        if name in BENCHMARKS:
            self.apply_dataset()  # nothing to edit: switch at once

    def apply_dataset(self) -> bool:
        """Build the chosen data; if it builds, send it to the trainer, else show why."""
        name = self.dataset.value
        try:
            params = json.loads(self.dataset_params.value or "{}") if name in FAMILIES else {}
            if not isinstance(params, dict):
                raise ParameterError("dataset parameters", 'a JSON object such as {"count": 8}', params)
            get_dataset(name, **params)
        except json.JSONDecodeError as error:
            self.data_error.object = f"dataset parameters: not valid JSON ({error.msg} at column {error.colno})."
            self.data_error.visible = True
            return False
        except (ParameterError, TypeError, ValueError, OSError) as error:
            self.data_error.object = str(error)
            self.data_error.visible = True
            return False
        self.data_error.visible = False
        self._loading = True  # one update with both, not two
        try:
            self.experiment.param.update(dataset=name, dataset_params=params)
        finally:
            self._loading = False
        self.session.update({"dataset": name, "dataset_params": params})
        return True

    def _describe(self, name: str) -> None:
        p = PRESETS[name]
        variant = (f"  \nRuns side by side from one seed: {', '.join(f'**{v}**' for v in p.variants)}. "
                   f"The sidebar edits the last; data, networks, objective and seed change in all."
                   if p.variants else "")
        self.preset_text.object = (f"**{p.summary}**  \n{p.explanation}  \nData: `{p.data}`{variant}  \n"
                                   f"*{p.reference}*")

    def _load_preset(self, event=None) -> None:
        self.session.load_preset(self.preset.value)
        self.session.play()

    def _toggle_play(self, event=None) -> None:
        if self.session.playing:
            self.session.pause()
        else:
            self.session.play()

    def _set_speed(self, event) -> None:
        self.session.steps_per_frame = int(event.new)

    def _changed(self, *events) -> None:
        if self._loading:
            return
        changes = {e.name: e.new for e in events}
        self.session.update(changes)
        if "seed" in changes:  # the trainer reads the seed when it builds the run: start again
            self.session.reset()

    def show_playing(self, playing: bool) -> None:
        if playing != self._shown_playing:  # called at every tick: param's update is not free (~1 ms)
            self._shown_playing = playing
            set_label(self.play_button, "Pause" if playing else "Play", "success" if playing else "primary")

    def load_settings(self, settings: dict) -> None:
        """Show the trainer's settings (after a preset load) without sending them back."""
        self._loading = True
        try:
            self.experiment.param.update(**{k: v for k, v in settings.items() if k in Experiment.param})
            self.dataset.value = self.experiment.dataset
            self.dataset_params.value = json.dumps(self.experiment.dataset_params)
            self._show_data_help(self.experiment.dataset)
            self.data_error.visible = False
        finally:
            self._loading = False
