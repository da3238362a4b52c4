"""Faults while pages train, produced for real: a training process killed or out of memory, the
pipe between the server and a training process broken from either end, the run store locked,
read-only or full when a run ends. Each gives a message on the affected page (its Messages), the
page beside it trains on, Reset or Play recovers, and no stored run is lost: the runs stored
before stay, and the run that was training is stored whenever its process could still write it
(a store that could not take it is written at the next chance)."""

import ctypes
import errno
import json
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from waiting import tick_until, wait_until

from ganlab_app.lab import Lab
from ganlab_app.session import LabSession, preset_settings
from ganlab_app.training_process import out_of_memory
from gan_core.run_store import RunStore

ROOT = Path(__file__).resolve().parents[1]
SMALL = {**preset_settings("nonsaturating"), "batch_size": 64, "g_width": 32, "d_width": 32}
# Within the settings' bounds, and tens of MB per tensor: more than a process limited to a little
# above its size can allocate.
LARGE = {**SMALL, "batch_size": 4096, "g_width": 1024, "d_width": 1024, "g_depth": 6, "d_depth": 6}


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A run store of the test's own: the pages made in the test keep their runs in it."""
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("GANLAB_STORE", str(path))
    return path


@pytest.fixture(scope="module")
def neighbour():
    """Another page's training process, playing throughout (slowly: a step a frame, 20 frames a
    second at most): a fault on one page must not stop it."""
    session = LabSession(SMALL, steps_per_frame=1, min_frame_s=0.05, play=True)
    wait_until(lambda: session.steps > 0, what="the neighbouring page trains")
    yield session
    session.stop()


@pytest.fixture
def lab(store):
    """A page (in-process) with small runs, paused, keeping its runs in ``store``."""
    lab = Lab(play=False)
    lab.session.load_runs({"": SMALL})
    tick_until(lab, lambda: lab._generation is not None, what="the page's runs start")
    yield lab
    lab.stop()


def trains_on(session, steps: int = 5) -> None:
    """``session`` takes ``steps`` more steps."""
    first = session.steps
    wait_until(lambda: session.steps >= first + steps, timeout=20, what="the neighbouring page trains on")


def click(button) -> None:
    button.clicks += 1  # what a click in the browser does


def shown(lab, text: str) -> str | None:
    """The page's message that says ``text``, if one is shown."""
    return next((message for message in lab.messages.shown if text in message), None)


def stored_steps(path) -> list[int]:
    with RunStore(path) as store:
        return sorted(run["steps"] for run in store.runs(settings=False))


def train_steps(lab, steps: int) -> None:
    """Take ``steps`` single steps from where the page's runs are."""
    first = lab.session.steps
    for _ in range(steps):
        lab.session.step_full()
    tick_until(lab, lambda: lab.session.steps == first + steps, what=f"{steps} steps")


def store_one_run(lab, store, steps: int = 3) -> None:
    """Train ``steps`` steps and Reset: the run is kept in the store (the runs that stay)."""
    train_steps(lab, steps)
    click(lab.controls.reset_button)
    wait_until(lambda: stored_steps(store) == [steps], what="the first run is stored")
    tick_until(lab, lambda: lab.session.steps == 0, what="the reset")


