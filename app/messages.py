"""What the page tells the user above the data view: the training process's messages (a restart,
a bad setting), a run that diverged (with a button to reset), a training process that died.

Each holds while what it says does: ``clear()`` takes them all away when the user starts afresh
(Reset, a preset loaded, other data, a new seed: the sidebar's ``context_changed``), and a
divergence also goes when the runs restart (``new_generation()``)."""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable

import panel as pn

from .protocol import Diverged, Message, ProcessDied
from .widgets import make

ALERT_TYPES = {"info": "info", "warning": "warning", "error": "danger"}


class Messages(pn.viewable.Viewer):
    def __init__(self, reset: Callable[[], None]):
        """``reset``: what the divergence banner's button does."""
        super().__init__()
        self.alert = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width")
        self.divergence_text = pn.pane.Alert("", alert_type="danger", sizing_mode="stretch_width")
        reset_button = make(pn.widgets.Button, name="Reset the run", button_type="danger", width=160)
        reset_button.on_click(lambda event: (reset(), self.clear()))
        self.divergence = pn.Column(self.divergence_text, reset_button, visible=False, sizing_mode="stretch_width")
        self._layout = pn.Column(self.alert, self.divergence, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def new_generation(self) -> None:
        """The runs restarted: a divergence is over."""
        self.divergence.visible = False

    def clear(self) -> None:
        """The user started afresh: nothing said so far holds any longer."""
        self.alert.visible = False
        self.divergence.visible = False

    @property
    def shown(self) -> list[str]:
        """The texts on the page now."""
        return [pane.object for pane, holder in ((self.alert, self.alert), (self.divergence_text, self.divergence))
                if holder.visible]

    @functools.singledispatchmethod
    def show(self, notice) -> None:
        raise TypeError(f"not a notice: {notice!r}")

    @show.register
    def _message(self, notice: Message) -> None:
        self._alert(notice.kind, notice.text)

    @show.register
    def _diverged(self, notice: Diverged) -> None:
        who = f"Run {notice.name!r}" if notice.name else "The run"
        if self.divergence.visible:  # side by side, both runs may diverge
            self.divergence_text.object += f"  \n{who} diverged at step {notice.step}."
            return
        self.divergence_text.object = (f"{who} diverged at step {notice.step}: its losses or gradients stopped "
                                       f"being finite. Reset, or change a setting and reset.")
        self.divergence.visible = True

    @show.register
    def _died(self, notice: ProcessDied) -> None:
        self._alert("error", f"{why_it_ended(notice.exit_code)} Reset starts a new one with the runs' settings; "
                             f"the runs already kept in the run store stay there.")

    def _alert(self, kind: str, text: str) -> None:
        self.alert.alert_type = ALERT_TYPES[kind]
        self.alert.object = text
        self.alert.visible = True


def why_it_ended(exit_code: int | None) -> str:
    """What a training process's end (ProcessDied's exit code) says happened, in words."""
    if exit_code is not None and exit_code < 0:  # ended by a signal
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        if -exit_code == getattr(signal, "SIGKILL", None):
            return (f"The training process was killed ({name}): the machine may have run out of memory, or another "
                    f"program ended it. The run it trained since it was last kept is lost.")
        return f"The training process was ended by a signal ({name})."
    if exit_code == 0:  # it ends unasked only when its pipe closes or on SIGTERM, keeping its runs
        return ("The training process ended (its connection to the server closed, or it was asked to end), "
                "keeping its runs in the run store.")
    return f"The training process ended unexpectedly (exit code {exit_code})."
