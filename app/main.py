"""The lab's page: `panel serve app` (from the repository) or `gan-lab-serve` (from anywhere)
serves this, one page per browser session. The lab's modules are the installed package
`ganlab_app` (this folder); everything is imported here, at the top, once per server process
(lazy imports raced between sessions). The page's address may name the experiment to start (a
shared link: app/url_state.py).

Which page a session gets: ``?lecturer=TOKEN`` the lecturer's page (app/lecturer_page.py);
``?follow=CODE`` a lab that follows another page's run (it needs no training place); any other
address a lab that trains, if it can claim one of the server's training places
(app/server_limits.py), else the busy page (app/busy_page.py), which waits for one."""

import urllib.parse

import panel as pn

from ganlab_app.busy_page import busy_page
from ganlab_app.classroom import CLASSROOM
from ganlab_app.lab import PAGE_CSS, TITLE, Lab
from ganlab_app.lecturer_page import NEEDS_TOKEN, lecturer_page, token_accepted
from ganlab_app.server_limits import limits

HEADER_COLOUR = "#5b2a86"

# Tabulator: the History tab's table joins the page after it has loaded, so its scripts come with the page.
pn.extension("tabulator", notifications=False)


def plain_page(content):
    template = pn.template.BootstrapTemplate(title=TITLE, main=[content], header_background=HEADER_COLOUR,
                                             busy_indicator=None)
    template.config.raw_css.append(PAGE_CSS)  # the lab's type sizes: readable on a projector too
    return template


query = pn.state.location.search if pn.state.location is not None else ""
fields = dict(urllib.parse.parse_qsl(query.lstrip("?"), keep_blank_values=True))
if "lecturer" in fields:
    if token_accepted(fields["lecturer"], limits().lecturer_token):
        plain_page(lecturer_page()).servable(title=TITLE)
    else:  # nothing of the class for a wrong or missing token
        pn.pane.Markdown(NEEDS_TOKEN).servable(title=TITLE)
elif "follow" in fields:
    Lab(query=query).template().servable(title=TITLE)
else:
    place = CLASSROOM.claim_place(limits().max_trainers)
    if place is None:
        plain_page(busy_page()).servable(title=TITLE)
    else:
        try:
            Lab(query=query, place=place).template().servable(title=TITLE)
        except BaseException:
            CLASSROOM.remove(place)  # a page that failed to build frees its place
            raise
