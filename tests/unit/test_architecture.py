"""Services never import each other; contracts and the runtime know nothing of the services."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["measures", "inspections", "scoring", "notifications"]


def imported_modules(package: Path) -> set[str]:
    found: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    others = {f"services.{name}" for name in SERVICES if name != service}
    offending = {
        m
        for m in imported_modules(ROOT / "services" / service)
        if any(m == o or m.startswith(o + ".") for o in others)
    }
    assert not offending


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("contracts", ("services", "fivetype")),
        ("services/runtime", tuple(f"services.{name}" for name in SERVICES)),
    ],
)
def test_shared_packages_know_no_service(package: str, forbidden: tuple[str, ...]) -> None:
    offending = {
        m
        for m in imported_modules(ROOT / package)
        if any(m == f or m.startswith(f + ".") for f in forbidden)
    }
    assert not offending