def ended(pid: int) -> bool:
    """The process has exited (gone, or a zombie its parent has not reaped yet)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def recovers(lab) -> None:
    """Reset, then Play (unless it plays): the page trains again, in a live training process."""
    generation = lab._generation
    click(lab.controls.reset_button)
    tick_until(lab, lambda: lab._generation != generation and lab.session.alive, what="Reset")
    assert lab.messages.shown == [], lab.messages.shown  # the page started afresh: what it said no longer holds
    if lab.controls.play_button.name == "Play":
        click(lab.controls.play_button)
    tick_until(lab, lambda: lab.session.steps >= 10, what="training again after Reset and Play")


# ------------------------------------------------------------------------------------------------
# the training process
def test_a_killed_training_process_is_told_and_reset_starts_another_while_the_next_page_trains(lab, store,
                                                                                                 neighbour):
    store_one_run(lab, store)
    click(lab.controls.play_button)
    tick_until(lab, lambda: lab.session.steps >= 10, what="the page trains")
    killed = lab.session.pid
    os.kill(killed, signal.SIGKILL)  # as the kernel's out-of-memory killer does
    tick_until(lab, lambda: shown(lab, "killed (SIGKILL)"), what="the page says its process was killed")
    assert "Reset starts a new one" in shown(lab, "killed")
    assert lab.controls.play_button.name == "Play"  # nothing trains: the button offers to play again
    trains_on(neighbour)
    recovers(lab)
    assert lab.session.pid != killed
    assert stored_steps(store) == [3]  # the run stored before stays (the killed one could not be kept)


def test_out_of_memory_in_the_training_process_is_told_and_reset_recovers(lab, store, neighbour):
    store_one_run(lab, store)
    pid = lab.session.pid
    size = next(int(line.split()[1]) * 1024 for line in open(f"/proc/{pid}/status") if line.startswith("VmSize"))
    # The process may grow by 32 MiB: the large runs' first tensors do not fit.
    resource.prlimit(pid, resource.RLIMIT_AS, (size + 32 * 2 ** 20, resource.RLIM_INFINITY))
    lab.load_stored_run(LARGE, None)  # as the History tab's "Load" does
    tick_until(lab, lambda: shown(lab, "Out of memory") or shown(lab, "killed"),
               what="the page says the process ran out of memory")
    assert "Traceback" not in lab.messages.shown[0] and "alloc_cpu" not in lab.messages.shown[0]
    trains_on(neighbour)
    recovers(lab)
    assert stored_steps(store)[0] == 3  # the run stored before stays


# ------------------------------------------------------------------------------------------------
# the pipe between the server and the training process
def test_the_servers_end_of_the_pipe_closed_ends_the_process_which_keeps_its_run(lab, store, neighbour):
    store_one_run(lab, store)
    train_steps(lab, 7)
    pid = lab.session.pid
    lab.session._conn.close()  # the server's end, as a broken connection leaves it
    wait_until(lambda: ended(pid), timeout=10, what="the training process ends, lingering not")
    wait_until(lambda: stored_steps(store) == [3, 7], what="the run that was training is stored")
    tick_until(lab, lambda: shown(lab, "its connection to the server closed"), what="the page says the process ended")
    trains_on(neighbour)
    recovers(lab)


def _dup_from(pid: int, fd: int) -> int:
    """A copy, in this process, of process ``pid``'s file descriptor ``fd`` (Linux's pidfd_getfd)."""
    pidfd = os.pidfd_open(pid)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        copy = libc.syscall(438, pidfd, fd, 0)  # SYS_pidfd_getfd, the same number on every architecture
        if copy < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        return copy
    finally:
        os.close(pidfd)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="reaching into another process's pipe needs Linux")
def test_the_processs_end_of_the_pipe_closed_is_told_as_its_end_and_it_keeps_its_run(lab, store, neighbour):
    """The training process's own socket shut down (its copy, taken from it): it reads the end of
    the pipe, keeps its run and ends; the server reads the end too and says so on the page."""
    store_one_run(lab, store)
    train_steps(lab, 7)
    pid = lab.session.pid
    sockets = [int(fd) for fd in os.listdir(f"/proc/{pid}/fd")
               if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")]
    assert len(sockets) == 1, "the pipe to the server is the training process's one socket"
    try:
        copy = socket.socket(fileno=_dup_from(pid, sockets[0]))
    except OSError as error:
        pytest.skip(f"pidfd_getfd is not allowed here: {error}")
    with copy:
        copy.shutdown(socket.SHUT_RDWR)  # one socket, whoever holds it: the process's end is closed
    wait_until(lambda: ended(pid), timeout=10, what="the training process ends")
    wait_until(lambda: stored_steps(store) == [3, 7], what="the run that was training is stored")
    tick_until(lab, lambda: shown(lab, "its connection to the server closed"), what="the page says the process ended")
    trains_on(neighbour)
    recovers(lab)


# ------------------------------------------------------------------------------------------------
# the run store
class Locked:
    """Another program's transaction on the store (BEGIN EXCLUSIVE), held until ``release()``."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.db.execute("ROLLBACK")
        self.db.close()


def test_a_locked_store_is_told_training_goes_on_and_the_run_is_stored_once_it_is_free(lab, store, neighbour):
    store_one_run(lab, store)
    train_steps(lab, 4)
    lock = Locked(store)
    try:
        click(lab.controls.reset_button)  # the run ends: the store is held by another program
        tick_until(lab, lambda: shown(lab, "not being kept in the run store yet"), what="the page's warning")
        warning = shown(lab, "not being kept")
        assert "busy" in warning and str(store) in warning and "Training goes on" in warning
        tick_until(lab, lambda: lab.session.steps == 0, what="the reset")
        train_steps(lab, 6)  # training goes on, the store still held
        trains_on(neighbour)
    finally:
        lock.release()
    assert stored_steps(store) == [3]  # what was stored before is intact
    click(lab.controls.reset_button)  # the next record point: the run that waited, and this one
    tick_until(lab, lambda: shown(lab, "took the 2 runs that waited"), what="the page says they are stored")
    assert stored_steps(store) == [3, 4, 6]


def test_a_lock_released_within_the_wait_only_delays_the_write(lab, store):
    train_steps(lab, 4)
    lock = Locked(store)
    threading.Timer(0.5, lock.release).start()
    click(lab.controls.reset_button)
    wait_until(lambda: stored_steps(store) == [4], what="the run is stored once the lock is released")
    tick_until(lab, lambda: lab.session.steps == 0, what="the reset")
    train_steps(lab, 2)  # the page has polled what came after the reset: a warning would be shown
    assert lab.messages.shown == []


