"""One arm of a comparison: a name and the settings it changes from the run it starts from.

"Add a setting" offers every setting by section (the seed and the step budget are the
comparison's own); a picked setting is edited with the widget the sidebar generates for it (the
same bounds, labels and docs, from gan_core.config) on the arm's own Experiment, and can be
removed again. An arm that changes nothing is the current run. Values are checked when the
comparison starts (gan_core.compare.plan_arms), where a refusal is explained."""

from __future__ import annotations

import panel as pn
import param

from gan_core.config import NETWORKS, OPTIMIZATION, Experiment
from gan_core.stabilizers import CATALOGUE

from .controls import widget_spec
from .panel_internals import without_delay
from .widgets import make

PICK = "Add a setting…"
COMPARISON_OWN = ("seed", "steps", "dataset_params")  # set for every arm at once, or (data) with the data


def setting_label(name: str) -> str:
    for entry in CATALOGUE:
        if name == entry.switch:
            return entry.title
    return Experiment.param[name].label or name


def setting_choices() -> dict[str, str]:
    """"Section: label" -> setting name, every setting an arm may change, section by section."""
    sections = [("Data", ("dataset",)), ("Networks", NETWORKS),
                *((entry.title, (entry.switch, *entry.settings)) for entry in CATALOGUE),
                ("Objective & optimizers", OPTIMIZATION)]
    choices = {PICK: ""}
    for section, names in sections:
        for name in names:
            if name not in COMPARISON_OWN:
                choices[f"{section}: {setting_label(name)}"] = name
    return choices


class ArmEditor(pn.viewable.Viewer):
    def __init__(self, name: str, base: dict, removable: bool = True, on_remove=None):
        super().__init__()
        self._base = dict(base)
        self.experiment = Experiment(**{k: v for k, v in base.items() if k in Experiment.param})
        for setting in Experiment.param:
            if isinstance(self.experiment.param[setting], param.Number):
                # An emptied box sends None: kept (on this instance only) so that starting the
                # comparison explains it, rather than param raising inside Panel's link.
                self.experiment.param[setting].allow_None = True
        self.name_input = make(pn.widgets.TextInput, name="Arm name", value=name, sizing_mode="stretch_width")
        self.picker = make(pn.widgets.Select, name="Settings this arm changes", options=setting_choices(),
                           value="", sizing_mode="stretch_width")
        self.picker.param.watch(self._picked, "value")
        self.rows: dict[str, pn.Row] = {}  # setting -> its widget and remove button
        self.widgets: dict[str, pn.widgets.Widget] = {}
        self.changed = pn.Column(sizing_mode="stretch_width", margin=0)
        self.empty_note = pn.pane.Markdown("*No change: this arm is the current run.*",
                                           styles={"font-size": "0.85em", "color": "#555"}, margin=(0, 10))
        self.remove_button = make(pn.widgets.Button, name="Remove arm", button_type="light", width=110,
                                  visible=removable)
        if on_remove is not None:
            self.remove_button.on_click(lambda event: on_remove(self))
        self._layout = pn.Card(self.name_input, self.empty_note, self.changed, self.picker, self.remove_button,
                               title=name, collapsible=False, width=300, margin=(5, 10, 5, 0))
        self.name_input.param.watch(lambda event: setattr(self._layout, "title", event.new), "value")

    def __panel__(self):
        return self._layout

    @property
    def arm_name(self) -> str:
        return self.name_input.value.strip()

    def _picked(self, event) -> None:
        if event.new:
            self.add_setting(event.new)
            self.picker.value = ""

    def add_setting(self, setting: str) -> pn.widgets.Widget:
        """Show ``setting``'s widget in this arm (its value now: the base's); returns the widget."""
        if setting not in self.rows:
            spec = {**widget_spec(self.experiment.param[setting]), "name": setting_label(setting)}
            generated = pn.Param(self.experiment.param, parameters=[setting], widgets={setting: spec},
                                 show_name=False, sizing_mode="stretch_width", margin=0)
            widget = generated.select(pn.widgets.Widget)[0]
            without_delay(widget)
            if setting == "dataset":  # as in the sidebar: a served lab reads no file named from a browser
                widget.options = [name for name in widget.options if name != "csv"]
            remove = make(pn.widgets.Button, name="✕", button_type="light", width=36,
                          description=f"Remove {setting_label(setting)} from this arm")
            remove.on_click(lambda event, s=setting: self.remove_setting(s))
            self.widgets[setting] = widget
            self.rows[setting] = pn.Row(generated, remove, sizing_mode="stretch_width", margin=0)
            self.changed.objects = list(self.rows.values())
            self.empty_note.visible = False
        return self.widgets[setting]

    def remove_setting(self, setting: str) -> None:
        """The arm no longer changes ``setting``: it takes the base's value again."""
        self.rows.pop(setting, None)
        self.widgets.pop(setting, None)
        self.changed.objects = list(self.rows.values())
        self.empty_note.visible = not self.rows
        if setting in self._base:
            setattr(self.experiment, setting, self._base[setting])

    def changes(self) -> dict:
        """The settings this arm changes, as its widgets hold them (checked when the comparison starts)."""
        return {setting: getattr(self.experiment, setting) for setting in self.rows}

    def set_base(self, base: dict) -> None:
        """The run the arm starts from changed: the settings it does not change follow it."""
        self._base = dict(base)
        self.experiment.param.update(**{k: v for k, v in base.items()
                                        if k in Experiment.param and k not in self.rows and k != "name"})
