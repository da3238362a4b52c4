"""Hostile and malformed input, property-based (Hypothesis): every surface a user or a browser
feeds (a page's address, an experiment file, the sidebar's dataset parameters, a CSV upload and
its messages, a sweep spec) either applies the input or refuses it with a message that names
what was wrong. Never another exception, never a value outside its declared bounds in the
settings that reach the trainer, never a file on the server read because the input named it.

The bounds checked here are read from the Experiment's own parameters (gan_core/config.py), so
a bound changed there is checked as it is."""

from __future__ import annotations

import base64
import builtins
import contextlib
import inspect
import json
import math
import os
import pathlib
import tempfile
import urllib.parse

import numpy as np
import param
import pytest
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import ganlab_app.url_state as url_state
from ganlab_app.controls import SECTIONS as CONTROL_SECTIONS
from ganlab_app.controls import Controls
from ganlab_app.session import preset_settings
from ganlab_app.upload import UploadPanel
from ganlab_app.url_state import DATA_NAMES, LAYER_KEYS, parse_query
from ganlab_datasets import (BENCHMARKS, DATASET_NAMES, FAMILIES, MIN_POINTS, ParameterError, from_points,
                             get_dataset, parse_points_csv)
from ganlab_datasets.user_data import MAX_POINTS, MAX_SOURCE_CHARS
from gan_core.config import SETTINGS, Experiment, check_rules, coerce
from gan_core.experiment_file import read_experiment
from gan_core.presets import PRESETS
from gan_core.sweep import parse_spec
from test_controls import RecordingSession

SECTIONS = tuple(CONTROL_SECTIONS)
# Nothing of Hypothesis's in the working tree: no example database, and its caches in a temporary folder.
set_hypothesis_home_dir(pathlib.Path(tempfile.gettempdir()) / "ganlab-hypothesis")
# Each property runs within seconds on a 2-core machine.
QUICK = settings(max_examples=150, deadline=None, database=None)
SLOW = settings(max_examples=60, deadline=None, database=None)
# Files a hostile input may name: the server must never open them (a relative one, an absolute
# one, a home directory's, a URL).
SERVER_FILES = ("/etc/passwd", "../../../../etc/passwd", "~/.ssh/id_rsa", "file:///etc/hostname",
                "C:\\Windows\\win.ini", "/proc/self/environ")


def pytest_examples(example, cases):
    """Hypothesis's @example for each of ``cases`` (keyword arguments)."""
    def decorate(test):
        for case in reversed(cases):
            test = example(**case)(test)
        return test
    return decorate


# ---------------------------------------------------------------------------------------------
# what may reach the trainer: each setting within its declared bounds and type
def assert_within_bounds(settings: dict) -> None:
    """Every setting of a run as its parameter declares it (bounds, type, choices), the data a
    family other than csv that builds with finite numbers, and the rules between settings kept."""
    assert set(settings) == set(SETTINGS)
    for name, value in settings.items():
        p = Experiment.param[name]
        if isinstance(p, param.Boolean):
            assert type(value) is bool, (name, value)
        elif isinstance(p, param.Selector):
            assert value in p.objects, (name, value)
        elif isinstance(p, param.Number):
            low, high = p.bounds
            assert not isinstance(value, bool), (name, value)
            assert isinstance(value, int if isinstance(p, param.Integer) else (int, float)), (name, value)
            assert math.isfinite(value) and low <= value <= high, (name, value)
        elif isinstance(p, param.Dict):
            assert isinstance(value, dict), (name, value)
    assert settings["dataset"] != "csv"  # a file on the server
    assert_finite_dataset(get_dataset(settings["dataset"], **settings["dataset_params"]))
    check_rules(settings)


