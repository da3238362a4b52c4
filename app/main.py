"""The lab's page: `panel serve app` serves this directory app, one Lab per browser session."""

import sys
from pathlib import Path

# `panel serve app` runs this file as a script with app/ on sys.path; the lab's modules are
# the package `app`, imported from the repository root. Everything is imported here, at the
# top, once per server process (lazy imports raced between sessions).
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import panel as pn  # noqa: E402

from app.lab import TITLE, Lab  # noqa: E402
pn.extension(notifications=False)

Lab().template().servable(title=TITLE)
