"""The lecturer's page (``/app?lecturer=TOKEN``): every live page of this server, refreshed every
REFRESH_MS, the training places in use, and a "Stop training" button per training page, which
ends that page's training process and frees its place (the page then says so:
``stopped_notice``).

Only the token reaches it: the one GANLAB_LECTURER_TOKEN sets, else the random one this server
process printed when it started (app/server_limits.py). The token is compared in constant time;
a wrong or missing one gets a line saying which link is needed, and nothing of the class."""

from __future__ import annotations

import secrets
import time
from urllib.parse import quote

import pandas as pd
import panel as pn

from .classroom import CLASSROOM, Classroom, Page
from .panel_internals import start_background_callback
from .server_limits import limits
from .widgets import make

REFRESH_MS = 2000
NEEDS_TOKEN = "This page needs the lecturer's link printed when the server started."
COLUMNS = ["code", "role", "preset", "step", "playing", "followers", "idle for", "opened"]


def token_accepted(given: str | None, token: str) -> bool:
    return isinstance(given, str) and secrets.compare_digest(given.encode(), token.encode())


def duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def page_row(page: Page, classroom: Classroom, now: float) -> dict:
    """One page as the lecturer's table shows it: a follower shows its trainer's run."""
    session = page.session if page.role == "trainer" else classroom.session_of(page.follows or "")
    role = f"follower of {page.follows}" if page.role == "follower" else page.role
    return {"code": page.code, "role": role,
            "preset": (session.preset or "") if session is not None else "",
            "step": session.steps if session is not None else "",
            "playing": ("yes" if session.playing else "no") if session is not None else "",
            "followers": session.followers if page.role == "trainer" and session is not None else "",
            "idle for": duration(now - page.active) if page.role == "trainer" else "",
            "opened": time.strftime("%H:%M:%S", time.localtime(page.opened))}


def stopped_notice(code: str, query: str, why: str = "lecturer", idle_minutes: float = 0) -> pn.pane.Alert:
    """What a page whose training was stopped shows (``why``: by the lecturer, or for a waiting
    page after ``idle_minutes`` unused): follow a page that trains, or reload to train again
    (when a place is free)."""
    others = [page.code for page in CLASSROOM.trainers() if page.code != code]
    follow = ("Follow a page that trains: " + ", ".join(f"[{c}](?follow={c})" for c in others) + ". "
              if others else "")
    address = quote(query.lstrip("?"), safe="=&%+,.-_~:")  # the browser's own query: nothing in it ends the link
    reload = f"[Reload this page](?{address}) to train again when a place is free."
    said = ("**The lecturer stopped this page's training.**" if why == "lecturer" else
            f"**This page's training ended after {idle_minutes:g} minutes without use, and its place went to "
            f"a page that was waiting for one.** Its run is kept in History.")
    return pn.pane.Alert(f"{said} {follow}{reload}", alert_type="warning", sizing_mode="stretch_width")


class LecturerPage(pn.viewable.Viewer):
    def __init__(self, classroom: Classroom = CLASSROOM):
        super().__init__()
        self._classroom = classroom
        self.page = classroom.add("lecturer")
        self.places = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.table = pn.pane.DataFrame(pd.DataFrame(columns=COLUMNS), index=False, sizing_mode="stretch_width")
        self.stop_buttons: dict[str, pn.widgets.Button] = {}
        self.buttons = pn.Row(sizing_mode="stretch_width")
        self.said = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._layout = pn.Column("## Live pages", self.places, self.table, self.buttons, self.said,
                                 sizing_mode="stretch_width")
        self.refresh()
        self._callback = None

    def __panel__(self):
        return self._layout

    def start(self) -> None:
        """Refresh every REFRESH_MS on the server's loop, until stop()."""
        if self._callback is None:
            self._callback = start_background_callback(self.refresh, REFRESH_MS)

    def stop(self) -> None:
        if self._callback is not None:
            self._callback.stop()
        self._classroom.remove(self.page)

    def refresh(self) -> None:
        now = time.monotonic()
        pages = sorted(self._classroom.pages(), key=lambda page: page.opened)
        trainers = [page.code for page in pages if page.role == "trainer"]
        self.places.object = f"Training places in use: **{len(trainers)} of {limits().max_trainers}**"
        self.table.object = pd.DataFrame([page_row(page, self._classroom, now) for page in pages], columns=COLUMNS)
        if list(self.stop_buttons) != trainers:  # the buttons are made again only when the trainers change
            self.stop_buttons = {code: self.stop_buttons.get(code) or self._stop_button(code) for code in trainers}
            self.buttons.objects = list(self.stop_buttons.values())

    def _stop_button(self, code: str) -> pn.widgets.Button:
        button = make(pn.widgets.Button, name=f"Stop training {code}", button_type="danger", width=200)
        button.on_click(lambda event: self.stop_training(code))
        return button

    def stop_training(self, code: str) -> bool:
        stopped = self._classroom.stop_training(code)
        self.said.object = (f"Stopped the training of page {code}: its place is free." if stopped
                            else f"Page {code} no longer trains.")
        self.refresh()
        return stopped


def lecturer_page() -> LecturerPage:
    """The lecturer's page of a served session (its token checked: token_accepted)."""
    page = LecturerPage()
    pn.state.onload(page.start)
    pn.state.on_session_destroyed(lambda context: page.stop())
    return page
