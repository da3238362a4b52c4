"""Follow mode in headless Chromium: a training page's "Share live" code, opened as
``/app?follow=CODE``, shows the training page's steps as they advance; the follower's layer
switches are its own; a follower that drops its connection and comes back follows again while
the training page and another follower go on."""

import pytest
from waiting import wait_until

from conftest import column, lab_page

pytestmark = pytest.mark.browser


def code_of(page) -> str:
    """The training page's code, as its "Share live" card shows it."""
    page.get_by_role("button", name="Share live").click()
    card = page.get_by_text("Copy follow link").first
    card.wait_for(timeout=10_000)
    codes = [text.strip() for text in page.locator("pre").all_text_contents()]
    return next(text for text in codes if len(text) == 5 and text.isalnum() and text.isupper())


def last_step(page) -> float:
    steps = column(page, "h0:step")
    return steps[-1] if steps else -1.0


def plane_layers(page) -> list[str]:
    """The names of the layers the page's data plane drew last."""
    return page.evaluate("""() => {
      const plane = window.Bokeh && Bokeh.documents[0] && Bokeh.documents[0].get_model_by_name("plane");
      return plane ? plane.layers.map(layer => layer.name) : [];
    }""")


def advances(page, what: str) -> None:
    """The page's charts reach a later step than now."""
    now = last_step(page)
    wait_until(lambda: last_step(page) > now, timeout=30, what=what)


def test_a_follower_shows_the_trainers_steps_and_its_layers_are_its_own(served_app, browser):
    with lab_page(served_app, browser, 1500, 1000) as trainer:
        code = code_of(trainer)
        with lab_page(f"{served_app}?follow={code}", browser, 1400, 1000) as follower:
            follower.get_by_text(f"Following {code}").first.wait_for(timeout=20_000)
            assert follower.get_by_role("button", name="Pause").count() == 0  # nothing that changes the run
            wait_until(lambda: last_step(follower) > 0, timeout=40, what="the trainer's steps on the follower")
            advances(follower, "the follower's charts advancing")
            assert abs(last_step(follower) - last_step(trainer)) < 0.5 * last_step(trainer) + 200
            wait_until(lambda: "real_samples" in plane_layers(trainer) and "real_samples" in plane_layers(follower),
                       what="both planes drawing the real samples")
            follower.get_by_text("Real samples", exact=True).first.click()  # the follower switches them off
            wait_until(lambda: "real_samples" not in plane_layers(follower), what="the follower's own layers")
            advances(trainer, "the trainer training on")
            assert "real_samples" in plane_layers(trainer)
            # Make my own copy: the same tab becomes a training page of the run's settings.
            follower.get_by_text("Make my own copy").first.click()
            follower.wait_for_url("**/app?preset=nonsaturating*", timeout=20_000)
            follower.get_by_role("button", name="Pause").first.wait_for(timeout=30_000)
            assert "follow=" not in follower.url


def test_a_follower_that_reconnects_follows_again_and_the_others_go_on(served_app, browser):
    with lab_page(served_app, browser, 1500, 1000) as trainer:
        code = code_of(trainer)
        follow = f"{served_app}?follow={code}"
        with lab_page(follow, browser, 1200, 900) as other, lab_page(follow, browser, 1200, 900) as follower:
            wait_until(lambda: last_step(follower) > 0 and last_step(other) > 0, timeout=40,
                       what="both followers following")
            follower.reload()  # its websocket closes; a new session opens for the page
            follower.get_by_text(f"Following {code}").first.wait_for(timeout=30_000)
            advances(trainer, "the trainer training on")
            advances(other, "the other follower following on")
            wait_until(lambda: last_step(follower) > 0, timeout=40, what="the reopened follower's steps")
            advances(follower, "the reopened follower following")
            assert follower.locator(".alert").filter(has_text="ended").count() == 0  # a message-free page
            assert follower.get_by_text("No live run").count() == 0