def assert_finite_dataset(dataset) -> None:
    """A dataset the trainer can scale and score: a finite box of positive size, fair shares
    summing to 1, finite samples."""
    low, high = dataset.box
    assert np.isfinite(low).all() and np.isfinite(high).all() and (high > low).all()
    structure = dataset.structure
    if structure is not None:
        assert np.isfinite(structure.fair_share).all() and structure.fair_share.sum() == pytest.approx(1.0)
        assert not np.isnan(structure.hq_radius).any()  # infinite for a drawing's sigma of 1e308: all HQ
    assert np.isfinite(dataset.sample(64, seed=0).numpy()).all()


# ---------------------------------------------------------------------------------------------
# values: the bounds' edges and just beyond, read from the parameters, and the wrong types
def boundary_values(name: str) -> list:
    p = Experiment.param[name]
    if isinstance(p, param.Boolean):
        return [True, False, 0, 1, 2, -1, "true", "off", "maybe", None, [True]]
    if isinstance(p, param.Selector):
        return [*p.objects, "csv", "", str(p.objects[0]).upper(), 3, None, [p.objects[0]], *SERVER_FILES[:2]]
    if isinstance(p, param.Number):
        low, high = p.bounds
        values = [low, high, math.nextafter(low, -math.inf), math.nextafter(high, math.inf), low - 1, high + 1,
                  (low + high) / 2, math.nan, math.inf, -math.inf, 10 ** 30, -10 ** 30, 10 ** 400, True,
                  "1", None, [low], {"value": low}]
        if isinstance(p, param.Integer):
            values += [low + 0.5, float(high), float(high) + 1]
        return values
    if isinstance(p, param.Dict):
        return [{}, [], None, "x", {"count": 8}, {"path": SERVER_FILES[0]}, {"points": SERVER_FILES[0]}]
    return [None]


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
                         st.sampled_from(SERVER_FILES))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def setting_values(name: str):
    return st.one_of(st.sampled_from(boundary_values(name)), json_values)


