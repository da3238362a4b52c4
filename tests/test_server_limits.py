"""The server's class limits without a browser: the limits read from the environment (and
gan-lab-serve's options) with their messages, training places claimed under concurrency, the
idle pause, the lecturer's token and its "Stop training", the busy page, and the caps on a page's
comparison and upload."""

import os
import threading
import time

import panel as pn
import pytest
from waiting import tick_until, wait_until

from ganlab_app import app_hooks, serve, server_limits
from ganlab_app.activity import IdlePause, idle_text
from ganlab_app.busy_page import BusyPage, busy_text
from ganlab_app.classroom import CLASSROOM, Classroom
from ganlab_app.comparison import ComparisonView
from ganlab_app.lab import Lab
from ganlab_app.lecturer_page import NEEDS_TOKEN, LecturerPage, token_accepted
from ganlab_app.server_limits import ENV, ServerLimits, default_max_trainers, limits
from ganlab_app.session import LabSession, preset_settings
from ganlab_app.upload import UploadPanel
from ganlab_datasets import ParameterError
from gan_core.run_store import RunStore

SMALL = {**preset_settings("nonsaturating"), "batch_size": 64, "g_width": 32, "d_width": 32}


@pytest.fixture
def env(monkeypatch):
    """No limit set (empty is unset): each test sets the ones it needs, and what it sets goes."""
    for variable in ENV.values():
        monkeypatch.setenv(variable, "")
    return monkeypatch


# ----------------------------------------------------------------------------------------------
# the limits
def test_unset_limits_take_their_defaults(env):
    got = limits()
    assert got == ServerLimits(max_trainers=got.max_trainers, max_runs_per_page=64, max_compare_steps=1_000_000,
                               max_upload_mb=20.0, idle_minutes=10.0, lecturer_token=got.lecturer_token)
    assert got.max_trainers == default_max_trainers(memory_mb=server_limits.available_memory_mb())
    assert got.max_upload_bytes == 20 * 2 ** 20
    assert len(got.lecturer_token) >= 16 and limits().lecturer_token == got.lecturer_token  # once per server process


def test_the_default_trainers_leave_a_core_to_the_server_and_500_mb_each():
    assert default_max_trainers(cores=2, memory_mb=8000) == 1
    assert default_max_trainers(cores=8, memory_mb=16_000) == 7
    assert default_max_trainers(cores=16, memory_mb=2100) == 4  # memory binds: 2100 // 500
    assert default_max_trainers(cores=1, memory_mb=100) == 1  # at least one page trains
    assert default_max_trainers(cores=4, memory_mb=None) == 3  # memory unknown: the cores decide


def test_set_limits_are_read(env):
    for name, text in {"max_trainers": "3", "max_runs_per_page": "12", "max_compare_steps": "500",
                       "max_upload_mb": "0.5", "idle_minutes": "0", "lecturer_token": "class-of-2025"}.items():
        env.setenv(ENV[name], text)
    assert limits() == ServerLimits(3, 12, 500, 0.5, 0.0, "class-of-2025")
    assert limits().max_upload_bytes == 2 ** 19


@pytest.mark.parametrize("variable, text, allowed", [
    ("GANLAB_MAX_TRAINERS", "0", "a whole number from 1 to 1000"),
    ("GANLAB_MAX_TRAINERS", "two", "a whole number from 1 to 1000"),
    ("GANLAB_MAX_RUNS_PER_PAGE", "1", "a whole number from 2 to 3200"),
    ("GANLAB_MAX_RUNS_PER_PAGE", "3201", "a whole number from 2 to 3200"),
    ("GANLAB_MAX_COMPARE_STEPS", "-5", "a whole number from 1 to 10000000"),
    ("GANLAB_MAX_UPLOAD_MB", "0", "a number more than 0 to 20"),
    ("GANLAB_MAX_UPLOAD_MB", "21", "a number more than 0 to 20"),
    ("GANLAB_IDLE_MINUTES", "nan", "a number from 0 to 1440"),
    ("GANLAB_IDLE_MINUTES", "-1", "a number from 0 to 1440"),
    ("GANLAB_LECTURER_TOKEN", "short", "at least 8 (at most 200) letters, digits, '-' or '_'"),
])
def test_a_bad_limit_names_its_variable_and_range(env, variable, text, allowed):
    env.setenv(variable, text)
    with pytest.raises(ParameterError) as error:
        limits()
    assert str(error.value).startswith(f"parameter '{variable}' must be {allowed} (got ")


