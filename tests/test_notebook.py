"""The lab in a Jupyter notebook: a cell ending in `Lab()` shows it, and it trains.

A real notebook file runs in a real kernel (nbclient + ipykernel), as Jupyter would run it; the
test reads the executed notebook's outputs. The kernel is this interpreter (a kernelspec written
into the test's folder), so it imports the lab this test run imports."""

import json
import sys

import nbformat
from nbclient import NotebookClient

CELL_TIMEOUT_S = 120  # a cell that imports torch and Panel, on a busy two-core machine
KERNEL = "ganlab-test"

CELLS = [
    "import panel as pn\npn.extension()",
    "from ganlab_app import Lab\nLab()",
    "lab = _  # the lab the cell above shows",
    # The training process counts its steps where this process reads them; the page's periodic
    # callback is not needed for that (it runs only while no cell runs).
    "import time\n"
    f"deadline = time.monotonic() + {CELL_TIMEOUT_S - 20}\n"
    "while lab.session.steps < 20 and time.monotonic() < deadline:\n"
    "    time.sleep(0.2)\n"
    "print('steps', lab.session.steps)",
    "lab.stop()\nprint('training process alive', lab.session.alive)",
]


def kernel_spec(folder) -> None:
    """A kernel that runs this Python (jupyter_client finds it through JUPYTER_PATH)."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "GAN Stability Lab tests", "language": "python"}))


def run_notebook(tmp_path, monkeypatch):
    kernel_spec(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    path = tmp_path / "lab.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS]), path)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=CELL_TIMEOUT_S, startup_timeout=CELL_TIMEOUT_S, kernel_name=KERNEL,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return notebook


def printed(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def test_a_cell_ending_in_lab_shows_it_and_it_trains(tmp_path, monkeypatch):
    notebook = run_notebook(tmp_path, monkeypatch)
    errors = [output for cell in notebook.cells for output in cell.outputs if output.output_type == "error"]
    assert errors == []

    shown = [output for output in notebook.cells[1].outputs if output.output_type == "execute_result"]
    assert len(shown) == 1, "the cell's last expression, Lab(), is its result"
    bundle = shown[0].data
    # Panel's notebook rendering: the Bokeh document (the lab's models) in the HTML, run by
    # Panel's JupyterLab extension through this MIME type.
    assert "application/vnd.holoviews_exec.v0+json" in bundle
    assert "docs_json" in bundle["text/html"]
    assert "Reset the run" in bundle["text/html"] and "lab-numbers" in bundle["text/html"], \
        "the lab's own widgets are in the shown document"

    steps = printed(notebook.cells[3])
    assert steps.startswith("steps "), steps
    assert int(steps.split()[1]) >= 20, f"the lab did not train: {steps!r}"
    assert printed(notebook.cells[4]).strip() == "training process alive False"
