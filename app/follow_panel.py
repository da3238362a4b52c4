"""Follow mode's cards: a training page's "Share live" card (its code, large enough to read from a
projector, and the follow address with a copy button), and a follower's card in place of the
sidebar's controls (whose run it follows, read-only, and "Make my own copy").

A follower (``/app?follow=CODE``, app/lab.py) shows another page's frames as they come: it has no
training process and no control that changes the run. What it says differs from what the
training page says where the training page's words ask for an action only its trainer can take
(reset a diverged run, restart a training process): ``follower_notice`` rewords those."""

from __future__ import annotations

import html
from pathlib import Path

import panel as pn

from gan_core.presets import PRESETS

from .classroom import CODE_LENGTH
from .messages import why_it_ended
from .protocol import Diverged, Message, ProcessDied
from .widgets import make

COPY_LINK_JS = (Path(__file__).parent / "js" / "copy_link.js").read_text()  # given a code: the follow link
FOLLOW_PATH = "/app?follow="
CODE_STYLE = {"font-size": "2.4em", "font-weight": "bold", "letter-spacing": "0.15em", "font-family": "monospace"}
# "Make my own copy" is a link (the same tab opens a lab of one's own), drawn as a button.
COPY_BUTTON_CSS = ("a.lab-own-copy { display: inline-block; padding: 6px 12px; border-radius: 4px; "
                   "background: #5b2a86; color: white; text-decoration: none; font-weight: bold; } "
                   "a.lab-own-copy:hover { background: #43205f; }")
# The layers a training page computes only while its own view shows them (app/session.py's view options).
ON_REQUEST_2D = {"|∇x D| map": "d_grad_grid", "G manifold": "manifold_vertices"}


def shown_code(code: str) -> str:
    """A code as a page may show it: a code typed into an address may hold anything, so all but
    letters and digits is left out, and it is cut to a code's length (plus a margin)."""
    return "".join(c for c in code if c.isascii() and c.isalnum())[:CODE_LENGTH + 3] or "?"


def unknown_code_text(code: str) -> str:
    return (f"**No live run has the code {shown_code(code)}**: it may have ended. Ask for the code again, "
            f"or [start your own lab](?).")


class ShareCard(pn.viewable.Viewer):
    """A training page's code and follow address: others open ``/app?follow=CODE`` to watch its
    run read-only; the card counts them. It sits above the data view, shown while the header's
    "Share live" button is pressed (the lecturer shows it to the class, then hides it)."""

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.button = make(pn.widgets.Toggle, name="Share live", button_type="light", width=110,
                           description="Show this page's code: others follow its run, read-only, at "
                                       f"{FOLLOW_PATH}CODE")
        self.code_text = pn.pane.Str(code, styles=CODE_STYLE, margin=(0, 10))
        self.address = pn.pane.Markdown(f"Students open this lab's address with `?follow={code}`:  \n"
                                        f"`{FOLLOW_PATH}{code}`", sizing_mode="stretch_width")
        self.copy = make(pn.widgets.Button, name="Copy follow link", button_type="light", width=150,
                         description="Copy the address that follows this page's run, read-only")
        self.copy.js_on_click(args={"code": code}, code=COPY_LINK_JS)
        self.followers = pn.pane.Markdown("No one follows yet.", styles={"color": "#444"}, margin=(0, 10))
        self._count = 0
        self._layout = pn.Card(self.code_text, self.address, pn.Row(self.copy, self.followers), title="Share live",
                               sizing_mode="stretch_width", visible=False)
        self.button.param.watch(lambda event: setattr(self._layout, "visible", event.new), "value")

    def __panel__(self):
        return self._layout

    def show_followers(self, count: int) -> None:
        if count != self._count:  # a text change re-lays out the sidebar: only when it differs
            self._count = count
            self.followers.object = ("No one follows yet." if count == 0 else
                                     f"{count} {'page follows' if count == 1 else 'pages follow'} this run.")


class FollowerCard(pn.viewable.Viewer):
    """A follower's sidebar: whose run it follows, what that run is, whether it plays, and "Make
    my own copy" (the followed run's settings in a lab of one's own)."""

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.heading = pn.pane.Markdown(f"### Following {shown_code(code)}\n\nRead-only: you see the lecturer's "
                                        "run as it trains. Your own: the layers, the 3D camera, zoom and pan.",
                                        sizing_mode="stretch_width")
        self.run_text = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.own_copy = pn.pane.HTML("", stylesheets=[COPY_BUTTON_CSS], margin=(5, 10))
        self.own_copy_note = pn.pane.Markdown("A training page of your own with these settings, from step 0 "
                                              "(this page stops following).",
                                              styles={"font-size": "0.85em", "color": "#555"},
                                              sizing_mode="stretch_width")
        self.own_copy_query: str | None = None  # where "Make my own copy" goes
        self._layout = pn.Column(self.heading, self.run_text, self.own_copy, self.own_copy_note,
                                 sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def show_run(self, preset: str | None, settings: dict, playing: bool) -> None:
        """The followed run: its preset, data and seed, and whether it trains now."""
        what = f"preset {preset}" if preset in PRESETS else "settings of their own"
        text = (f"**The lecturer's run**: {what}; data {settings['dataset']}; seed {settings['seed']}. "
                f"{'Training.' if playing else 'Paused.'}")
        if text != self.run_text.object:
            self.run_text.object = text

    def show_own_copy(self, query: str) -> None:
        """``query``: the address's query that starts the followed run's settings (app/url_state.py)."""
        if query != self.own_copy_query:
            self.own_copy_query = query
            self.own_copy.object = f'<a class="lab-own-copy" href="{html.escape(query)}">Make my own copy</a>'

    def show_unknown(self) -> None:
        self.heading.object = f"### Not following\n\n{unknown_code_text(self.code)}"
        self.own_copy_note.visible = False


def follower_notice(notice) -> Message:
    """A training process's notice as a follower reads it: what happened, and who can act on it."""
    if isinstance(notice, Diverged):
        who = f"Run {notice.name!r}" if notice.name else "The run"
        return Message("warning", f"{who} diverged at step {notice.step}: its losses or gradients stopped being "
                                  f"finite. The lecturer may reset it; Make my own copy tries it yourself.")
    if isinstance(notice, ProcessDied):
        return Message("error", f"On the lecturer's page: {why_it_ended(notice.exit_code)} The lecturer's Reset "
                                f"starts a new one.")
    return notice


ENDED_TEXT = ("The lecturer's run has ended (their page closed or stopped training): this is its last frame. "
              "Make my own copy (in the sidebar) trains the same settings in a lab of your own.")


def unavailable_layers(labels, snapshot, dim: int) -> list[str]:
    """Of the layers a follower's view shows (``labels``: the plane's layer labels; in 3D "D
    isosurface" and "G manifold" when switched on), those the followed page's frames lack: a
    training page computes them only while its own view shows them."""
    if dim == 3:
        wanted = {"D isosurface": "volume", "G manifold": "manifold_vertices"}
    else:
        wanted = ON_REQUEST_2D
    return [label for label in labels if label in wanted and getattr(snapshot, wanted[label], None) is None]


def unavailable_text(labels: list[str]) -> str:
    return ("Not in the lecturer's frames (their page computes them only while it shows them): "
            + ", ".join(labels) + ".") if labels else ""
