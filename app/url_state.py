"""The experiment in the page's address: a link such as
``/app?preset=roth&data=grid25&roth_gamma=0.3&seed=5`` names a preset and the settings that differ
from it, and opening it starts exactly that experiment (same settings, same seed: same numbers).

Query names are the settings' own (gan_core/config.py), plus:

* ``preset``: a preset or lesson (gan_core/presets.py); the settings start from its.
* ``data``: the dataset (``dataset`` is the same); ``data.KEY=VALUE`` sets one parameter of a
  dataset family (``data=ring&data.count=12``; a list as JSON: ``data.centres=[[0,0],[1,1]]``),
  on top of the preset's when the dataset is the preset's; ``dataset_params=`` gives them all as
  one JSON object.
* ``layers``: the data plane's layers switched on, comma-separated (app/views2d.py's LAYERS).
* ``lecture=1``: larger type and a larger data view; ``hide=networks,optimizers``: sidebar
  sections left out (Controls.SECTIONS).
* ``follow=CODE``: the page follows the run of the page with this code (app/classroom.py),
  read-only, instead of training one of its own (the code's case does not matter).

Every value is checked by the setting's own bounds and type (gan_core.config.coerce) and the
rules between settings (check_rules). What fails is left out and reported as a Notice (the name,
what was given, what is allowed); the rest is applied. A lesson's runs share data, networks,
objective and seed, so those apply to every run; any other setting applies to the last run, the
one the sidebar edits (as the sidebar's own changes do).

The inverse, ``query_of``, writes the shortest query that starts the same experiment: the preset,
the settings that differ from the preset's, the seed, and the page's options that differ from
their defaults. Pure functions: no Panel state is read or written here."""

from __future__ import annotations

import json
import math
import urllib.parse
from dataclasses import dataclass, field

import param

from ganlab_datasets import BENCHMARKS, DATASET_NAMES, ParameterError, get_dataset
from gan_core.config import SETTINGS, SHARED, Experiment, allowed_text, check_rules, coerce
from gan_core.presets import PRESETS

from .classroom import normal_code
from .session import DEFAULT_PRESET, preset_runs, preset_settings
from .views2d import LAYERS, OFF_AT_START

DATA_NAMES = ("data", "dataset")
DATA_PARAM_PREFIX = "data."
# A browser's link never names a file on the server: the csv dataset reads one.
LINKABLE_DATASETS = tuple(name for name in DATASET_NAMES if name != "csv")
LAYER_KEYS = tuple(LAYERS.values())
DEFAULT_LAYERS = tuple(key for label, key in LAYERS.items() if label not in OFF_AT_START)
PAGE_NAMES = ("preset", "layers", "lecture", "hide", "follow")
# A drawing travels in the link up to this many points (about 15 characters each); more (an upload)
# would make an address that servers refuse, so the link leaves such data out and says so.
LINK_POINTS_MAX = 500
TRUE_WORDS = ("1", "true", "on", "yes")


@dataclass(frozen=True)
class Notice:
    """One part of a link that was left out: the query's name, what it gave, and what is allowed."""

    parameter: str
    given: str
    allowed: str
    reason: str = ""  # a rule between settings that the value breaks, in words (else: out of its range)

    @property
    def text(self) -> str:
        why = self.reason or f"{self.parameter} must be {self.allowed}"
        return f"{self.parameter}={self.given} was ignored: {why}."


@dataclass
class Link:
    """What a page's address asks for, checked."""

    preset: str = DEFAULT_PRESET
    overrides: dict = field(default_factory=dict)  # setting -> value, each checked; on the preset's settings
    layers: tuple[str, ...] = DEFAULT_LAYERS  # the plane's layers switched on (LAYERS' keys)
    lecture: bool = False
    hide: tuple[str, ...] = ()  # sidebar sections left out
    follow: str | None = None  # the code of the page whose run this page follows (app/classroom.py)
    notices: list[Notice] = field(default_factory=list)

    def runs(self) -> dict[str, dict]:
        """The runs to start, name -> settings: the preset's (a lesson's variants side by side),
        with the overrides applied as the sidebar applies them."""
        return runs_with(self.preset, self.overrides)

    def settings(self) -> dict:
        """The settings of the run the sidebar edits (a lesson's last)."""
        return list(self.runs().values())[-1]


