"""The choice of the two latent axes G's manifold spans (gan_core/manifold.py), for the plane and
the 3D view: a latent space of more than two dimensions is shown as a slice through the latent
origin along two of its axes, the others held at 0. Two selects, shown only where there is a
choice (the manifold on, latent dimension > 2), always two different axes."""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from .widgets import make


class ManifoldAxes(pn.viewable.Viewer):
    """Two selects of latent axes; ``on_change()`` is called when the user's choice changes, or
    when a new latent space lacks the chosen axes (they go back to 0 and 1)."""

    def __init__(self, on_change: Callable[[], None], width: int = 150):
        super().__init__()
        self.selects = [make(pn.widgets.Select, name=f"Manifold axis {'ij'[k]}", options=[0, 1], value=k,
                             width=width, description="G's manifold is a slice through the latent origin along "
                                                      "two latent axes, the other coordinates 0")
                        for k in (0, 1)]
        for select in self.selects:
            select.param.watch(self._chosen, "value")
        self._layout = pn.Row(*self.selects, visible=False)
        self._on_change = on_change
        self._latent_dim = 0
        self._wanted = False
        self._syncing = False

    def __panel__(self):
        return self._layout

    @property
    def axes(self) -> tuple[int, int]:
        return int(self.selects[0].value), int(self.selects[1].value)

    def show(self, wanted: bool) -> None:
        """Shown while the manifold is (``wanted``) and the latent space has more than two axes."""
        self._wanted = wanted
        self._layout.visible = wanted and self._latent_dim > 2

    def set_latent_dim(self, latent_dim: int) -> None:
        """Offer this latent space's axes; chosen axes it lacks go back to (0, 1)."""
        if latent_dim == self._latent_dim:
            return
        self._latent_dim = latent_dim
        axes = list(range(max(latent_dim, 2)))
        kept = all(select.value in axes for select in self.selects)
        self._syncing = True  # one call of on_change for both selects, below
        try:
            for select, axis in zip(self.selects, (0, 1)):
                select.param.update(options=axes, **({} if kept else {"value": axis}))
        finally:
            self._syncing = False
        if not kept:
            self._on_change()
        self.show(self._wanted)

    def _chosen(self, event) -> None:
        if self._syncing:
            return
        first, second = self.selects
        if first.value == second.value:  # two different axes: the other select makes way
            other = second if event.obj is first else first
            other.value = next(axis for axis in other.options if axis != event.new)
            return  # that change calls on_change
        self._on_change()