# A page's server, in a process of its own with its own privileges or filesystem: its store breaks
# (MODE) after one run is stored, and is mended before the page stops. Prints what it saw as JSON.
BROKEN_STORE_PAGE = """
import json, os, sqlite3, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from waiting import wait_until
from ganlab_app.protocol import Message
from ganlab_app.session import LabSession, preset_settings
from gan_core.run_store import RunStore

MODE, STORE, FILLER = sys.argv[1], sys.argv[2], sys.argv[3]


def steps_stored():
    with RunStore(STORE) as store:
        return sorted(run["steps"] for run in store.runs(settings=False))


def steps_on_disk():  # the file as it lies: on a full disk SQLite has no room for a reader's -shm file
    db = sqlite3.connect(f"file:{{STORE}}?mode=ro&immutable=1", uri=True)
    try:
        return sorted(steps for steps, in db.execute("SELECT steps FROM runs"))
    finally:
        db.close()


def train(session, steps):
    first = session.steps
    for _ in range(steps):
        session.step_full()
    wait_until(lambda: session.steps == first + steps)


def reset(session):  # and wait for the new runs: their step count is what train() counts from
    session.reset()
    wait_until(lambda: session.steps == 0)


def break_store():
    if MODE == "read-only":
        os.chmod(STORE, 0o444)
    else:  # fill the disk to its last byte
        with open(FILLER, "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(bytes(4096))
            except OSError:
                pass


def mend_store():
    if MODE == "read-only":
        os.chmod(STORE, 0o644)
    else:
        os.remove(FILLER)


if __name__ == "__main__":
    os.environ["GANLAB_STORE"] = STORE
    small = {{**preset_settings("nonsaturating"), "batch_size": 64, "g_width": 32, "d_width": 32}}
    session = LabSession(small, steps_per_frame=5, min_frame_s=0.0)
    seen = {{"messages": []}}

    def messages():
        update = session.poll()
        if update is not None:
            seen["messages"] += [n.text for n in update.notices if isinstance(n, Message)]
        return seen["messages"]

    train(session, 3)
    reset(session)
    wait_until(lambda: steps_stored() == [3])
    break_store()
    train(session, 4)
    reset(session)  # this run cannot be stored
    wait_until(lambda: messages())
    train(session, 2)  # training goes on
    seen["stored while broken"] = steps_stored() if MODE == "read-only" else steps_on_disk()
    mend_store()
    session.stop()  # the runs that waited are stored as the process ends
    seen["stored at the end"] = steps_stored()
    seen["process ended"] = not session.alive
    print(json.dumps(seen), flush=True)
"""


def _run_page(tmp_path, wrapper: list[str], mode: str, store) -> dict:
    script = tmp_path / "page.py"
    script.write_text(BROKEN_STORE_PAGE.format(root=str(ROOT), tests=str(ROOT / "tests")))
    result = subprocess.run([*wrapper, sys.executable, str(script), mode, str(store), str(store.parent / "filler")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _told_and_kept(seen: dict, store, why: str) -> None:
    warning, *rest = seen["messages"]
    assert why in warning and str(store) in warning and "Training goes on" in warning
    assert rest == [], rest  # said once
    assert seen["stored while broken"] == [3]  # the run stored before is intact and readable
    assert seen["stored at the end"] == [2, 3, 4]  # the run that could not be stored, and the last
    assert seen["process ended"]


def test_a_read_only_store_is_told_and_its_runs_are_stored_once_it_is_writable(tmp_path):
    wrapper = []
    if os.geteuid() == 0:  # root writes any file: drop the capability that lets it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        wrapper = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    store = tmp_path / "runs.sqlite"
    _told_and_kept(_run_page(tmp_path, wrapper, "read-only", store), store, "read-only")


def _can_mount_in_a_namespace() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m none /mnt"],
                           capture_output=True, timeout=10)
    return probe.returncode == 0


def test_a_full_disk_is_told_and_its_runs_are_stored_once_there_is_room(tmp_path):
    """The store on a small filesystem of its own (a 4 MB tmpfs, in a mount namespace that ends
    with the test), filled to its last byte after the first run is stored."""
    if not _can_mount_in_a_namespace():
        pytest.skip("no user and mount namespaces here (unshare -rm) for a small filesystem of the test's own")
    disk = tmp_path / "disk"
    disk.mkdir()
    wrapper = ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size=4m none "{disk}" && exec "$0" "$@"']
    store = disk / "runs.sqlite"
    _told_and_kept(_run_page(tmp_path, wrapper, "full", store), store, "full")


@pytest.mark.parametrize("error, is_memory", [
    (MemoryError(), True),
    (RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory"), True),
    (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
    (RuntimeError("std::bad_alloc"), True),
    (RuntimeError("can't start new thread"), True),
    (OSError(errno.ENOMEM, "Cannot allocate memory"), True),
    (OSError(errno.ENOENT, "No such file or directory"), False),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied"), False),
    (ValueError("out of range"), False),
])
def test_an_allocation_that_failed_is_told_as_out_of_memory(error, is_memory):
    assert out_of_memory(error) is is_memory