def runs_with(preset: str, overrides: dict) -> dict[str, dict]:
    """``preset``'s runs with ``overrides``: data, networks, objective and seed in every run, the
    rest in the last."""
    runs = preset_runs(preset)
    last = list(runs)[-1]
    return {name: {**settings, **{k: v for k, v in overrides.items() if k in SHARED or k == "seed" or name == last}}
            for name, settings in runs.items()}


def parse_query(search: str, sections: tuple[str, ...] = ()) -> Link:
    """The link in ``search`` (a page's ``location.search``, with or without its "?"), checked.
    ``sections``: the sidebar's section names ``hide`` may name."""
    query = dict(urllib.parse.parse_qsl(search.lstrip("?"), keep_blank_values=True))
    link = Link()
    notices = link.notices

    preset = query.pop("preset", DEFAULT_PRESET)
    if preset in PRESETS:
        link.preset = preset
    else:
        notices.append(Notice("preset", preset, "one of " + ", ".join(PRESETS)))

    link.lecture = _flag(query.pop("lecture", "0"))
    if "follow" in query:
        link.follow = normal_code(query.pop("follow"))
    hide = [name for name in query.pop("hide", "").split(",") if name]
    unknown = [name for name in hide if name not in sections]
    if unknown:
        notices.append(Notice("hide", ",".join(unknown), "a list of " + ", ".join(sections)))
    link.hide = tuple(name for name in hide if name in sections)
    if "layers" in query:
        layers = [name for name in query.pop("layers").split(",") if name]
        wrong = [name for name in layers if name not in LAYER_KEYS]
        if wrong:
            notices.append(Notice("layers", ",".join(wrong), "a list of " + ", ".join(LAYER_KEYS)))
        link.layers = tuple(name for name in LAYER_KEYS if name in layers)

    overrides = {}
    data = _data_overrides(query, preset_settings(link.preset), notices)
    for name, text in query.items():
        if name not in SETTINGS or name == "name":
            notices.append(Notice(name, text, "a setting's name (" + ", ".join(SETTINGS) + ") or one of "
                                  + ", ".join(PAGE_NAMES + DATA_NAMES)))
            continue
        try:
            overrides[name] = coerce(name, _value(name, text))
        except ParameterError:
            notices.append(Notice(name, text, allowed_text(name)))
    link.overrides = _within_rules(link.preset, {**data, **overrides}, query, notices)
    return link


def _flag(text: str) -> bool:
    return text.lower() in TRUE_WORDS


def _value(name: str, text: str):
    """A query's text as setting ``name`` takes it (coerce then checks it): a number for a number,
    never NaN or infinite; words for a switch or a choice."""
    p = Experiment.param[name]
    if isinstance(p, (param.Boolean, param.Selector)) or not isinstance(p, param.Number):
        return text
    try:
        number = int(text) if isinstance(p, param.Integer) and text.lstrip("+-").isdigit() else float(text)
    except ValueError:
        return text  # refused by coerce, which names the allowed range
    return number if isinstance(number, int) or math.isfinite(number) else text  # an int of 400 digits is no float


def _data_overrides(query: dict, preset: dict, notices: list) -> dict:
    """The dataset and its parameters the query names (taken out of ``query``), checked by
    building the dataset; {} where the query names neither."""
    names = [query.pop(key) for key in DATA_NAMES if key in query]
    per_key = {key[len(DATA_PARAM_PREFIX):]: query.pop(key) for key in list(query) if key.startswith(DATA_PARAM_PREFIX)}
    whole = query.pop("dataset_params", None)
    if not names and not per_key and whole is None:
        return {}
    name = names[-1] if names else preset["dataset"]
    if len(set(names)) > 1:  # data and dataset are one setting: the last one named is taken
        notices.append(Notice("data", names[0], f"one dataset: the link names {names[-1]} too, which is taken"))
    if name not in LINKABLE_DATASETS:
        notices.append(Notice("data", name, "one of " + ", ".join(LINKABLE_DATASETS)))
        return {}
    params = {} if name != preset["dataset"] else dict(preset["dataset_params"])
    if whole is not None:
        try:
            params = json.loads(whole)
            if not isinstance(params, dict):
                raise ValueError
        except (ValueError, RecursionError):  # RecursionError: lists nested thousands deep
            notices.append(Notice("dataset_params", whole, 'a JSON object such as {"count": 8}'))
            params = {} if name != preset["dataset"] else dict(preset["dataset_params"])
    params.update({key: _json_or_text(text) for key, text in per_key.items()})
    if name in BENCHMARKS and params:
        notices.append(Notice(DATA_PARAM_PREFIX + next(iter(params)), _text(next(iter(params.values()))),
                              f"none: {name} is a benchmark without parameters"))
        params = {}
    try:
        get_dataset(name, **params)
    except ParameterError as error:
        notices.append(Notice(DATA_PARAM_PREFIX + error.name, _text(params.get(error.name, error.got)), error.allowed))
        params = {}
    except TypeError:  # a parameter the family does not have
        notices.append(Notice("dataset parameters", _text(params), f"the parameters of {name} only"))
        params = {}
    try:
        get_dataset(name, **params)
    except (ParameterError, TypeError, ValueError):
        notices.append(Notice("data", name, "a dataset whose default parameters build"))
        return {}
    return {"dataset": name, "dataset_params": params}