def test_a_bad_token_is_not_repeated_in_its_message(env):
    env.setenv("GANLAB_LECTURER_TOKEN", "secret word")
    with pytest.raises(ParameterError) as error:
        limits()
    assert "secret" not in str(error.value) and "11 characters, among them ' '" in str(error.value)


def test_the_bounds_match_what_the_tab_and_the_parser_allow():
    from ganlab_datasets.user_data import MAX_CSV_BYTES
    from gan_core.compare import MAX_SEEDS
    from gan_core.config import Experiment
    assert server_limits.MAX_RUNS_PER_PAGE == server_limits.MAX_ARMS * MAX_SEEDS
    assert server_limits.MAX_STEPS == Experiment.param.steps.bounds[1]
    assert server_limits.MAX_UPLOAD_MB * 2 ** 20 == MAX_CSV_BYTES
    view = ComparisonView(lambda: ("nonsaturating", dict(SMALL)))
    while len(view.arms) < server_limits.MAX_ARMS:
        view.add_arm()
    with pytest.raises(StopIteration):  # the tab names no arm beyond MAX_ARMS
        view.add_arm()


def test_a_bad_limit_stops_the_server_at_start_with_its_message(env):
    env.setenv("GANLAB_IDLE_MINUTES", "ten")
    with pytest.raises(SystemExit) as stopped:
        app_hooks.on_server_loaded(None)
    assert str(stopped.value) == ("GAN Stability Lab server: parameter 'GANLAB_IDLE_MINUTES' must be a number "
                                  "from 0 to 1440 (got ten)")


def test_the_server_prints_the_lecturers_address_at_start(env, capsys):
    env.setenv("GANLAB_LECTURER_TOKEN", "lecture-token-1")
    env.setattr(app_hooks, "start_training_server", lambda wait: None)

    class Context:
        application_context = type("Application", (), {"url": "/app"})()
    app_hooks.on_server_loaded(Context())
    assert "/app?lecturer=lecture-token-1" in capsys.readouterr().out


def test_gan_lab_serve_options_set_the_limits(env):
    args = serve.parser().parse_args(["--max-trainers", "4", "--idle-minutes", "2.5", "--lecturer-token",
                                      "abcdefgh12"])
    serve.set_limits(args)
    assert (limits().max_trainers, limits().idle_minutes, limits().lecturer_token) == (4, 2.5, "abcdefgh12")
    with pytest.raises(SystemExit) as stopped:
        serve.set_limits(serve.parser().parse_args(["--max-upload-mb", "50"]))
    assert str(stopped.value) == "gan-lab-serve: --max-upload-mb must be a number more than 0 to 20 (got 50)"


def test_the_options_help_gives_the_limits_ranges():
    """The help is written before torch is imported: its ranges must be the limits' own."""
    helps = {name: text for name, _, _, text in serve.LIMIT_OPTIONS}
    assert f"1 to {server_limits.MAX_TRAINERS}" in helps["max_trainers"]
    assert f"2 to {server_limits.MAX_RUNS_PER_PAGE} (default {server_limits.DEFAULT_RUNS_PER_PAGE})" \
        in helps["max_runs_per_page"]
    assert f"1 to {server_limits.MAX_STEPS} (default {server_limits.DEFAULT_COMPARE_STEPS})" \
        in helps["max_compare_steps"]
    assert f"to {server_limits.MAX_UPLOAD_MB}" in helps["max_upload_mb"]
    assert f"0 to {server_limits.MAX_IDLE_MINUTES}" in helps["idle_minutes"]
    assert f"default {server_limits.DEFAULT_IDLE_MINUTES:g})" in helps["idle_minutes"]


