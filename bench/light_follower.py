"""Follower pages without a browser: raw websocket clients that speak Bokeh's server protocol.

A load benchmark of follow mode (bench/classroom.py) opens ~30 pages at ``/app?follow=CODE``. In
Chromium, those 30 pages decode and paint every frame on the same 2 cores as the server and the
trainer, so the figures measure the browsers as much as the server; in a class each student's
browser runs on their own laptop. A *light follower* does only what the server needs of a page:

1. GET the page (``/app?follow=CODE``), which makes the server build the page's session, and take
   the session's token from the HTML (Bokeh's render_items ``"token"``);
2. open ``/app/ws`` with the subprotocols ``["bokeh", token]``, wait for ACK, send PULL-DOC-REQ and
   find, in the PULL-DOC-REPLY, the model that carries the "plane" canvas's ``frame``/``drawn``
   (for Panel's ReactiveESM, the component's ``data`` model);
3. send the "document_ready" event as BokehJS does (a PATCH-DOC with a MessageSent
   "bokeh_event"), which makes Panel run the page's ``pn.state.onload`` callbacks: the tick that
   draws frames starts there;
4. on every PATCH-DOC that sets the plane's ``frame`` to F, note (time, F) and echo
   ``drawn = F`` as a ModelChanged PATCH-DOC, as app/js/plane2d.js does once it has drawn the frame,
   so the server's pacing (app/pacing.py: no new frame while one is unacknowledged) sees a page that
   keeps up. Nothing is decoded beyond the JSON; binary buffers are read and dropped.

The server thus produces and sends every frame as it would to browsers, and the clients cost
little. All clients run on one asyncio loop in ONE separate process, so they never take
the server's GIL; ``LightFollowers`` drives that process (this file run as a script)::

    with LightFollowers(f"{url}?follow={code}", 30) as followers:
        rates = followers.frames_per_s(20.0)   # each follower's new frames per second
        cpu = followers.cpu_seconds()          # the client process's CPU time so far

Only Bokeh's wire protocol is used (messages, event JSON); no Panel or Bokeh module is imported
in the client process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import select
import subprocess
import sys
import time
from urllib.parse import urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

PLANE = "plane"  # the name of the data view's canvas on a follower page (app/views2d.py)
READY_TIMEOUT_S = 120.0  # __enter__ gives up if not every follower has a frame by then
OPEN_AT_ONCE = 4  # pages opened concurrently: the server builds each page's session on its own loop,
# and drops a session whose socket is not open within its unused-session lifetime (5 s in the benches),
# so 30 GETs at once would leave the last sessions waiting too long for their sockets
MAX_MESSAGE_BYTES = 256 * 2**20  # a frame's arrays travel in one binary buffer; tornado's default cap is 10 MiB


# ----------------------------------------------------------------------------- the wire protocol

_ids = itertools.count(1)


def _message(msgtype: str, content: dict, reqid: str | None = None) -> list[str]:
    """A message without buffers: its header, metadata and content fragments (what BokehJS's
    Message.send writes, one websocket frame each)."""
    header = {"msgid": f"light-{os.getpid()}-{next(_ids)}", "msgtype": msgtype}
    if reqid is not None:
        header["reqid"] = reqid
    return [json.dumps(header), "{}", json.dumps(content)]


def document_ready() -> dict:
    """PATCH-DOC content that announces "document_ready", as BokehJS sends it once the page is
    rendered: a MessageSent event carrying the serialised BokehEvent (empty values: ``{type: map}``)."""
    event = {"type": "event", "name": "document_ready", "values": {"type": "map"}}
    return {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": event}]}


def model_changed(model_id: str, attr: str, value) -> dict:
    """PATCH-DOC content for one property change, as BokehJS serialises a ModelChangedEvent."""
    return {"events": [{"kind": "ModelChanged", "model": {"id": model_id}, "attr": attr, "new": value}]}


class Connection:
    """A Bokeh server websocket: whole messages in and out (header, metadata, content, then
    ``num_buffers`` pairs of a buffer header and a binary payload)."""

    def __init__(self, socket):
        self.socket = socket

    async def send(self, msgtype: str, content: dict) -> None:
        for fragment in _message(msgtype, content):
            await self.socket.write_message(fragment)

    async def receive(self) -> tuple[dict, dict] | None:
        """The next message's (header, content), its buffers read and dropped; None once closed."""
        fragments = []
        for _ in range(3):
            fragment = await self.socket.read_message()
            if fragment is None:
                return None
            fragments.append(fragment)
        header = json.loads(fragments[0])
        for _ in range(2 * header.get("num_buffers", 0)):  # the buffer header, then the payload
            if await self.socket.read_message() is None:
                return None
        return header, json.loads(fragments[2])

    def close(self) -> None:
        self.socket.close()


