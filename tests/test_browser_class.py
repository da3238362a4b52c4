"""A class on one server, in Chromium: with one training place, the first page trains and the
second gets the busy page with the first's follow link; when the first page closes, the second
becomes a lab by itself. The lecturer's page needs its token, lists the live pages and stops a
page's training, which that page then says. The server runs in this process
(ganlab_app.local_server), so the test reads its registry of pages (app/classroom.py)."""

import contextlib
import re

import pytest
from playwright.sync_api import expect
from waiting import wait_until

from ganlab_app.busy_page import busy_text
from ganlab_app.classroom import CLASSROOM
from ganlab_app.lecturer_page import NEEDS_TOKEN
from ganlab_app.local_server import serve_in_process

pytestmark = pytest.mark.browser

TOKEN = "lecturer-test-token"
LAB_TEXT = "Training curves and metrics"  # on a lab page, not on the busy page
SESSION_LIFETIME_MS = 5000  # how soon the server drops a closed page's session (and frees its place)


@pytest.fixture(scope="module")
def class_server():
    with pytest.MonkeyPatch.context() as patch:  # read by the pages as they are built, in this process
        patch.setenv("GANLAB_MAX_TRAINERS", "1")
        patch.setenv("GANLAB_LECTURER_TOKEN", TOKEN)
        patch.setenv("GANLAB_IDLE_MINUTES", "0")
        server, url = serve_in_process(session_lifetime_ms=SESSION_LIFETIME_MS)
        yield url
        server.stop()


@contextlib.contextmanager
def opened(browser, url, width=1300, height=900):
    """A page in a browser window of its own; it must log no console error while open."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"console errors: {errors}"


def trainer_codes() -> list[str]:
    return [page.code for page in CLASSROOM.trainers()]


def test_a_page_beyond_the_places_waits_on_the_busy_page_then_becomes_a_lab(class_server, browser):
    first_context = browser.new_context(viewport={"width": 1300, "height": 900})
    first = first_context.new_page()
    first.goto(class_server)
    first.get_by_text(LAB_TEXT).wait_for(timeout=30_000)
    [code] = wait_until(trainer_codes, timeout=10, what="the first page holds the place")
    with opened(browser, class_server) as second:
        second.get_by_text(busy_text(1, 1)).wait_for(timeout=30_000)
        link = second.get_by_role("link", name=f"Follow {code}")
        expect(link).to_have_attribute("href", f"?follow={code}")
        assert [page.role for page in CLASSROOM.pages()].count("busy") == 1
        assert second.get_by_text(LAB_TEXT).count() == 0  # no lab, no training process
        first_context.close()  # the first page goes: its place frees once the server drops its session
        second.get_by_text(LAB_TEXT).wait_for(timeout=SESSION_LIFETIME_MS + 30_000)
        [new_code] = wait_until(trainer_codes, timeout=10, what="the second page holds the place")
        assert new_code != code
        wait_until(lambda: "busy" not in [page.role for page in CLASSROOM.pages()], timeout=SESSION_LIFETIME_MS / 1000 + 10,
                   what="the busy page's old session goes")


def test_the_lecturers_page_needs_its_token_lists_pages_and_stops_one(class_server, browser):
    wait_until(lambda: trainer_codes() == [], timeout=SESSION_LIFETIME_MS / 1000 + 15, what="no page trains")
    with opened(browser, class_server) as student:
        student.get_by_text(LAB_TEXT).wait_for(timeout=30_000)
        [code] = wait_until(trainer_codes, timeout=10, what="the student's page trains")
        with opened(browser, f"{class_server}?lecturer=wrong-token-1") as refused:
            refused.get_by_text(NEEDS_TOKEN).wait_for(timeout=30_000)
            assert refused.get_by_text(code).count() == 0 and refused.locator("table, button").count() == 0
        place = CLASSROOM.get(code)
        before = place.active
        student.mouse.move(200, 300)  # use of the page reaches the server (app/js/activity.js)
        student.mouse.move(260, 340)
        wait_until(lambda: place.active > before, timeout=10, what="the page's use is seen")
        with opened(browser, f"{class_server}?lecturer={TOKEN}") as lecturer:
            lecturer.get_by_text("Training places in use: 1 of 1").wait_for(timeout=30_000)
            expect(lecturer.locator("table")).to_contain_text(code)
            expect(lecturer.locator("table")).to_contain_text("trainer")
            lecturer.get_by_role("button", name=f"Stop training {code}").click()
            lecturer.get_by_text(f"Stopped the training of page {code}").wait_for(timeout=10_000)
            lecturer.get_by_text("Training places in use: 0 of 1").wait_for(timeout=10_000)
            student.get_by_text("The lecturer stopped this page's training").wait_for(timeout=10_000)
            reload = student.get_by_role("link", name="Reload this page")
            expect(reload).to_have_attribute("href", re.compile(r"^\?"))
            assert trainer_codes() == []
            wait_until(lambda: not place.session.alive, timeout=10, what="the training process ends")
