"""The container image, checked without a Docker engine: the Dockerfile's build context carries
every file the packages need and nothing else, the installed package would include every data
file, and the image agrees with the chart (user, command, version)."""

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import CHART, ROOT

PACKAGES = ("contracts", "services", "fivetype")


@cache
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def instructions(stage: list[str], keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in stage if line.split(None, 1)[0].upper() == keyword]


def _pattern(glob: str) -> re.Pattern[str]:
    regex = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", glob.strip("/")):
        regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
            token, re.escape(token)
        )
    return re.compile(regex)


def in_build_context(path: str) -> bool:
    """.dockerignore semantics: the last pattern matching the path or a parent folder wins."""
    included = True
    rules = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()
    ]
    parents = [str(Path(*Path(path).parts[: i + 1])) for i in range(len(Path(path).parts))]
    for rule in rules:
        if rule.startswith("#"):
            continue
        negated = rule.startswith("!")
        pattern = _pattern(rule.removeprefix("!"))
        if any(pattern.fullmatch(candidate) for candidate in parents):
            included = negated
    return included


def source_files() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]


def test_the_image_is_built_in_stages_and_runs_as_the_charts_user() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: the build tools stay out of the final image"
    final = stages[-1]
    assert instructions(final, "COPY") == ["--from=build /opt/fivetype /opt/fivetype"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    user, group = instructions(final, "USER")[-1].split(":")
    assert int(user) == values["podSecurityContext"]["runAsUser"] != 0
    assert int(group) == values["podSecurityContext"]["runAsGroup"]
    env = " ".join(instructions(final, "ENV"))
    assert "PATH=/opt/fivetype/bin:" in env and "PYTHONDONTWRITEBYTECODE=1" in env


def test_the_charts_command_is_the_packages_console_script() -> None:
    assert "fivetype" in pyproject()["project"]["scripts"]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == pyproject()["project"]["version"]


def test_every_file_the_build_copies_is_in_the_context() -> None:
    copied = []
    for stage in dockerfile_stages():
        for arguments in instructions(stage, "COPY"):
            if not arguments.startswith("--from="):
                copied.extend(arguments.split()[:-1])
    assert sorted(copied) == sorted(["requirements.txt", "pyproject.toml", "README.md", *PACKAGES])
    for source in copied:
        assert (ROOT / source).exists(), source
        assert in_build_context(source), f"{source} is excluded by .dockerignore"
    for file in source_files():
        relative = str(file.relative_to(ROOT))
        if file.suffix not in {".pyc", ".db"}:
            assert in_build_context(relative), relative


@pytest.mark.parametrize(
    "path", [".venv/bin/python", ".git/HEAD", "data/measures.db", "tests/conftest.py", "Makefile"]
)
def test_the_build_context_leaves_out_what_the_image_does_not_need(path: str) -> None:
    assert not in_build_context(path)


def test_the_installed_package_carries_every_data_file() -> None:
    """`pip install .` takes Python files and the package-data patterns; a data file of another
    kind would be missing from the image."""
    patterns = pyproject()["tool"]["setuptools"]["package-data"]["*"]
    missing = [
        str(path.relative_to(ROOT))
        for path in source_files()
        if path.suffix != ".py" and not any(path.match(pattern) for pattern in patterns)
    ]
    assert missing == []