def _objects(node):
    """Every model serialised in ``node`` (Bokeh's {"type": "object", "id", "attributes"} JSON)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "id" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def canvas_data_id(doc: dict, name: str = PLANE) -> str:
    """The id of the model whose ``frame``/``drawn`` change for the canvas called ``name``. Panel
    serialises a JSComponent as a ReactiveESM model (named after the class) whose ``data`` refers
    to a model of the component's parameters, ``name`` among them: that one carries ``frame`` and
    ``drawn`` (absent from the JSON while they hold their defaults). A model named ``name`` with a
    ``data`` reference is followed to it, in case a version of Panel names the ReactiveESM instead."""
    canvas = next((o for o in _objects(doc) if o.get("attributes", {}).get("name") == name), None)
    if canvas is None:
        raise LookupError(f"no model named {name!r} in the document")
    data = canvas["attributes"].get("data")
    return data["id"] if isinstance(data, dict) and "id" in data else canvas["id"]


# ----------------------------------------------------------------------------- the client process

class Follower:
    """One light follower page; ``frames`` is [(monotonic time, frame)] for each new frame."""

    def __init__(self, page_url: str):
        self.page_url = page_url
        self.frames: list[tuple[float, int]] = []
        self.state = "not opened"
        self.connection: Connection | None = None
        self.first_frame = asyncio.Event()

    async def open(self) -> None:
        """Steps 1-3 of the module's docstring: the page, its socket, its document, "document_ready"."""
        self.state = "getting the page"
        page = await AsyncHTTPClient().fetch(self.page_url, request_timeout=READY_TIMEOUT_S)
        found = re.search(r'"token"\s*:\s*"([^"]+)"', page.body.decode())
        if found is None:
            raise RuntimeError(f"no session token in the page at {self.page_url}")
        parts = urlsplit(self.page_url)
        # The origin a browser would send: the server checks it against its websocket origins.
        request = HTTPRequest(f"ws://{parts.netloc}{parts.path}/ws", headers={"Origin": f"http://{parts.netloc}"},
                              request_timeout=READY_TIMEOUT_S)
        self.state = "opening the websocket"
        socket = await websocket_connect(request, subprotocols=["bokeh", found.group(1)],
                                         max_message_size=MAX_MESSAGE_BYTES)
        self.connection = Connection(socket)
        self.state = "waiting for ACK"
        await self._expect("ACK")
        await self.connection.send("PULL-DOC-REQ", {})
        self.state = "waiting for PULL-DOC-REPLY"
        doc = (await self._expect("PULL-DOC-REPLY"))["doc"]
        self.state = "finding the plane in the document"
        self.data_id = canvas_data_id(doc)
        self.state = "waiting for the first frame"
        await self.connection.send("PATCH-DOC", document_ready())

    async def _expect(self, msgtype: str) -> dict:
        """The content of the next message of this type (PATCH-DOCs before it are handled)."""
        while True:
            message = await self.connection.receive()
            if message is None:
                raise RuntimeError(f"the server closed the socket before {msgtype}")
            header, content = message
            if header["msgtype"] == msgtype:
                return content
            if header["msgtype"] == "ERROR":
                raise RuntimeError(f"the server answered ERROR: {content}")

    async def follow(self) -> None:
        """Step 4: count each new frame and echo it as drawn, until the socket closes."""
        while (message := await self.connection.receive()) is not None:
            header, content = message
            if header["msgtype"] != "PATCH-DOC":
                continue
            frame = None
            for event in content.get("events", []):
                if (event.get("kind") == "ModelChanged" and event.get("attr") == "frame"
                        and event.get("model", {}).get("id") == self.data_id):
                    frame = event["new"]
            if frame is not None:
                if not self.frames or frame != self.frames[-1][1]:
                    self.frames.append((time.monotonic(), frame))
                self.state = "following"
                self.first_frame.set()
                await self.connection.send("PATCH-DOC", model_changed(self.data_id, "drawn", frame))
        self.state = "closed by the server"

    async def run(self, opening: asyncio.Semaphore) -> None:
        try:
            async with opening:
                await self.open()
            await self.follow()
        except Exception as error:  # reported to the parent through ``state``
            self.state = f"failed while {self.state}: {error!r}"
        finally:
            self.first_frame.set()  # a failed follower no longer holds up the parent's wait


