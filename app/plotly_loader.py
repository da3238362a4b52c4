"""Plotly's JavaScript (4.8 MB, more than Bokeh and Panel together) loaded after the page, not with it.

Only the 3D view draws with Plotly, and most pages open on 2D data: parsing Plotly before the
page could start cost ~0.5-1.4 s of the first frame on a 2-core machine (bench/app_speed.py).
Served, the page is built without it (``defer_plotly`` before ``pn.extension("plotly")``) and a
``PlotlyLoader`` in the page fetches it once the page is up; the lab shows its 3D view when the
loader reports it ready. In a notebook nothing is deferred: the loader finds Plotly there already.
"""

from __future__ import annotations

import param
from panel.models.plotly import PlotlyPlot
from panel.reactive import ReactiveHTML

_deferred = {"src": ""}


def defer_plotly() -> None:
    """Serve pages without Plotly's script tag; ``PlotlyLoader`` fetches it instead. Call before
    ``pn.extension("plotly")`` in a served app (idempotent)."""
    if not _deferred["src"]:
        bundled = PlotlyPlot.__javascript__  # the server-relative path of Panel's bundled copy
        if bundled:
            _deferred["src"] = bundled[0]
            PlotlyPlot.__javascript_raw__ = []  # what the page's resources are computed from


def deferred_src() -> str:
    """Where the page fetches Plotly from, or "" when it comes with the page (not deferred)."""
    return _deferred["src"]


class PlotlyLoader(ReactiveHTML):
    """Invisible: fetches Plotly after the page has rendered and sets ``ready`` when it is there."""

    src = param.String(default="", doc="Plotly's URL; empty when the page loads it itself")
    ready = param.Boolean(default=False, doc="window.Plotly exists in the page")

    _template = '<div id="loader"></div>'

    _scripts = {"render": """
      if (window.Plotly) { data.ready = true; return }
      if (!data.src) { return }
      // ("script" is taken: Panel runs this as a function with that argument)
      let tag = document.querySelector('script[data-lab-plotly]')
      if (!tag) {
        tag = document.createElement('script')
        tag.src = data.src
        tag.async = true
        tag.setAttribute('data-lab-plotly', '')
        document.head.appendChild(tag)
      }
      tag.addEventListener('load', () => { data.ready = true })
    """}

    def __init__(self, served: bool, **params):
        """``served``: in a page of a server that defers Plotly; elsewhere (a notebook, a test
        without a browser) Plotly is there already and nothing waits."""
        src = deferred_src() if served else ""
        super().__init__(src=src, ready=not src, width=0, height=0, margin=0, **params)
