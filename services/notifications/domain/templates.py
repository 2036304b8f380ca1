"""Message templates, in Chinese with English as the fallback."""

from dataclasses import dataclass
from typing import Any

from contracts.measures import ProgressReported


@dataclass(frozen=True)
class Rendered:
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


def progress_reported(event: ProgressReported) -> Rendered:
    fields: dict[str, Any] = {
        "unit": event.unit_name,
        "measure": f"{event.measure_code} {event.measure_title}",
        "percent": f"{event.percent_complete:g}",
        "summary": event.summary or "—",
        "reporter": event.reporter,
    }
    return Rendered(
        kind="progress_reported",
        title_zh="{unit}报送了进展：{measure}".format(**fields),
        title_en="{unit} reported progress on {measure}".format(**fields),
        body_zh="完成进度 {percent}%。{summary}（报送人：{reporter}）".format(**fields),
        body_en="{percent}% complete. {summary} (reported by {reporter})".format(**fields),
    )
