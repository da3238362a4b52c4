"""The set-up files agree with each other: pip vs conda, README vs CI."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # pip name -> conda-forge name, where they differ


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
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci, "the CI script must run exactly the README's test command"
