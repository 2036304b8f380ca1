"""Dashboards are Grafana JSON models an operator can import anywhere: a datasource variable,
every panel bound to it, unique panel ids, and Chinese with English titles."""

import json
import re
from pathlib import Path

import pytest

DASHBOARDS = sorted((Path(__file__).parents[2] / "deploy" / "k8s" / "dashboards").glob("*.json"))


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_portable(path: Path) -> None:
    model = json.loads(path.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in model["panels"] if p["type"] != "row"]
    assert panels
    assert all(p["datasource"]["uid"] == "${datasource}" for p in panels)
    assert len({p["id"] for p in model["panels"]}) == len(model["panels"])
    for panel in panels:
        assert re.search(r"[\u4e00-\u9fff]", panel["title"]) and re.search(
            "[A-Za-z]", panel["title"]
        )


def test_the_operations_dashboard_is_shipped() -> None:
    assert "operations" in [p.stem for p in DASHBOARDS]
