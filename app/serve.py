"""`gan-lab-serve`: the installed lab's page at /app, from any directory.

It serves this package's folder as `panel serve app` serves the repository's app/ folder (Bokeh's
directory app: main.py builds each session's page, app_hooks.py starts the training processes'
forkserver before the server announces its address), under the route /app whatever the folder is
called once installed (`ganlab_app`). app/local_server.py serves the same application on a thread
of its own process, for the browser tests and bench/app_speed.py.

The class limits' options (--max-trainers ...) set the environment variables the pages read
(app/server_limits.py), as --store sets GANLAB_STORE; the lecturer's address is printed with the
server's."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# Panel and torch are imported once the options are read (they take seconds): a mistyped option
# is answered at once.

APP_FOLDER = Path(__file__).resolve().parent  # main.py and app_hooks.py, as `panel serve app` reads them
ROUTE = "app"
COMMAND = "gan-lab-serve"
DEFAULT_PORT = 5006  # Panel's and Bokeh's


def start_server(port: int = DEFAULT_PORT, address: str | None = None, websocket_origins: list[str] | None = None,
                 threaded: bool = False, **server_options):
    """A Panel server with the lab at /ROUTE, listening but not yet running its loop (``threaded``:
    running on a thread of its own). Returns Bokeh's Server, or Panel's thread that holds it."""
    import panel as pn
    from panel.io.application import build_single_handler_application

    application = build_single_handler_application(APP_FOLDER)
    return pn.serve({ROUTE: application}, port=port, address=address, websocket_origin=websocket_origins or None,
                    threaded=threaded, show=False, start=threaded, verbose=False, **server_options)


def _port(text: str) -> int:
    if text.isdigit() and int(text) <= 65535:
        return int(text)
    raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 65535 (0: any free port), got {text!r}")


def _origin(text: str) -> str:
    host, _, port = text.partition(":")
    if host and (not port or port.isdigit() or host == "*"):
        return text
    raise argparse.ArgumentTypeError(f"must be HOST or HOST:PORT (e.g. localhost:5006), got {text!r}")


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(
        prog=COMMAND, description="Serve the GAN Stability Lab at http://ADDRESS:PORT/app (as `panel serve app` "
                                  "does in the repository), from any directory.")
    options.add_argument("--port", type=_port, default=DEFAULT_PORT,
                         help=f"port to listen on, 0 to 65535 (0: any free port; default {DEFAULT_PORT})")
    options.add_argument("--address", default=None,
                         help="address to listen on (default: every address of this machine)")
    options.add_argument("--allow-websocket-origin", dest="origins", action="append", type=_origin, default=[],
                         metavar="HOST[:PORT]",
                         help="a host the page may be opened from; repeat for several (default: localhost:PORT)")
    options.add_argument("--show", action="store_true", help="open the page in a browser once the server runs")
    options.add_argument("--store", type=Path, default=None, metavar="PATH",
                         help="the run store the pages keep their runs in and whose History they show (default: "
                              "$GANLAB_STORE, else runs.sqlite in this user's data folder)")
    limits = options.add_argument_group(
        "class limits", "What the server lets its pages use (default: each GANLAB_... variable, else the default "
                        "docs/serving-a-class.md gives)")
    for name, option, metavar, text in LIMIT_OPTIONS:
        limits.add_argument(option, dest=name, default=None, metavar=metavar, help=text)
    return options


# Each sets its environment variable (app/server_limits.py) before the server starts.
LIMIT_OPTIONS = [
    ("max_trainers", "--max-trainers", "N", "pages that train at once, 1 to 1000 (default: one per core beside the "
                                            "server's, and 500 MB of free memory each); others get the busy page"),
    ("max_runs_per_page", "--max-runs-per-page", "N", "runs of one comparison (arms x seeds), 2 to 3200 (default 64)"),
    ("max_compare_steps", "--max-compare-steps", "N", "steps per run of a comparison, 1 to 10000000 (default 1000000)"),
    ("max_upload_mb", "--max-upload-mb", "MIB", "the largest CSV a page uploads, in MiB, more than 0 to 20 "
                                                "(default 20)"),
    ("idle_minutes", "--idle-minutes", "M", "a page nobody uses for M minutes pauses its training, 0 to 1440 "
                                            "(0: never; default 10)"),
    ("lecturer_token", "--lecturer-token", "TOKEN", "the token of the lecturer's page /app?lecturer=TOKEN, at least 8 "
                                                 "letters, digits, '-' or '_' (default: a random one, printed)"),
]


def set_limits(args: argparse.Namespace) -> None:
    """The limits given as options, checked, into the environment the server's pages read."""
    from ganlab_datasets import ParameterError

    from .server_limits import ENV, check
    for name, option, _, _ in LIMIT_OPTIONS:
        text = getattr(args, name)
        if text is None:
            continue
        try:
            check(name, text)
        except ParameterError as error:
            raise SystemExit(f"{COMMAND}: {option} must be {error.allowed} (got {error.got})") from None
        os.environ[ENV[name]] = text


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.store is not None:  # the pages and their training processes read it (gan_core/run_store.py)
        from gan_core.run_store import STORE_ENV
        os.environ[STORE_ENV] = str(args.store.expanduser().resolve())
    set_limits(args)
    from .server_limits import limits  # imports torch: once the options are read
    # The settings from the environment (GANLAB_THREADS, GANLAB_DEVICE, the limits) are checked by
    # app_hooks.py as the server starts: a bad one ends this command with its message.
    try:
        server = start_server(port=args.port, address=args.address, websocket_origins=args.origins)
    except OSError as error:  # the port is taken, or the address is not this machine's
        raise SystemExit(f"{COMMAND}: cannot listen on {args.address or 'every address'} port {args.port}: "
                         f"{error.strerror or error} (choose others with --address / --port)") from None
    url = f"http://{args.address or 'localhost'}:{server.port}/{ROUTE}"

    def ready():  # after app_hooks.py (queued first by server.start()): the first page need not wait
        print(f"GAN Stability Lab at {url} (serving {APP_FOLDER})", flush=True)
        print(f"The lecturer's page: {url}?lecturer={limits().lecturer_token}", flush=True)
        if args.show:
            server.show(f"/{ROUTE}")

    server.start()
    server.io_loop.add_callback(ready)
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
