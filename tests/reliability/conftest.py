"""The reliability suite's size and its report: one row of numbers per fault, printed as a
table at the end of the session and written as JSON (to the session's temporary folder, and to
FIVETYPE_RELIABILITY_REPORT when set, as `make reliability` does)."""

import io
import json
import os
import platform
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from tests.reliability.checker import Row

# 1 is the bounded size `make test` runs; `make reliability` raises it.
SCALE = float(os.environ.get("FIVETYPE_RELIABILITY_SCALE", "1"))
COLUMNS = (
    "inputs_sent",
    "acknowledged",
    "facts_stored",
    "events_published",
    "duplicates_suppressed",
    "dead_lettered",
    "rejected",
    "lost",
    "double_counted",
    "cards_compared",
    "cards_differing",
    "seconds",
)


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.notes: dict[str, dict[str, float]] = {}  # measurements that are not a fault's row

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def note(self, name: str, values: dict[str, float]) -> None:
        self.notes[name] = values

    def table(self) -> Table:
        table = Table(title=f"fault injection, scale {SCALE:g}")
        table.add_column("fault")
        table.add_column("what happened", max_width=34)
        for column in COLUMNS:
            table.add_column(column.replace("_", " "), justify="right")
        for row in self.rows:
            values = row.as_dict()
            table.add_row(row.fault, row.detail, *(f"{values[c]:g}" for c in COLUMNS))
        return table

    def as_json(self) -> str:
        machine = {"cpus": os.cpu_count(), "platform": platform.platform()}
        rows = [row.as_dict() for row in self.rows]
        return json.dumps(
            {"scale": SCALE, "machine": machine, "faults": rows, **self.notes}, indent=2
        )


REPORT = Report()


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    yield REPORT
    if not REPORT.rows:
        return
    text = REPORT.as_json()
    (tmp_path_factory.getbasetemp() / "reliability.json").write_text(text)
    if target := os.environ.get("FIVETYPE_RELIABILITY_REPORT"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(text)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT.rows:
        text = io.StringIO()
        Console(file=text, width=220).print(REPORT.table())
        terminalreporter.write(text.getvalue())
    for name, values in REPORT.notes.items():
        terminalreporter.write_line(f"{name}: {values}")
