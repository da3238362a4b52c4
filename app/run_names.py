"""How runs side by side are named on the page: A, B, C... in titles, legends and the "Now" table."""


def run_letter(index: int) -> str:
    """Runs side by side are A, B, C..."""
    return chr(ord("A") + index)


def model_suffix(index: int) -> str:
    """Bokeh model names must be unique in a page: the first run's data view keeps its plain name
    (tests and benchmarks look it up), the others get "_b", "_c"..."""
    return f"_{run_letter(index).lower()}" if index else ""