# ----------------------------------------------------------------------------------------------
# training places
def test_places_are_claimed_race_free():
    """Forty pages built at once against three places: exactly three train; a freed place is
    claimed again."""
    classroom, start = Classroom(), threading.Barrier(40)
    claimed = []

    def open_page():
        start.wait()
        claimed.append(classroom.claim_place(3))
    threads = [threading.Thread(target=open_page) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    places = [page for page in claimed if page is not None]
    assert len(places) == 3 and len({page.code for page in places}) == 3
    assert classroom.trainers() == sorted(places, key=lambda page: page.opened)
    classroom.add("follower", follows=places[0].code)
    classroom.add("busy")
    assert classroom.claim_place(3) is None  # followers and busy pages hold no place
    classroom.remove(places[1])
    assert classroom.claim_place(3) is not None
    assert classroom.claim_place(3) is None


def test_the_lecturer_stops_a_pages_training_and_frees_its_place():
    classroom = Classroom()
    place = classroom.claim_place(1)
    session = LabSession(settings=SMALL, play=True)
    page = classroom.seat(place, session)
    assert page is place and page.session is session and classroom.session_of(page.code) is session
    assert classroom.claim_place(1) is None
    lecturer = LecturerPage(classroom)
    assert lecturer.places.object == f"Training places in use: **1 of {limits().max_trainers}**"
    assert list(lecturer.stop_buttons) == [page.code]
    assert list(lecturer.table.object["code"]) == [page.code, lecturer.page.code]
    assert list(lecturer.table.object["role"]) == ["trainer", "lecturer"]
    lecturer.stop_buttons[page.code].clicks += 1  # what a click in the browser does
    assert page.stopped and f"Stopped the training of page {page.code}" in lecturer.said.object
    wait_until(lambda: not session.alive, timeout=10, what="the training process ends")
    assert lecturer.stop_buttons == {} and classroom.claim_place(1) is not None
    assert not classroom.stop_training(page.code)  # it trains no longer


def test_a_stopped_lab_says_so_and_offers_to_follow_or_reload():
    lab = Lab(play=True, query="?preset=nonsaturating&seed=4")
    try:
        other = CLASSROOM.seat(CLASSROOM.claim_place(1000), session=None)
        lab.page = CLASSROOM.seat(CLASSROOM.claim_place(1000), lab.session)  # as a served page registers
        assert CLASSROOM.stop_training(lab.page.code)
        lab.tick()
        notice = lab.main.objects[0]
        assert "The lecturer stopped this page's training" in notice.object
        assert f"[{other.code}](?follow={other.code})" in notice.object
        assert "(?preset=nonsaturating&seed=4)" in notice.object
        assert all(widget.disabled for widget in lab.controls.__panel__().select(pn.widgets.Widget))
        wait_until(lambda: not lab.session.alive, timeout=10, what="the training process ends")
    finally:
        lab.stop()
        CLASSROOM.remove(other)


def test_the_lecturers_token_is_checked():
    assert token_accepted("right-token-1", "right-token-1")
    assert not token_accepted("wrong-token-1", "right-token-1")
    assert not token_accepted("right-token", "right-token-1")
    assert not token_accepted(None, "right-token-1")
    assert not token_accepted("", "right-token-1")
    assert "lecturer's link" in NEEDS_TOKEN


def test_the_busy_page_lists_the_pages_to_follow_and_reloads_when_a_place_is_free(env):
    env.setenv("GANLAB_MAX_TRAINERS", "1")
    classroom = Classroom()
    session = LabSession(settings=SMALL, preset="nonsaturating")
    try:
        trainer = classroom.seat(classroom.claim_place(1), session)
        busy = BusyPage(classroom)
        assert busy.heading.object.startswith(f"## {busy_text(1, 1)}")
        assert busy_text(1, 1) == "The lab is busy: 1 of 1 training places are in use"
        assert f"[Follow {trainer.code}](?follow={trainer.code}): nonsaturating, step 0" in busy.running.object
        assert [page.role for page in classroom.pages()] == ["trainer", "busy"]
        reloads = []
        busy.reloader.reload = lambda: reloads.append(True)
        busy.start()
        busy.check()
        assert reloads == [] and not busy.place_free
        classroom.remove(trainer)  # the page closed
        busy.check()
        assert reloads == [True] and busy.place_free
        busy.stop()
        assert classroom.pages() == []
    finally:
        session.stop()


# ----------------------------------------------------------------------------------------------
# the idle pause
class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_an_idle_page_pauses_once_per_spell():
    clock, paused, told, playing = Clock(), [], [], [True]
    idle = IdlePause(2, pause=lambda: (paused.append(True), playing.__setitem__(0, False)),
                     playing=lambda: playing[0], tell=told.append, clock=clock)
    idle.page = Classroom().add("trainer")
    clock.now += 119
    assert not idle.check() and paused == []
    clock.now += 2
    assert idle.check() and paused == [True] and told == [idle_text(2)]
    assert told == ["Paused after 2 minutes without interaction: press Play to go on."]
    playing[0] = True  # played again from elsewhere: the spell is over, nothing more is said
    clock.now += 600
    assert not idle.check() and paused == [True]
    idle.touch()
    assert idle.page.active == clock.now
    clock.now += 121
    assert idle.check() and paused == [True, True]


def test_no_idle_pause_at_zero_minutes_or_when_paused():
    clock, paused = Clock(), []
    never = IdlePause(0, pause=lambda: paused.append(True), playing=lambda: True, tell=print, clock=clock)
    stopped = IdlePause(1, pause=lambda: paused.append(True), playing=lambda: False, tell=print, clock=clock)
    clock.now += 10 ** 6
    assert not never.check() and not stopped.check() and paused == []


def test_a_lab_nobody_uses_pauses_and_a_widget_change_counts_as_use(env):
    env.setenv("GANLAB_IDLE_MINUTES", "0.01")  # 0.6 s
    lab = Lab(play=True)
    try:
        tick_until(lab, lambda: lab.session.playing, what="the lab trains")
        tick_until(lab, lambda: not lab.session.playing, timeout=30, what="the idle pause")
        assert idle_text(0.01) in lab.messages.shown
        assert lab.idle.idle_s >= 0.6
        lab.controls.play_button.clicks += 1  # Play: the page is used again
        assert lab.idle.idle_s < 0.5
        tick_until(lab, lambda: lab.session.playing, what="the lab trains again")
        time.sleep(0.3)
        lab.controls.experiment.lr_g = 0.0003  # a setting changed is use too
        assert lab.idle.idle_s < 0.2
        lab.idle.browser._handle_msg({"kind": "active"})  # what app/js/activity.js sends
        assert lab.idle.idle_s < 0.2
    finally:
        lab.stop()



def test_an_idle_page_gives_its_place_to_a_waiting_page_unless_others_follow_it(env):
    env.setenv("GANLAB_IDLE_MINUTES", "0.01")  # 0.6 s
    lab = Lab(play=True, query="?preset=nonsaturating&seed=4321")
    lab.page = CLASSROOM.seat(CLASSROOM.claim_place(1000), lab.session)  # as a served page registers
    follower, busy = lab.session.follow(), None
    try:
        tick_until(lab, lambda: lab.session.steps > 0 and lab.idle.idle, timeout=30, what="an idle page")
        lab.tick()
        assert lab.page.stopped is None  # nobody waits: the idle page keeps its place
        busy = CLASSROOM.add("busy")
        for _ in range(3):
            lab.tick()
        assert lab.page.stopped is None and lab.page in CLASSROOM.trainers()  # it is followed: in use
        follower.close()
        tick_until(lab, lambda: lab.page.stopped == "idle", what="the place given up")
        assert lab.page not in CLASSROOM.trainers()
        lab.tick()
        notice = lab.main.objects[0].object
        assert "after 0.01 minutes without use" in notice and "a page that was waiting" in notice
        assert lab.messages.shown == []  # its idle pause's "press Play to go on" no longer holds
        assert lab.controls.play_button.disabled and lab.controls.reset_button.disabled
        assert "(?preset=nonsaturating&seed=4321)" in notice  # reload to train again
        wait_until(lambda: not lab.session.alive, timeout=10, what="the training process ends")
        kept = RunStore(os.environ["GANLAB_STORE"]).runs(limit=20)
        assert any(run["seed"] == 4321 and run["steps"] > 0 for run in kept)  # its run is stored
    finally:
        lab.stop()
        if busy is not None:
            CLASSROOM.remove(busy)

# ----------------------------------------------------------------------------------------------
# a page's comparison and upload
def test_the_comparison_is_capped_by_the_servers_limits(env):
    env.setenv("GANLAB_MAX_RUNS_PER_PAGE", "10")
    env.setenv("GANLAB_MAX_COMPARE_STEPS", "300")
    paused = []
    view = ComparisonView(lambda: ("nonsaturating", dict(SMALL)), pause_lab=lambda: paused.append(True))
    assert view.steps.value == 300  # the tab's default budget, cut to the server's
    view.seeds.value = 6
    view.run_button.clicks += 1
    assert view.process is None and paused == []
    assert view.error.object == ("Not started: parameter 'arms × seeds' must be at most 10 runs on this server "
                                 "(got 2 × 6 = 12)")
    view.seeds.value = 5
    view.steps.value = 301
    view.run_button.clicks += 1
    assert view.process is None and paused == []
    assert view.error.object == ("Not started: parameter 'steps per run' must be an integer in [1, 300] on this "
                                 "server (got 301)")
    view.steps.value = 300
    spec, planned = view.checked()
    assert len(planned) * spec.seeds == 10 and spec.steps == 300


def test_an_upload_over_the_servers_limit_is_refused_unsent(env):
    env.setenv("GANLAB_MAX_UPLOAD_MB", "0.001")
    applied = []
    panel = UploadPanel(apply=lambda family, params: applied.append(family))
    assert panel.file.max_bytes == 1049
    panel.file._handle_msg({"kind": "start", "serial": 1, "name": "big.csv", "size": 2000})  # as upload.js announces it
    assert applied == [] and panel.error.visible
    assert panel.error.object == ("big.csv: parameter 'csv upload' must be a file of at most 0.001 MiB on this "
                                  "server (got 2000 bytes)")
