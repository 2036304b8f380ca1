"""A real Prometheus (Debian's package) scraping a running platform, optionally with the chart's
alert rules rendered for a test: `for:` clauses shortened the way the chart renders a value into
the rules, never by editing the rule files."""

import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml

from fivetype.ports import free_port
from tests.conftest import require_tool

RULES = Path(__file__).parents[2] / "deploy" / "k8s" / "rules"


def render_rules(directory: Path, hold: str) -> list[Path]:
    """The chart's rule files with every `for:` set to `hold` (e.g. "3s"), written to
    `directory`; the expressions and thresholds are the shipped ones."""
    rendered = []
    for path in sorted(RULES.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in document["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = hold
        target = directory / path.name
        target.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        rendered.append(target)
    return rendered


class Prometheus:
    def __init__(
        self, directory: Path, targets: dict[str, list[str]], rules: list[Path] | None = None
    ):
        self.port = free_port()
        config: dict[str, Any] = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {"job_name": f"fivetype-{name}", "static_configs": [{"targets": addresses}]}
                for name, addresses in targets.items()
            ],
        }
        if rules:
            config["rule_files"] = [str(path) for path in rules]
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.process = subprocess.Popen(
            [
                require_tool("prometheus"),
                f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(directory / "prometheus.log").open("wb"),
        )

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/-/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"http://127.0.0.1:{self.port}/api/v1/query", params={"query": expr}, timeout=5
        )
        body = response.json()
        assert body["status"] == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def firing(self) -> set[str]:
        """The names of the alerts firing now."""
        return {r["metric"]["alertname"] for r in self.query('ALERTS{alertstate="firing"}')}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
