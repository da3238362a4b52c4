"""What the app costs its trainer without a browser (a benchmark, not a test).

    python bench/app_overhead.py [--seconds 8] [--rounds 2]

bench/app_speed.py measures training in the served app with headless Chromium on the same
machine. This separates the server's own share: a Lab (the app's default preset, playing) whose
tick runs on a second thread every PERIOD_MS as the server's loop would run it, with no page; the
same Lab with no ticks (no snapshots are taken then: the training process waits for the page to
take the last one); and a plain Trainer of the same settings on one torch thread, in interleaved
rounds.
"""

from __future__ import annotations

import argparse
import threading
import time


from app_speed import plain_rate  # noqa: E402  (bench/ is this script's folder)

from ganlab_app.lab import PERIOD_MS, Lab
from ganlab_app.session import DEFAULT_PRESET


def lab_rate(seconds: float, ticks: bool) -> float:
    lab = Lab(play=True)
    stop = threading.Event()

    def server_loop():
        while not stop.is_set():
            if ticks:
                lab.tick()
            time.sleep(PERIOD_MS / 1000)

    thread = threading.Thread(target=server_loop)
    thread.start()
    time.sleep(1.5)  # past the start
    first, start = lab.session.steps, time.perf_counter()
    time.sleep(seconds)
    rate = (lab.session.steps - first) / (time.perf_counter() - start)
    stop.set()
    thread.join()
    lab.stop()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{DEFAULT_PRESET}, steps/s (ratio to the plain trainer of the same round)")
    for _ in range(args.rounds):
        plain = plain_rate(args.seconds)
        ticking = lab_rate(args.seconds, ticks=True)
        idle = lab_rate(args.seconds, ticks=False)
        print(f"plain trainer {plain:.0f}; the lab ticking {ticking:.0f} ({ticking / plain:.2f}); "
              f"the lab, no ticks {idle:.0f} ({idle / plain:.2f})", flush=True)


if __name__ == "__main__":
    main()
