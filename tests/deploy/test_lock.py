"""The lock files: every dependency pinned with its hashes, agreeing with pyproject.toml's pins,
and used wherever the project is installed (make install and so CI, the image)."""

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.chart import ROOT
from tests.deploy.test_image import dockerfile_stages, instructions

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)", re.MULTILINE)


def locked(lock: str) -> dict[str, str]:
    """Each package of the lock file with its version; asserts each entry carries hashes."""
    text = (ROOT / lock).read_text()
    entries = re.split(r"\n(?=\S)", text)
    found = {}
    for entry in entries:
        if match := PIN.match(entry):
            assert "--hash=sha256:" in entry, f"{lock}: {match[1]} has no hash"
            found[canonicalize_name(match[1])] = match[2]
    return found


def pins(extra: str | None = None) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["optional-dependencies"][extra] if extra else project["dependencies"]
    found = {}
    for line in lines:
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        found[canonicalize_name(requirement.name)] = specifier.version
    return found


def test_the_locks_pin_every_direct_dependency_at_pyprojects_version() -> None:
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    assert pins().items() <= runtime.items()
    assert (pins() | pins("dev")).items() <= dev.items()
    assert runtime.items() <= dev.items(), "the dev lock adds tools, it never moves a version"
    assert len(runtime) > len(pins()), "transitive dependencies are locked too"


def test_installs_go_through_the_lock_with_hashes_required() -> None:
    build = dockerfile_stages()[0]
    assert any(
        "--require-hashes --requirement requirements.txt" in i for i in instructions(build, "RUN")
    )
    makefile = (ROOT / "Makefile").read_text()
    assert "tools/install.sh requirements-dev.txt" in makefile
    script = (ROOT / "tools" / "install.sh").read_text()
    assert script.count('--require-hashes -r "$LOCK"') == 2  # with uv, or else with pip
