"""The set-up files agree with each other (pip vs conda, README vs CI vs Makefile), and they
declare every distribution the code imports."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch", "ray": "ray-core"}  # pip name -> conda-forge name, where they differ


def split_requirement(text: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", text).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(split_requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    pip = {CONDA_NAMES.get(name, name): spec for name, spec in pip.items()}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(split_requirement(d) for d in environment["dependencies"] if isinstance(d, str))
    python = conda.pop("python")
    conda.pop("pip")
    assert conda == pip
    assert python == project["requires-python"]


def readme_commands() -> list[str]:
    """The commands in the README's first code block, in order."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_opens_with_serve_and_test_commands_and_ci_runs_the_test_one():
    serve, test = readme_commands()[:2]
    assert "panel serve app" in serve and "pytest" in test
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci[-1] == test, "the CI script must end with exactly the README's test command"


def distribution(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {distribution(split_requirement(r)[0]) for r in requirements}


def imported_top_level_names(folders: list[str], inside_functions: bool = True) -> dict[str, str]:
    """Top-level modules that the Python files under these folders import (absolute imports, at
    any depth of the code, or with ``inside_functions`` False only those outside a function), each
    with one file that imports it; the standard library left out."""
    found = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            nodes = ast.walk(tree) if inside_functions else _outside_functions(tree)
            for node in nodes:
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _outside_functions(tree: ast.AST):
    """The nodes of ``tree`` that no function's body holds."""
    for node in ast.iter_child_nodes(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
            yield from _outside_functions(node)


def test_every_imported_distribution_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    package_dirs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    ours = set(package_dirs)  # gan_core, ganlab_datasets, ganlab_app
    runtime = requirement_names(project["dependencies"])
    tests = runtime | requirement_names(project["optional-dependencies"]["test"])
    # An optional extra's distributions are imported inside the functions that use them only, so
    # the lab imports and runs without them (ray: sweeps as Ray tasks).
    optional = runtime | requirement_names(project["optional-dependencies"]["cluster"])
    # the tests' and benchmarks' own helper modules (conftest, waiting, plain_loop, ...)
    helpers = {path.stem for folder in ("tests", "bench") for path in (ROOT / folder).glob("*.py")}
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for folders, declared, where, inside in [
            (list(package_dirs.values()), runtime, "dependencies", False),
            (list(package_dirs.values()), optional, "dependencies + the cluster extra", True),
            (["tests", "bench"], tests, "dependencies + the test extra", True)]:
        for module, importer in imported_top_level_names(folders, inside).items():
            if module in ours or module in helpers:
                continue
            providers = {distribution(d) for d in distributions.get(module, [])}
            if not providers & declared:
                missing.append(f"{module} (imported by {importer}; from {sorted(providers) or 'nothing installed'}) "
                               f"is not in {where}")
    assert missing == []


def test_make_screenshots_photographs_the_pictures_the_readme_shows():
    makefile = (ROOT / "Makefile").read_text()
    tests = re.search(r"^SHOT_TESTS = (.*)$", makefile, re.M).group(1).split()
    shots = re.search(r"^SHOTS = (.*)$", makefile, re.M).group(1).split()
    assert tests and all((ROOT / test).exists() for test in tests)
    taken = set()
    for test in tests:  # the PNGs each test writes into conftest's SHOTS folder
        taken |= set(re.findall(r'SHOTS / "([^"]+\.png)"', (ROOT / test).read_text()))
    assert {Path(shot).name for shot in shots} <= taken
    assert all(Path(shot).parent == Path("test-results/screenshots") for shot in shots)
    pictures = set(re.findall(r"\]\((docs/screenshots/[^)]+\.png)\)", (ROOT / "README.md").read_text()))
    assert pictures == {f"docs/screenshots/{Path(shot).name}" for shot in shots}
