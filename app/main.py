"""The lab's page: `panel serve app` (from the repository) or `gan-lab-serve` (from anywhere)
serves this, one Lab per browser session. The lab's modules are the installed package
`ganlab_app` (this folder); everything is imported here, at the top, once per server process
(lazy imports raced between sessions)."""

import panel as pn

from ganlab_app.lab import TITLE, Lab

pn.extension(notifications=False)

Lab().template().servable(title=TITLE)