def text_of(value) -> str:
    """A value as a query spells it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


# ---------------------------------------------------------------------------------------------
# no file on the server read or written because the input named it
FILE_CALLS = {builtins: ("open",), os: ("open", "stat", "listdir", "scandir"),
              pathlib.Path: ("open", "read_bytes", "read_text", "write_bytes", "write_text", "stat")}


@contextlib.contextmanager
def no_file_touched():
    """Record every file the code opens, reads, writes or stats inside; on leaving, assert there
    was none but Python's own source files (which a warning's text is read from)."""
    touched = []

    def spy(original, is_method):
        def wrapper(*args, **kwargs):
            target = args[0] if args else next(iter(kwargs.values()), None)
            touched.append(str(target))
            return original(*args, **kwargs)
        return wrapper

    with pytest.MonkeyPatch.context() as patch:
        for owner, names in FILE_CALLS.items():
            for name in names:
                patch.setattr(owner, name, spy(getattr(owner, name), owner is pathlib.Path))
        yield touched
    assert [path for path in touched if not path.endswith(".py")] == []


# ---------------------------------------------------------------------------------------------
# a page's address
QUERY_KEYS = (*SETTINGS, *url_state.PAGE_NAMES, *DATA_NAMES, "dataset_params", "data.count", "data.points",
              "data.path", "data.centres", "data.sigma", "data.source", "unknown", "")
PAGE_VALUES = {"preset": [*PRESETS, "nope", *SERVER_FILES], "layers": [",".join(LAYER_KEYS), "samples,bogus", ""],
               "lecture": ["1", "0", "yes", "x"], "hide": [",".join(SECTIONS), "data,bogus", ""],
               "data": [*DATASET_NAMES, *SERVER_FILES], "dataset": [*DATASET_NAMES, "Ring8"],
               "dataset_params": ['{"count": 5}', "[]", "{", '{"path": "/etc/passwd"}', "[" * 5000 + "]" * 5000],
               "data.count": ["3", "0", "1e9", "nan", "[[[", "[" * 5000],
               "data.points": [json.dumps([[i, -i] for i in range(MIN_POINTS)]),
                               json.dumps([[1e308 * (-1) ** i, i] for i in range(MIN_POINTS)]), *SERVER_FILES],
               "data.path": list(SERVER_FILES), "data.centres": ["[[0,0],[1,1]]", "[[0],[1,1]]", "[" * 3000],
               "data.sigma": ["0.1", "1e308", "-1", "nan"], "data.source": ["x", "/etc/passwd", ""]}


def query_value(key: str):
    if key in SETTINGS and key not in ("dataset", "dataset_params"):
        return setting_values(key).map(text_of)
    return st.one_of(st.sampled_from(PAGE_VALUES.get(key, ["1"])), st.text(max_size=12))


queries = st.lists(st.sampled_from(QUERY_KEYS), unique=True, max_size=8).flatmap(
    lambda keys: st.fixed_dictionaries({key: query_value(key) for key in keys}))


def assert_link_is_safe(link) -> None:
    for run in link.runs().values():
        assert_within_bounds(run)
    for notice in link.notices:
        assert isinstance(notice.text, str) and "Traceback" not in notice.text


def named(link, *parameters) -> bool:
    return any(n.parameter in parameters or n.parameter.startswith(("data.", "dataset")) and "data" in parameters
               for n in link.notices)


@QUICK
@given(st.text(max_size=200))
def test_any_address_starts_runs_within_bounds(search):
    with no_file_touched():
        link = parse_query(search, SECTIONS)
    assert_link_is_safe(link)


@QUICK
@given(queries)
@example({"data": "ring8", "dataset": "grid25"})  # two names for the data: the one not taken is named
@example({"data": "ring", "data.name": "x"})  # a parameter the dataset's function itself takes
@example({"latent_dim": "1" + "0" * 400})  # an integer beyond any float
def test_each_value_in_an_address_is_applied_or_refused_by_name(query):
    search = "?" + urllib.parse.urlencode(query)
    with no_file_touched():
        link = parse_query(search, SECTIONS)
    assert_link_is_safe(link)
    runs = link.runs()
    for key, text in query.items():
        if key in SETTINGS and key not in ("name", "dataset", "dataset_params"):
            # applied to every run (shared) or the edited one, or named in a notice
            applied = key in link.overrides and link.settings()[key] == link.overrides[key]
            assert applied or named(link, key), (key, text, [n.text for n in link.notices])
            if applied:
                assert link.overrides[key] == coerce(key, link.overrides[key])
        elif key in DATA_NAMES:
            applied = all(run["dataset"] == text for run in runs.values())
            assert applied or named(link, "data", "dataset"), (key, text, [n.text for n in link.notices])
        elif key.startswith("data.") or key == "dataset_params":
            assert (key in ("dataset_params",) or key[len("data."):] in link.settings()["dataset_params"]
                    or named(link, "data")), (key, text, [n.text for n in link.notices])
        elif key == "preset":
            assert link.preset == text or named(link, "preset")
        elif key in ("layers", "hide"):
            wanted = [name for name in text.split(",") if name]
            kept = link.layers if key == "layers" else link.hide
            assert set(wanted) <= set(kept) or named(link, key)
        elif key not in url_state.PAGE_NAMES:
            assert named(link, key), (key, [n.text for n in link.notices])


@QUICK
@given(st.sampled_from(SERVER_FILES + ("points.csv",)), st.sampled_from(("data.path", "data.points", "data.source")))
def test_an_address_never_names_a_file_the_server_reads(path, key):
    with no_file_touched():
        link = parse_query(urllib.parse.urlencode({"data": "csv", key: path}), SECTIONS)
    assert all(run["dataset"] != "csv" for run in link.runs().values())
    assert named(link, "data")


# ---------------------------------------------------------------------------------------------
# experiment files
def settings_tables():
    return st.lists(st.sampled_from(SETTINGS + ("name", "nope")), unique=True, max_size=6).flatmap(
        lambda keys: st.fixed_dictionaries({key: setting_values(key) if key in SETTINGS else json_values
                                            for key in keys}))


def experiment_documents():
    return st.fixed_dictionaries({}, optional={"preset": st.one_of(st.sampled_from(tuple(PRESETS)), json_values),
                                               "settings": st.one_of(settings_tables(), json_values),
                                               "other": json_values})


def without_none(value):
    """TOML has no null: the value with its Nones left out."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_none(v) for v in value if v is not None]
    return value


