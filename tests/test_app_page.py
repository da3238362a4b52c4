"""The served lab page opens in a real headless Chromium without console errors."""

import pytest

pytestmark = pytest.mark.browser


def test_page_loads_without_console_errors(served_app, page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(served_app)
    page.get_by_text("GAN Stability Lab").first.wait_for(timeout=20_000)
    assert page.title() == "GAN Stability Lab"
    assert errors == []
