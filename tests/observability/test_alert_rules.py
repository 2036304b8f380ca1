"""The alert rules pass `promtool check rules`, and promtool's unit tests show each alert firing
and staying quiet when it should. promtool comes from Debian's `prometheus` package."""

import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool

HERE = Path(__file__).parent
RULES = sorted((HERE.parents[1] / "deploy" / "k8s" / "rules").glob("*.yaml"))


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args],
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=120,
        check=False,
    )


def test_rule_files_are_valid() -> None:
    assert RULES, "no rule files"
    checked = promtool("check", "rules", *map(str, RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_is_unit_tested() -> None:
    tested = (HERE / "alerts.test.yaml").read_text(encoding="utf-8")
    alerts = [
        line.split(":", 1)[1].strip()
        for rule in RULES
        for line in rule.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("- alert:")
    ]
    assert alerts
    untested = [name for name in alerts if f"alertname: {name}" not in tested]
    assert untested == []


@pytest.mark.parametrize("rule_file", [r.name for r in RULES])
def test_unit_tests_cover_every_rule_file(rule_file: str) -> None:
    assert f"../../deploy/k8s/rules/{rule_file}" in (HERE / "alerts.test.yaml").read_text()


def test_alerts_fire_and_stay_quiet_as_specified() -> None:
    result = promtool("test", "rules", "alerts.test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