def _json_or_text(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # the text itself, for the family's check to refuse by name
        return text


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _within_rules(preset: str, overrides: dict, query: dict, notices: list) -> dict:
    """``overrides`` less those that break a rule between settings (check_rules) in some run:
    all of them if they keep the rules together, else each in turn (the data first, then the
    query's order) as long as it keeps them with those taken before it."""
    if _rule_broken(preset, overrides) is None:
        return overrides
    taken: dict = {}
    for name in overrides:  # the data come first
        error = _rule_broken(preset, {**taken, name: overrides[name]})
        if error is None:
            taken[name] = overrides[name]
        elif name != "dataset_params":  # refused with its dataset, whose notice says why
            given = query.get(name, _text(overrides[name]))
            notices.append(Notice("data" if name == "dataset" else name, given, error.allowed, reason=str(error)))
    if "dataset_params" in taken and "dataset" not in taken and "dataset" in overrides:
        del taken["dataset_params"]  # the parameters of a dataset that was refused
    return taken


def _rule_broken(preset: str, overrides: dict) -> ParameterError | None:
    """The first rule between settings that some run with ``overrides`` breaks, if any."""
    try:
        for settings in runs_with(preset, overrides).values():
            check_rules(settings)
    except ParameterError as error:
        return error
    return None


# ---------------------------------------------------------------------------------------------
# the inverse: an experiment -> its link
def query_of(preset: str, settings: dict, layers=DEFAULT_LAYERS, lecture: bool = False,
             hide: tuple[str, ...] = ()) -> str:
    """The shortest query ("?..." ) that starts this experiment: ``settings`` are the run's the
    sidebar edits (a lesson's last), compared with ``preset``'s."""
    base = preset_settings(preset)
    pairs = [("preset", preset)]
    if data_left_out(settings):  # the link trains on the preset's data
        settings = {**settings, "dataset": base["dataset"], "dataset_params": base["dataset_params"]}
    if settings["dataset"] != base["dataset"]:
        pairs.append(("data", settings["dataset"]))
    params = settings["dataset_params"]
    start = base["dataset_params"] if settings["dataset"] == base["dataset"] else {}
    if params != start:
        if set(start) <= set(params):  # each parameter on top of the preset's
            pairs += [(DATA_PARAM_PREFIX + key, _text(value)) for key, value in params.items()
                      if key not in start or start[key] != value]
        else:  # fewer parameters than the preset's: all of them
            pairs.append(("dataset_params", _text(params)))
    for name in SETTINGS:
        if name not in ("dataset", "dataset_params", "seed") and settings[name] != base[name]:
            pairs.append((name, _setting_text(settings[name])))
    pairs.append(("seed", str(settings["seed"])))
    if tuple(layers) != DEFAULT_LAYERS:
        pairs.append(("layers", ",".join(key for key in LAYER_KEYS if key in layers)))
    if lecture:
        pairs.append(("lecture", "1"))
    if hide:
        pairs.append(("hide", ",".join(hide)))
    return "?" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, safe=",:[]{}")


def data_left_out(settings: dict) -> str | None:
    """Why a link cannot carry these settings' data (too many points of one's own), else None."""
    points = settings["dataset_params"].get("points", ()) if settings["dataset"] == "points" else ()
    if len(points) <= LINK_POINTS_MAX:
        return None
    return (f"The link leaves out your {len(points):,} points (it carries at most {LINK_POINTS_MAX}): "
            f"share them as a settings file (Files) or the CSV itself.")


def _setting_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)
