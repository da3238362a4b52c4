"""The lab as an installed package: its wheel installs beside another distribution that owns the
top-level `datasets` (Hugging Face's), and `gan-lab-serve` serves the installed lab from any
directory.

The wheels are built here from a copy of the repository (pip, without an isolated build
environment: nothing is downloaded) and installed with `pip install --target` into a folder that
a subprocess puts first on its path; the subprocess runs outside the repository, whose folders
`datasets/` and `app/` would otherwise be importable from the working directory."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from ganlab_app.local_server import free_port

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCE = {".git", ".venv", "build", "test-results", "runs", "docs", "bench", "tests"}
STAND_IN_MARKER = "stand-in for Hugging Face datasets"
START_TIMEOUT_S = 90  # imports torch and Panel, then the trainers' forkserver, on a busy two-core machine


def pip(*args, cwd=None) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], cwd=cwd, check=True)


def build_wheel(source: Path, out: Path) -> Path:
    pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(source))
    return next(out.glob("*.whl"))


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    """(the lab's wheel, the stand-in `datasets` wheel)."""
    folder = tmp_path_factory.mktemp("wheels")
    source = folder / "lab-source"  # setuptools writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, source, ignore=lambda where, names: [
        n for n in names if (Path(where) == ROOT and n in NOT_SOURCE) or n == "__pycache__" or n.endswith(".egg-info")])
    lab = build_wheel(source, folder / "lab")

    stand_in = folder / "stand-in"
    (stand_in / "datasets").mkdir(parents=True)
    (stand_in / "datasets" / "__init__.py").write_text(f"MARKER = {STAND_IN_MARKER!r}\n")
    (stand_in / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "datasets"\nversion = "99.0"\n[tool.setuptools]\npackages = ["datasets"]\n')
    return lab, build_wheel(stand_in, folder / "datasets")


def installed(wheels: list[Path], target: Path) -> Path:
    for wheel in wheels:
        pip("install", "--no-deps", "--target", str(target), str(wheel))
    return target


def run_outside(code: str, target: Path, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**os.environ, "PYTHONPATH": str(target)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_wheel_holds_the_lab_under_its_own_names(wheels):
    names = zipfile.ZipFile(wheels[0]).namelist()
    top = {name.split("/")[0] for name in names}
    assert {"gan_core", "ganlab_datasets", "ganlab_app"} <= top
    assert not top & {"datasets", "app", "tests", "bench"}, f"top-level names that collide: {sorted(top)}"
    for needed in ["ganlab_app/main.py", "ganlab_app/app_hooks.py", "ganlab_app/serve.py",
                   "ganlab_app/js/canvas.js", "ganlab_app/js/packed.js", "ganlab_app/js/ticks.js",
                   "ganlab_results/claims.json"]:
        assert needed in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "gan-lab-serve = ganlab_app.serve:main" in zipfile.ZipFile(wheels[0]).read(entry_points).decode()


@pytest.mark.parametrize("lab_first", [True, False], ids=["lab-then-datasets", "datasets-then-lab"])
def test_the_lab_installs_beside_a_top_level_datasets(wheels, tmp_path, lab_first):
    lab, stand_in = wheels
    target = installed([lab, stand_in] if lab_first else [stand_in, lab], tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = run_outside(
        "import datasets, ganlab_datasets, gan_core, ganlab_app\n"
        "print(datasets.MARKER)\n"
        "for module in (ganlab_datasets, gan_core, ganlab_app):\n"
        "    print(module.__file__)\n"
        "print(ganlab_datasets.ParameterError.__name__)\n", target, elsewhere)
    lines = out.splitlines()
    assert lines[0] == STAND_IN_MARKER, "the other distribution's `datasets` is the one imported"
    for path in lines[1:4]:
        assert Path(path).is_relative_to(target), f"imported from outside the installation: {path}"
    assert lines[4] == "ParameterError"


def wait_for_page(url: str, server: subprocess.Popen) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
                return response.read().decode()
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"the server did not answer {url}:\n{server.communicate()[0]}")
            time.sleep(0.3)


def test_gan_lab_serve_serves_the_installed_lab_from_any_directory(wheels, tmp_path):
    target = installed([wheels[0]], tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [str(target / "bin" / "gan-lab-serve"), "--port", str(port), "--address", "127.0.0.1",
         "--allow-websocket-origin", f"127.0.0.1:{port}"],
        cwd=elsewhere, env={**os.environ, "PYTHONPATH": str(target)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page = wait_for_page(f"http://127.0.0.1:{port}/app", server)
        assert "<title>GAN Stability Lab</title>" in page, "the lab's page (an app that failed is untitled)"
    finally:
        server.send_signal(signal.SIGINT)  # as Ctrl-C: the server stops its loop and its processes
        try:
            log = server.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            log = server.communicate()[0]
    assert f"GAN Stability Lab at http://127.0.0.1:{port}/app" in log
    assert f"(serving {target / 'ganlab_app'})" in log, log
    assert "Traceback" not in log, log


def serve_command() -> str:
    script = Path(sys.executable).parent / "gan-lab-serve"
    if not script.exists():
        pytest.fail(f"{script} is missing: reinstall the lab (pip install -e .)")
    return str(script)


@pytest.mark.parametrize("args, env, expected", [
    (["--port", "70000"], {}, "argument --port: must be a whole number from 0 to 65535"),
    (["--port", "five"], {}, "argument --port: must be a whole number from 0 to 65535"),
    (["--allow-websocket-origin", "localhost:abc"], {}, "argument --allow-websocket-origin: must be HOST or HOST:PORT"),
    (["--port", "0"], {"GANLAB_THREADS": "0"}, "parameter 'GANLAB_THREADS' must be a whole number >= 1"),
    (["--port", "0"], {"GANLAB_DEVICE": "abacus"}, "parameter 'GANLAB_DEVICE' must be"),
], ids=["port-range", "port-text", "origin", "threads", "device"])
def test_gan_lab_serve_says_what_is_wrong_with_a_bad_option(tmp_path, args, env, expected):
    result = subprocess.run([serve_command(), *args], cwd=tmp_path, env={**os.environ, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_gan_lab_serve_says_when_its_port_is_taken(tmp_path):
    with socket.socket() as taken:  # something else listens on the port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([serve_command(), "--port", str(port), "--address", "127.0.0.1"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert f"gan-lab-serve: cannot listen on 127.0.0.1 port {port}" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.stderr