def toml_bytes(document) -> bytes:
    try:
        return tomli_w.dumps(without_none(document)).encode()
    except (TypeError, ValueError):  # TOML cannot say it (a huge integer): a garbage file instead
        return json.dumps(document).encode()


def assert_read_or_refused(data: bytes, fmt: str, source: str = "hostile.toml") -> None:
    """The file's settings within bounds, or one ParameterError naming the file (and a key's line)."""
    with no_file_touched():
        try:
            complete, preset = read_experiment(data, fmt, source, server_files=False)
        except ParameterError as error:
            assert f"({source}" in str(error), str(error)
            return
    assert_within_bounds(complete)
    assert preset is None or isinstance(preset, str)


@QUICK
@given(st.binary(max_size=300), st.sampled_from(("toml", "json")))
def test_any_bytes_as_an_experiment_file(data, fmt):
    assert_read_or_refused(data, fmt)


@QUICK
@given(experiment_documents(), st.sampled_from(("toml", "json")))
def test_an_experiment_file_with_wrong_keys_types_or_ranges(document, fmt):
    data = toml_bytes(document) if fmt == "toml" else json.dumps(document, indent=1).encode()
    assert_read_or_refused(data, fmt)


@QUICK
@given(st.sampled_from(SETTINGS), st.data())
def test_a_refused_setting_in_a_file_is_named_with_its_line(name, data):
    value = data.draw(setting_values(name))
    text = json.dumps({"preset": "roth", "settings": {name: value}}, indent=1)
    try:
        read_experiment(text.encode(), "json", "lesson.json", server_files=False)
    except ParameterError as error:
        if error.name.split(" ")[0] == name:  # the setting itself, not a rule its value breaks
            assert error.name == f"{name} (lesson.json, line 4)"  # its line under "settings", str(error)


@pytest.mark.parametrize("fmt, text", [
    ("json", '{"settings": {"dataset_params": ' + "[" * 100_000 + "]" * 100_000 + "}}"),
    ("toml", "settings = " + "[" * 100_000 + "]" * 100_000),
    ("toml", "x = " + "{a = " * 20_000 + "1" + "}" * 20_000),
])
def test_a_file_nested_too_deep_is_refused_by_name(fmt, text):
    with pytest.raises(ParameterError, match=r"experiment file \(deep\.\w+\)"):
        read_experiment(text.encode(), fmt, f"deep.{fmt}")


# ---------------------------------------------------------------------------------------------
# the sidebar's dataset parameters (JSON typed into its box, applied with "Apply data")
@pytest.fixture(scope="module")
def sidebar():
    session = RecordingSession()
    controls = Controls(session, "nonsaturating", preset_settings("nonsaturating"))
    return controls, session


FAMILY_KEYS = sorted({key for name in FAMILIES for key in inspect.signature(FAMILIES[name]).parameters})
dataset_json = st.one_of(
    st.dictionaries(st.sampled_from(FAMILY_KEYS), json_values, max_size=4).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=30),
    st.sampled_from(["[" * 5000 + "]" * 5000, '{"points": "/etc/passwd"}', '{"path": "/etc/passwd"}']))
