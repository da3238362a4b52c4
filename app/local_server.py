"""The lab served inside this Python process, and the browser to drive it: what the browser
tests and bench/app_speed.py share (they watch the server's sessions and their training
processes, which a `panel serve` subprocess would hide). The application is the one
`gan-lab-serve` serves (app/serve.py): the same page, started by the same hooks."""

from __future__ import annotations

import os
import shutil
import socket
import time
import urllib.error
import urllib.request

from .serve import start_server

CHROMIUM = os.environ.get("GANLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without these flags Chromium keeps dialling Google services that a closed network refuses.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_process(session_lifetime_ms: int = 5000, timeout: float = 60.0):
    """Serve the lab on a thread of this process; returns (server, url) once it answers.
    Sessions without a connection are dropped after ``session_lifetime_ms`` (Bokeh's default is
    15 s, checked every 17 s), so a closed page's trainer stops soon. Much shorter does not work:
    Bokeh would drop a page's session before its websocket opens (~2.5 s on a busy 2-core machine)."""
    port = free_port()
    server = start_server(port=port, address="127.0.0.1", websocket_origins=[f"127.0.0.1:{port}"], threaded=True,
                          check_unused_sessions_milliseconds=200,
                          unused_session_lifetime_milliseconds=session_lifetime_ms)
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/liveness", timeout=5)
            break
        except urllib.error.HTTPError:  # the route is absent, but the server answers
            break
        except OSError:
            if time.time() > deadline:
                server.stop()
                raise
            time.sleep(0.2)
    return server, f"http://127.0.0.1:{port}/app"
