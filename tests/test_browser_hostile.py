"""Hostile widget values over the websocket, in Chromium: a page's script sets the BokehJS models
of the sidebar's widgets to values no widget would send (outside their bounds, of the wrong type,
NaN, Infinity, arrays, null, an option a select does not offer). A value the widget's property
can hold is refused with a message on the page, or clamped; one it cannot (a string for a number)
is refused by Bokeh, which answers the sending page with the type it expected. The page shows no
traceback, the server still answers, the page still
trains, and the settings its trainer holds (read in this process, from the server's registry of
pages) stay within their declared bounds.

The values are an explicit table, not Hypothesis: each costs a round trip through the server
and the training process, so one page takes them all in turn."""

import urllib.request

import pytest
from waiting import wait_until

from conftest import column
from ganlab_app.classroom import CLASSROOM
from ganlab_app.local_server import serve_in_process
from gan_core.config import Experiment
from test_properties import assert_within_bounds

pytestmark = pytest.mark.browser

# Sets one property of the sidebar's widget model titled ``title`` (its label), as a page's own
# script can: the value travels to the server as the widget's change. Special numbers travel as
# {special: "NaN"}, since they have no JSON.
SET_WIDGET = """([title, attr, value]) => {
  const special = {NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity};
  if (value !== null && typeof value === "object" && "special" in value) value = special[value.special];
  const models = [...Bokeh.documents[0].all_models].filter(m => m.title === title || m.label === title);
  const model = models.find(m => attr in m.properties);
  if (!model) return `no widget titled ${title} with ${attr}`;
  model.properties[attr].validate = () => {};  // a hostile page skips BokehJS's own type check
  model.setv({[attr]: value}, {check_eq: false});
  return model.type;
}"""

NAN, INF, NEG_INF = {"special": "NaN"}, {"special": "Infinity"}, {"special": "-Infinity"}


def label(name):
    return Experiment.param[name].label


# (the widget's label, its model's property, the value a page's script sends)
HOSTILE = [
    (label("lr_g"), "value", 50.0), (label("lr_g"), "value", -1), (label("lr_g"), "value", NAN),
    (label("lr_g"), "value", INF), (label("lr_g"), "value", "0.5"), (label("lr_g"), "value", None),
    (label("lr_g"), "value", [1, 2]), (label("lr_g"), "value", 1e308),
    (label("g_width"), "value", 10 ** 9), (label("g_width"), "value", 2.5), (label("g_width"), "value", -5),
    (label("beta1"), "value_throttled", 5.0), (label("beta1"), "value_throttled", NEG_INF),
    (label("n_critic"), "value_throttled", 0), (label("n_critic"), "value_throttled", 1e9),
    (label("objective"), "value", "nope"), (label("objective"), "value", "../../etc/passwd"),
    (label("objective"), "value", 3), (label("dataset"), "value", "csv"),
]


@pytest.fixture(scope="module")
def hostile_server():
    server, url = serve_in_process()
    yield url
    server.stop()


@pytest.fixture(scope="module")
def hostile_page(hostile_server, browser):
    """One training page for the module (the machine has two cores); its script errors are kept."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(hostile_server)
    page.get_by_text("GAN Stability Lab").first.wait_for(timeout=30_000)
    wait_until(lambda: len(column(page, "h0:step")) > 1, timeout=40, what="training")
    yield page
    context.close()


def trainer_settings() -> list[dict]:
    """The settings of every served page's runs, as their training processes last reported them."""
    return [settings for page in CLASSROOM.pages() if page.role == "trainer" and page.session is not None
            for settings in page.session.settings]


def test_hostile_widget_values_never_reach_the_trainer_and_the_page_trains_on(hostile_server, hostile_page):
    page = hostile_page
    assert trainer_settings()
    for title, attr, value in HOSTILE:
        sent = page.evaluate(SET_WIDGET, [title, attr, value])
        assert not sent.startswith("no widget"), sent
        page.wait_for_timeout(300)  # the change's round trip to the server and the training process
        for settings in trainer_settings():
            assert_within_bounds(settings)
        assert "Traceback" not in page.locator("body").inner_text()
    assert urllib.request.urlopen(hostile_server, timeout=10).status == 200  # the server still answers
    steps = len(column(page, "h0:step"))
    wait_until(lambda: len(column(page, "h0:step")) > steps, timeout=30, what="training after the hostile values")
    assert page.errors == []


def test_a_refused_hostile_value_is_explained_on_the_page(hostile_page):
    hostile_page.evaluate(SET_WIDGET, [label("lr_g"), "value", 50.0])
    explained = hostile_page.locator(".alert-danger", has_text="lr_g")
    explained.first.wait_for(timeout=15_000)


def test_a_value_of_the_wrong_type_is_answered_with_the_type_expected(hostile_page):
    """Bokeh refuses a value its property cannot hold before the app sees it, and answers the
    page that sent it with what it expected (BokehJS logs the answer); the server goes on."""
    with hostile_page.expect_console_message(lambda message: "0.25 please" in message.text,
                                             timeout=10_000) as answer:
        hostile_page.evaluate(SET_WIDGET, [label("lr_g"), "value", "0.25 please"])
    text = answer.value.text
    assert answer.value.type == "error"
    assert "failed to validate" in text and ".value" in text and "expected" in text and "Float" in text