# Found by the properties once; each is tried on every run.
HOSTILE_DATA = [("mixture", {"centres": [[0, 0], [1, 1]], "weights": [1e308, 1e308]}),
                ("cube_frames", {"half_sides": [0.8, 0.4], "weights": [1e308, 1e308]}),
                ("points", {"points": [[1e308 * (-1) ** i, i] for i in range(MIN_POINTS)]}),
                ("points", {"points": [[i, i % 3] for i in range(MIN_POINTS)], "centres": [[0, 0]], "sigma": 1e308}),
                ("mixture", {"centres": "[" * 5000 + "]" * 5000}), ("ring", {"name": None})]


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # the sidebar is module-scoped
@given(st.sampled_from([n for n in DATASET_NAMES if n not in BENCHMARKS and n != "csv"]), dataset_json)
@pytest_examples(example, [dict(name=name, text=json.dumps(params)) for name, params in HOSTILE_DATA])
def test_the_sidebars_dataset_parameters_give_data_or_a_message(sidebar, name, text):
    controls, session = sidebar
    controls.dataset.value = name
    controls.dataset_params.value = text
    session.calls.clear()
    with no_file_touched():
        controls.apply_data.clicks += 1  # the "Apply data" button
    sent = [call[1] for call in session.calls if call[0] == "update"]
    if controls.data_error.visible:
        assert sent == []
        message = controls.data_error.object
        assert message and "Traceback" not in message
        assert message.startswith(("parameter '", "dataset parameters")), message
    else:
        assert sent == [{"dataset": name, "dataset_params": json.loads(text or "{}")}]  # an empty box: none
        assert_finite_dataset(get_dataset(name, **sent[0]["dataset_params"]))


# ---------------------------------------------------------------------------------------------
# CSV uploads
numbers = st.one_of(st.floats(), st.integers(-10 ** 30, 10 ** 30), st.sampled_from([1e308, -1e308, 1e400]))
cells = st.one_of(numbers.map(repr), st.sampled_from(["nan", "NaN", "inf", "-Infinity", "", " ", "1,5", "x",
                                                       "0x10", "1_0", "\x00", "１"]))
separators = st.sampled_from([",", ";", "\t", " ", ", "])
newlines = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_files(draw) -> bytes:
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(st.one_of(numbers.map(repr), cells), min_size=width,
                                  max_size=width + draw(st.integers(0, 1))),  # sometimes ragged
                         min_size=0, max_size=MIN_POINTS + 5))
    sep, newline = draw(separators), draw(newlines)
    header = draw(st.sampled_from(["", "x,y" + newline, "x,y,z" + newline, '"a""b",c' + newline]))
    text = header + newline.join(sep.join(row) for row in rows)
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe"]))
    return bom + text.encode()


def assert_points_or_refused(data: bytes) -> None:
    try:
        points = parse_points_csv(data)
    except ParameterError as error:
        assert error.name == "csv" and str(error).startswith("parameter 'csv' must be "), str(error)
        return
    assert points.ndim == 2 and points.shape[1] in (2, 3) and MIN_POINTS <= len(points) <= MAX_POINTS
    assert np.isfinite(points).all()
    try:
        dataset = from_points(points.tolist(), source="upload.csv")
    except ParameterError as error:
        assert error.name == "points", str(error)
        return
    assert_finite_dataset(dataset)


@QUICK
@given(st.binary(max_size=400))
def test_any_bytes_as_a_csv_upload(data):
    with no_file_touched():
        assert_points_or_refused(data)


@QUICK
@given(csv_files())
@example(b"x,y\n" + b"\n".join(b"%r,%d" % (1e308 * (-1) ** i, i) for i in range(MIN_POINTS)))
@example(b"x,y\n" + b"\n".join(b"%d,1e-320" % i for i in range(MIN_POINTS)))
def test_a_csv_with_odd_numbers_rows_and_separators(data):
    with no_file_touched():
        assert_points_or_refused(data)


def upload_messages():
    """What a browser may send the upload widget: its own protocol's messages, with wrong
    fields, out of order, or not a message at all."""
    good = [{"kind": "start", "serial": 1, "name": "a.csv", "size": 40},
            {"kind": "chunk", "serial": 1, "index": 0, "data": base64.b64encode(b"x,y\n1,2\n").decode()},
            {"kind": "end", "serial": 1, "chunks": 1}]
    field_values = st.one_of(json_values, st.sampled_from([0, 1, 40, -1, 10 ** 12, "1", *SERVER_FILES]))
    bent = st.builds(lambda message, key, value: {**message, key: value}, st.sampled_from(good),
                     st.sampled_from(["kind", "serial", "name", "size", "index", "data", "chunks"]), field_values)
    chunk = csv_files().map(lambda data: {"kind": "chunk", "serial": 1, "index": 0,
                                          "data": base64.b64encode(data).decode()})
    return st.lists(st.one_of(st.sampled_from(good), bent, chunk, json_values), max_size=6)


