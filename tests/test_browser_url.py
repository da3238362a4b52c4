"""The experiment in the page's address, in headless Chromium: a shared link restores every setting
it names (in the sidebar's widgets and in the run the trainer plans), a garbage link lists what it
ignored and the page still trains, the address follows a change in the sidebar, "Copy link" copies
it, and lecture mode hides the sidebar's sections it names and gives the data view the room."""

import urllib.parse

import pytest
from waiting import wait_until

from conftest import column, lab_page
from ganlab_app.session import preset_settings

pytestmark = pytest.mark.browser
SHARED = "?preset=roth&data=grid25&roth_gamma=0.3&seed=5"


def control(page, label, selector):
    """The input of the sidebar widget labelled ``label`` (in its shadow root, beside the label)."""
    handle = page.get_by_text(label, exact=True).first
    return handle.evaluate_handle(f"el => el.getRootNode().querySelector('{selector}')").as_element()


def address(page) -> dict:
    """The page's query now, name -> value (the address bar as the page has set it)."""
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.evaluate("location.href")).query))


def test_a_shared_link_restores_every_setting_it_names(served_app, browser):
    with lab_page(served_app + SHARED, browser, 1500, 1000) as page:
        assert control(page, "Preset or lesson", "select").input_value() == "roth"
        assert control(page, "Dataset", "select").input_value() == "grid25"
        assert float(control(page, "γ₀ (regularizer weight)", "input").input_value()) == 0.3
        assert control(page, "Seed", "input").input_value() == "5"
        # The run itself: grid25's data in the "Now" table, Roth's planned gamma from 0.3.
        page.get_by_text("grid25 (2D)").first.wait_for()
        wait_until(lambda: column(page, "p0:gamma"), timeout=30, what="the planned gamma in the charts")
        assert max(column(page, "p0:gamma")) == pytest.approx(0.3, rel=1e-6)
        assert address(page) == {"preset": "roth", "data": "grid25", "roth_gamma": "0.3", "seed": "5"}


def test_a_garbage_link_lists_what_it_ignored_and_the_page_trains(served_app, browser):
    with lab_page(served_app + "?preset=nope&lr_g=-5&foo=1", browser, 1500, 1000) as page:
        for text in ("preset=nope was ignored", "lr_g=-5 was ignored: lr_g must be a number in [0, 10]",
                     "foo=1 was ignored"):
            page.get_by_text(text).first.wait_for(timeout=10_000)
        wait_until(lambda: len(column(page, "h0:step")) > 2, timeout=40, what="training")
        # The address names what the page trains: the default preset, and nothing it ignored.
        wanted = {"preset": "nonsaturating", "seed": str(preset_settings("nonsaturating")["seed"])}
        seen = []
        wait_until(lambda: seen.append(address(page)) or seen[-1] == wanted,
                   what=lambda: f"the address without the ignored values (it was {seen[-1] if seen else None})")


def test_the_address_follows_the_sidebar_and_copy_link_copies_it(served_app, browser):
    with lab_page(served_app + "?preset=nonsaturating", browser, 1500, 1000) as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        control(page, "Instance noise", "input[type=checkbox]").check()
        wait_until(lambda: address(page).get("instance_noise") == "true", what="the switch in the address")
        page.get_by_role("button", name="Copy link").click()
        page.get_by_role("button", name="Link copied").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == page.evaluate("location.href")
        control(page, "Instance noise", "input[type=checkbox]").uncheck()  # back to the preset's own
        wait_until(lambda: "instance_noise" not in address(page), what="the switch gone from the address")


def plane_width(page) -> float:
    page.locator("canvas.lab-plane").first.wait_for()
    return page.locator("canvas.lab-plane").first.bounding_box()["width"]


def type_size(page, text) -> float:
    """The font size of the sidebar's ``text`` (a label), CSS pixels."""
    return page.get_by_text(text, exact=True).first.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")


def test_lecture_mode_hides_the_sections_it_names_and_enlarges_the_view(served_app, browser):
    with lab_page(served_app + "?preset=nonsaturating", browser, 1920, 1080) as page:
        page.get_by_text("Networks", exact=True).first.wait_for()
        normal_width = plane_width(page)
        normal_type = type_size(page, "Seed")
    with lab_page(served_app + "?preset=nonsaturating&lecture=1&hide=networks,optimizers,bogus",
                  browser, 1920, 1080) as page:
        page.get_by_text("Stabilizers", exact=True).first.wait_for()
        page.get_by_text("hide=bogus was ignored").first.wait_for()
        for title in ("Networks", "Objective & optimizers"):
            assert not page.get_by_text(title, exact=True).first.is_visible()
        assert plane_width(page) > 1.2 * normal_width
        lecture_type = type_size(page, "Seed")
        assert lecture_type > 1.2 * normal_type
        assert address(page)["lecture"] == "1" and address(page)["hide"] == "networks,optimizers"
