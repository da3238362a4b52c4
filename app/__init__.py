"""The lab's web app (the folder app/, installed as `ganlab_app`). `panel serve app` (in the
repository) or `gan-lab-serve` (anywhere) serves it; in a notebook, `from ganlab_app import Lab`
and a cell ending in `Lab()` shows it.

Lab is imported when first asked for: the training processes import this package (for
ganlab_app.training_process), and Panel must not come with it."""

__all__ = ["Lab"]


def __getattr__(name: str):
    if name == "Lab":
        from .lab import Lab
        return Lab
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