@SLOW
@given(upload_messages(), st.sampled_from(["a.csv", *SERVER_FILES, "x" * 500, "\x00\n.csv", 7]))
def test_an_upload_over_the_websocket_gives_data_or_a_message(messages, name):
    applied = []
    panel = UploadPanel(apply=lambda family, params: applied.append((family, params)))
    with no_file_touched():
        panel.file._handle_msg({"kind": "start", "serial": 1, "name": name, "size": 10})
        for message in messages:
            panel.file._handle_msg(message)
    assert "Traceback" not in panel.error.object
    for family, params in applied:
        assert family == "points"
        source = params["source"]
        assert 0 < len(source) <= MAX_SOURCE_CHARS and source.isprintable() and "/" not in source
        assert_finite_dataset(get_dataset(family, **params))
    if applied:
        assert not panel.error.visible and panel.status.object
    if panel.error.visible:
        assert panel.error.object.split(": ", 1)[1].startswith("parameter '")


# ---------------------------------------------------------------------------------------------
# sweep specs
def spec_documents():
    tables = st.dictionaries(st.sampled_from(SETTINGS + ("nope",)), json_values, max_size=3)
    grids = st.dictionaries(st.sampled_from(SETTINGS + ("nope",)),
                            st.one_of(st.lists(st.one_of(json_scalars, st.sampled_from([0.1, 1, 64, True])),
                                               max_size=3), json_values), max_size=2)
    return st.fixed_dictionaries({}, optional={
        "preset": st.one_of(st.sampled_from(tuple(PRESETS)), json_values),
        "data": st.one_of(st.sampled_from(DATASET_NAMES), json_values),
        "data_params": st.one_of(st.just({"count": 4}), json_values),
        "seed": st.one_of(st.integers(-2, 2 ** 31 + 1), json_values),
        "seeds": st.one_of(st.integers(-1, 3), json_values),
        "settings": st.one_of(tables, json_values), "grid": st.one_of(grids, json_values),
        "arms": st.one_of(st.dictionaries(st.text(max_size=6), tables, max_size=2), json_values),
        "other": json_values})


def assert_spec_read_or_refused(data: bytes, fmt: str) -> None:
    with no_file_touched():
        try:
            sweep = parse_spec(data, fmt, "spec." + fmt)
        except ParameterError as error:
            assert f"(spec.{fmt}" in str(error) or error.name == "--yes", str(error)
            return
    assert sweep.preset in PRESETS
    for run in sweep.runs:
        assert_within_bounds(run.settings)


@SLOW
@given(st.binary(max_size=300), st.sampled_from(("toml", "json")))
def test_any_bytes_as_a_sweep_spec(data, fmt):
    assert_spec_read_or_refused(data, fmt)


@SLOW
@given(spec_documents(), st.sampled_from(("toml", "json")))
def test_a_sweep_spec_with_wrong_keys_types_or_ranges(document, fmt):
    data = toml_bytes(document) if fmt == "toml" else json.dumps(document, indent=1).encode()
    assert_spec_read_or_refused(data, fmt)


@pytest.mark.parametrize("fmt, text", [
    ("json", '{"preset": "roth", "grid": {"lr_g": ' + "[" * 100_000 + "]" * 100_000 + "}}"),
    ("toml", 'preset = "roth"\nseed = ' + "[" * 100_000 + "]" * 100_000),
])
def test_a_spec_nested_too_deep_is_refused_by_name(fmt, text):
    with pytest.raises(ParameterError, match=rf"SPEC \(spec\.{fmt}\)"):
        parse_spec(text.encode(), fmt, f"spec.{fmt}")
