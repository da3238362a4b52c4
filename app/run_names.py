"""How runs side by side are named on the page: A, B, C... in titles, legends, the "Now" table and
the sidebar's line on the run it edits."""


def run_letter(index: int) -> str:
    """Runs side by side are A, B, C..."""
    return chr(ord("A") + index)


def model_suffix(index: int) -> str:
    """Bokeh model names must be unique in a page: the first run's data view keeps its plain name
    (tests and benchmarks look it up), the others get "_b", "_c"..."""
    return f"_{run_letter(index).lower()}" if index else ""


def editing_text(names: list[str]) -> str:
    """What the sidebar says side by side: its changes edit the last run, except what every run
    shares to stay comparable."""
    if len(names) < 2:
        return ""
    last = len(names) - 1
    return (f"Editing run **{run_letter(last)}: {names[last]}**. Data, networks, objective and seed change in "
            f"every run.")
