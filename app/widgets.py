"""Widgets made the same way on every Panel the lab allows, each taking the browser's changes at
once (app/panel_internals.py). Panel 1.9 renamed a widget's ``name`` to ``label`` and
``button_type`` to ``color``; older Panels know only the old names."""

from __future__ import annotations

from .panel_internals import without_delay


def make(cls, **params):
    """A widget of ``cls``, leaving out options the class lacks (some have no ``description``)."""
    if "label" in cls.param and "name" in params:
        params["label"] = params.pop("name")
    if "color" in cls.param and "button_type" in params:
        params["color"] = params.pop("button_type")
    return without_delay(cls(**{k: v for k, v in params.items() if k in cls.param}))


def set_label(widget, text: str, kind: str | None = None) -> None:
    """Change a widget's label (and button colour), old and new Panel alike."""
    widget.param.update(**{"label" if "label" in widget.param else "name": text})
    if kind is not None:
        widget.param.update(**{"color" if "color" in widget.param else "button_type": kind})
