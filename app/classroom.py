"""The pages one lab server shows, for a class on one server: who trains, who follows whom.

Each served page is registered here while its browser session lives, under a short code that
other pages use to follow it (``/app?follow=CODE``). The registry lives in the server's process
(one per `panel serve`), under a lock: pages are built and destroyed on the server's loop, and
the lecturer's page reads the list from its own.

A page that trains holds one of the server's training places (app/server_limits.py): it claims
one before its training process starts, and the count and the claim happen under the registry's
lock, so two pages built at once cannot both take the last place. Removing the page (its session
ended, or the lecturer stopped its training) frees the place."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

# A code is read aloud and typed from a projector: no letters that look like digits (O, I, L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 5


def new_code(taken=()) -> str:
    """A code not in ``taken``."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code


def normal_code(text: str) -> str:
    """A typed code as the registry keeps it (case and surrounding spaces do not matter)."""
    return text.strip().upper()


@dataclass(eq=False)
class Page:
    """One served page: ``role`` is "trainer" (it has a training process), "follower" (it shows
    another page's run), "busy" (it waits for a training place) or "lecturer"."""

    code: str
    role: str
    session: object = None  # a trainer's LabSession
    follows: str | None = None  # a follower's trainer's code
    opened: float = field(default_factory=time.time)
    active: float = field(default_factory=time.monotonic)  # the last interaction seen
    stopped: str | None = None  # who ended this page's training: "lecturer", or "idle" (for a waiting page)


class Classroom:
    def __init__(self):
        self._lock = threading.Lock()
        self._pages: dict[str, Page] = {}

    def add(self, role: str, session=None, follows: str | None = None) -> Page:
        with self._lock:
            page = Page(new_code(self._pages), role, session, follows)
            self._pages[page.code] = page
            return page

    def claim_place(self, limit: int) -> Page | None:
        """A "trainer" page (its session to be set once it has one) if fewer than ``limit`` pages
        train now; else None: every place is taken."""
        with self._lock:
            if sum(page.role == "trainer" for page in self._pages.values()) >= limit:
                return None
            page = Page(new_code(self._pages), "trainer")
            self._pages[page.code] = page
            return page

    def seat(self, place: Page | None, session) -> Page:
        """The trainer page that holds ``place`` (claimed with claim_place), now with its session;
        without a place, one is taken whatever the limit (a lab served by another application)."""
        if place is None:
            return self.add("trainer", session=session)
        place.session = session
        return place

    def trainers(self) -> list[Page]:
        """The pages that hold a training place, oldest first."""
        with self._lock:
            return sorted((page for page in self._pages.values() if page.role == "trainer"),
                          key=lambda page: page.opened)

    def stop_training(self, code: str, why: str = "lecturer") -> bool:
        """Stop the training of the trainer page with this code and free its place; the page
        sees ``stopped`` (``why``) and says so. False if no page with this code trains."""
        with self._lock:
            page = self._pages.get(normal_code(code))
            if page is None or page.role != "trainer":
                return False
            page.stopped = why
            del self._pages[page.code]
        if page.session is not None:
            page.session.stop(timeout=0)  # on the server's loop: do not wait for the process to end
        return True

    def waiting(self) -> int:
        """The busy pages: those that wait for a training place."""
        with self._lock:
            return sum(page.role == "busy" for page in self._pages.values())

    def remove(self, page: Page) -> None:
        with self._lock:
            if self._pages.get(page.code) is page:
                del self._pages[page.code]

    def get(self, code: str) -> Page | None:
        with self._lock:
            return self._pages.get(normal_code(code))

    def session_of(self, code: str):
        """The LabSession of the trainer page with this code, None if there is none."""
        page = self.get(code)
        return page.session if page is not None and page.role == "trainer" else None

    def pages(self) -> list[Page]:
        with self._lock:
            return list(self._pages.values())


CLASSROOM = Classroom()  # this server's pages
