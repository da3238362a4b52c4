"""The lab's page: `panel serve app` (from the repository) or `gan-lab-serve` (from anywhere)
serves this, one Lab per browser session. The lab's modules are the installed package
`ganlab_app` (this folder); everything is imported here, at the top, once per server process
(lazy imports raced between sessions). The page's address may name the experiment to start (a
shared link: app/url_state.py)."""

import panel as pn

from ganlab_app.lab import TITLE, Lab

# Tabulator: the History tab's table joins the page after it has loaded, so its scripts come with the page.
pn.extension("tabulator", notifications=False)

Lab(query=pn.state.location.search if pn.state.location is not None else "").template().servable(title=TITLE)
