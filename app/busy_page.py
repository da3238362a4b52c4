"""The busy page: what a page gets instead of a lab when every training place of the server is
taken (app/server_limits.py: max_trainers). It never starts a training process. It says how many
places are in use, lists the pages that train (each a link that follows it read-only, with its
preset and step), and waits: every CHECK_MS it looks again, and when a place is free it reloads
into a lab at the same address (app/js/busy.js). Several waiting pages may reload for one free
place; the first to claim it trains, the others wait again."""

from __future__ import annotations

import panel as pn
from panel.custom import JSComponent

from .canvas_js import js
from .classroom import CLASSROOM, Classroom
from .panel_internals import start_background_callback
from .server_limits import limits

CHECK_MS = 2000


def busy_text(in_use: int, limit: int) -> str:
    return f"The lab is busy: {in_use} of {limit} training places are in use"


class PageReload(JSComponent):
    """An invisible component that reloads its page when told to."""

    _esm = js("busy.js")

    def __init__(self, **params):
        super().__init__(**{"height": 0, "width": 0, "margin": 0, **params})

    def reload(self) -> None:
        self._send_msg({"kind": "reload"})


class BusyPage(pn.viewable.Viewer):
    def __init__(self, classroom: Classroom = CLASSROOM):
        super().__init__()
        self._classroom = classroom
        self.page = classroom.add("busy")
        self.heading = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.running = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.reloader = PageReload()
        self.place_free = False
        self._layout = pn.Column(self.heading, self.running, self.reloader, sizing_mode="stretch_width")
        self._callback = None
        self.check()

    def __panel__(self):
        return self._layout

    def start(self) -> None:
        """Check every CHECK_MS on the server's loop, until stop()."""
        if self._callback is None:
            self._callback = start_background_callback(self.check, CHECK_MS)

    def stop(self) -> None:
        if self._callback is not None:
            self._callback.stop()
        self._classroom.remove(self.page)

    def check(self) -> None:
        """Show the pages that train now; reload into a lab if a place is free."""
        limit, trainers = limits().max_trainers, self._classroom.trainers()
        self.place_free = len(trainers) < limit
        if self.place_free and self._callback is not None:
            self.reloader.reload()
        self.heading.object = (f"## {busy_text(len(trainers), limit)}\n\n"
                               "Follow a page that trains (read-only: you see its run as it happens), or wait "
                               "here: this page checks every 2 s and becomes your own lab when a place is free.")
        links = [f"- [Follow {page.code}](?follow={page.code}): {page.session.preset or 'its own settings'}, "
                 f"step {page.session.steps}" for page in trainers if page.session is not None]
        self.running.object = "\n".join(links) or "*No page trains yet (one is starting).*"


def busy_page():
    page = BusyPage()
    pn.state.onload(page.start)
    pn.state.on_session_destroyed(lambda context: page.stop())
    return page
