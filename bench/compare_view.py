"""What the Compare tab's live views cost the server, beside what the lab's own frames cost it (a
benchmark, not a test).

    python bench/compare_view.py [--frames 40] [--repeats 5] [--out results/compare_view.json]

One Lab page (the default preset, playing) is rendered into a Bokeh document in this process, as
a served page's is, and its tick runs as the server's loop runs it: the time of each tick that drew
a frame is the lab's per-frame cost. Then the lab pauses (as it does while a comparison trains) and
the comparison's views join the same document: each refresh (app/comparison_charts.py: every
metric's chart fed through its pipe, the small multiples of every run) is timed under
pn.io.hold(), median of ``--repeats``, for 1-5 metrics x 2-4 arms and 2 x 10 to 4 x 32 runs; and,
against the pipes, re-rendering the charts by replacing the pane's object. Times are the server's
Python work (models updated, HoloViews' plotting); sending the changes to a browser comes on top,
for the lab's frames and the comparison alike. The page's refresh cadence follows from these
(docs/comparing-in-the-app.md). Read the load average printed with them: other busy processes
skew every figure.
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import time

import numpy as np
import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc

from ganlab_app.comparison_charts import BandCharts, SampleGrid, band_chart, style_band
from ganlab_app.lab import PERIOD_MS, Lab
from gan_core.files import save_json

METRICS = ["modes_captured", "sample_distance", "hq_fraction", "modes_covered", "reverse_kl"]
POINTS = 20  # a curve's points (about CURVE_POINTS evaluations over the budget)
SAMPLES = 300  # per run in the small multiples
HOLD_FREEZES = "freeze" in inspect.signature(pn.io.hold).parameters


def curves(metrics: list[str], arms: list[str], rng) -> dict:
    step = np.arange(1, POINTS + 1) * 100
    out = {}
    for metric in metrics:
        out[metric] = {}
        for arm in arms:
            mean = rng.random(POINTS)
            out[metric][arm] = {"step": step, "mean": mean, "low": mean - 0.1, "high": mean + 0.1,
                                "n": np.full(POINTS, 10)}
    return out


def timed(doc, update, repeats: int, freeze: bool = False) -> float:
    """Median seconds of ``update()`` under pn.io.hold on ``doc``."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        with pn.io.hold(doc, **({"freeze": True} if freeze else {})):
            update()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def lab_frames(lab: Lab, doc, frames: int) -> list[float]:
    """The lab's tick, timed where it drew a new frame."""
    costs = []
    deadline = time.time() + 60
    while len(costs) < frames and time.time() < deadline:
        before = lab.session.frames_received
        start = time.perf_counter()
        lab.tick()
        took = time.perf_counter() - start
        if lab.session.frames_received != before or took > 0.002:
            costs.append(took)
        time.sleep(PERIOD_MS / 1000)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="lab frames timed")
    parser.add_argument("--repeats", type=int, default=5, help="refreshes timed per configuration")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    doc = Document()
    result = {"load_average": os.getloadavg(), "hold_freezes": HOLD_FREEZES}
    with set_curdoc(doc):
        lab = Lab(play=True)
        lab.__panel__().server_doc(doc)
        time.sleep(1.5)  # past the first frames
        frames = lab_frames(lab, doc, args.frames)
        lab.session.pause()
        result["lab_frame_ms"] = {"median": 1000 * statistics.median(frames), "p90": 1000 * np.quantile(frames, 0.9),
                                  "frames": len(frames), "per_second_at_11_fps_ms": 11000 * statistics.median(frames)}
        live = lab.comparison.live
        bands = []
        for n_arms in (2, 4):
            arms = [f"arm{k}" for k in range(n_arms)]
            for n_metrics in (1, 3, 5):
                charts = BandCharts(METRICS[:n_metrics], arms)
                live.objects = [charts.pane]
                data = [curves(METRICS[:n_metrics], arms, rng) for _ in range(args.repeats)]
                feed = iter(data * 2)
                pipe = timed(doc, lambda: charts.update(next(feed)), args.repeats)
                frozen = timed(doc, lambda: charts.update(next(feed)), args.repeats, freeze=True) if HOLD_FREEZES else None
                panes = list(charts.pane.objects)
                feed = iter(data)

                def replace():
                    batch = next(feed)
                    for pane, metric in zip(panes, METRICS[:n_metrics]):
                        pane.object = style_band(band_chart(metric, arms, batch[metric]))
                rerender = timed(doc, replace, args.repeats)
                bands.append({"metrics": n_metrics, "arms": n_arms, "pipe_ms": 1000 * pipe,
                              "pipe_frozen_ms": None if frozen is None else 1000 * frozen, "rerender_ms": 1000 * rerender})
                print(f"bands {n_metrics} metric(s) x {n_arms} arms: pipe {1000 * pipe:.0f} ms"
                      + ("" if frozen is None else f", pipe with frozen references {1000 * frozen:.0f} ms")
                      + f", re-render {1000 * rerender:.0f} ms", flush=True)
        result["bands"] = bands
        grids = []
        for n_arms, n_seeds in ((2, 10), (4, 10), (4, 32)):
            arms, seeds = [f"arm{k}" for k in range(n_arms)], list(range(n_seeds))
            box = (np.array([-2.0, -2.0]), np.array([2.0, 2.0]))
            grid = SampleGrid(arms, seeds, {arm: rng.standard_normal((400, 2)) for arm in arms},
                              {arm: box for arm in arms}, dim=2)
            live.objects = [grid.pane]
            feed = iter([({arm: [rng.standard_normal((SAMPLES, 2)).astype(np.float32) for _ in seeds] for arm in arms},
                          {arm: [False] * n_seeds for arm in arms}) for _ in range(args.repeats)])
            cost = timed(doc, lambda: grid.update(*next(feed)), args.repeats)
            grids.append({"arms": n_arms, "seeds": n_seeds, "pipe_ms": 1000 * cost})
            print(f"small multiples {n_arms} arms x {n_seeds} seeds: {1000 * cost:.0f} ms", flush=True)
        result["small_multiples"] = grids
        lab.stop()
    result["lab"] = (f"lab frame: median {result['lab_frame_ms']['median']:.1f} ms, p90 {result['lab_frame_ms']['p90']:.1f} ms "
                     f"over {len(frames)} frames (~{result['lab_frame_ms']['per_second_at_11_fps_ms']:.0f} ms of server time "
                     f"a second at 11 frames/s)")
    print(result["lab"])
    print(f"load average {result['load_average'][0]:.2f}")
    if args.out:
        save_json(args.out, result)


if __name__ == "__main__":
    main()
