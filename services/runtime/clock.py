"""Where a service reads the time. Production uses the system clock. Tests and drills (the demo)
can set `FIVETYPE_<SERVICE>_CLOCK_FILE` (inspections, measures) to a file holding one ISO 8601
timestamp with a UTC offset: the service's "now" is then that instant, re-read on every call, so
a test or the demo moves time forward by rewriting the file (e.g. past a rectification deadline)
without touching the system clock. Several services and instances may share one file.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from contracts.envelope import utcnow

Clock = Callable[[], datetime]


class FileClock:
    def __init__(self, path: Path):
        self.path = path

    def __call__(self) -> datetime:
        text = self.path.read_text(encoding="utf-8").strip()
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(f"{self.path}: {text!r} has no UTC offset")
        return moment.astimezone(UTC)

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the clock only holds timezone-aware instants")
        # Written whole then renamed, so a reader never sees half a timestamp.
        staging = self.path.with_suffix(".tmp")
        staging.write_text(moment.isoformat(), encoding="utf-8")
        staging.replace(self.path)


def clock_from(path: Path | None) -> Clock:
    return FileClock(path) if path is not None else utcnow