async def _clients(page_url: str, n: int) -> None:
    """The client process: n followers on one loop, answering the parent's requests (one word a
    line on stdin: "counts" or "close") with one JSON line each on stdout."""
    loop = asyncio.get_running_loop()
    followers = [Follower(page_url) for _ in range(n)]
    opening = asyncio.Semaphore(OPEN_AT_ONCE)
    tasks = [asyncio.create_task(f.run(opening)) for f in followers]
    # stdin is read on the loop, so the followers keep running between requests.
    requests = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(requests), sys.stdin)

    def reply(value) -> None:
        sys.stdout.write(json.dumps(value) + "\n")
        sys.stdout.flush()

    async def report_ready():
        try:
            await asyncio.wait_for(asyncio.gather(*(f.first_frame.wait() for f in followers)), READY_TIMEOUT_S)
        except asyncio.TimeoutError:
            pass
        reply({"ready": ["ok" if f.frames else f.state for f in followers]})

    ready = asyncio.create_task(report_ready())
    while (request := (await requests.readline()).decode().strip()) not in ("close", ""):  # "": the parent has gone
        if request == "counts":  # each follower's frames so far, by this process's clock
            reply({"time": time.monotonic(), "frames": [len(f.frames) for f in followers],
                   "states": [f.state for f in followers]})
    ready.cancel()
    for follower in followers:
        if follower.connection is not None:
            follower.connection.close()
    await asyncio.sleep(0.2)  # the close frames go out before the process ends
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# ----------------------------------------------------------------------------- the parent's handle

class LightFollowers:
    """``n`` light followers of the page at ``page_url`` (e.g. http://127.0.0.1:PORT/app?follow=CODE),
    in a process of their own; a context manager (see the module's docstring)."""

    def __init__(self, page_url: str, n: int):
        self.page_url = page_url
        self.n = n
        self.process = None

    def __enter__(self) -> "LightFollowers":
        """Returns once every follower has had its first frame; RuntimeError if one has not within
        READY_TIMEOUT_S, with what each one was doing."""
        # A process of its own (this file run as a script), not multiprocessing: a spawned child
        # would import the parent's main module, e.g. a benchmark that imports the whole lab.
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), self.page_url, str(self.n)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        wait = READY_TIMEOUT_S + 30  # the process's start and imports come first
        ready = select.select([self.process.stdout], [], [], wait)[0]
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.__exit__(None, None, None)
            raise RuntimeError(f"the light followers' process did not report within {wait:.0f} s"
                               if not ready else "the light followers' process ended (see its stderr)")
        states = json.loads(line)["ready"]
        failed = [(i, state) for i, state in enumerate(states) if state != "ok"]
        if failed:
            self.__exit__(None, None, None)
            raise RuntimeError(f"{len(failed)} of {self.n} light followers have no frame (each gets "
                               f"{READY_TIMEOUT_S:.0f} s): " + "; ".join(f"#{i}: {s}" for i, s in failed[:5]))
        return self

    def _counts(self) -> dict:
        self.process.stdin.write("counts\n")
        return json.loads(self.process.stdout.readline())

    def frames_per_s(self, seconds: float) -> list[float]:
        """Waits ``seconds``; each follower's new frames per second over that window (timed by the
        client process's clock)."""
        before = self._counts()
        time.sleep(seconds)
        after = self._counts()
        elapsed = after["time"] - before["time"]
        return [(b - a) / elapsed for a, b in zip(before["frames"], after["frames"])]

    def states(self) -> list[str]:
        """What each follower is doing ("waiting for the first frame", "closed by the server", ...)."""
        return self._counts()["states"]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the client process has used so far, from /proc (Linux)."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()  # after the command's name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def __exit__(self, *exc) -> None:
        """Closes every websocket (the server drops their sessions a few seconds later) and ends
        the process."""
        if self.process is None:
            return
        try:
            self.process.stdin.write("close\n")
            self.process.stdin.close()
        except OSError:
            pass  # the process has ended already
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(5)
        self.process.stdout.close()
        self.process = None


if __name__ == "__main__":  # the client process (see LightFollowers.__enter__): PAGE_URL N
    asyncio.run(_clients(sys.argv[1], int(sys.argv[2])))
