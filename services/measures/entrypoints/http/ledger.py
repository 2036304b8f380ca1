"""The 任务台账 as a spreadsheet: one row per milestone with its assignment's traffic light, for
the office's staff to read. Headers, names and dates in the reader's language (Chinese unless
the request asks for English): 交办任务编号, unit and measure names beside their codes, 红灯/黄灯/
绿灯, dates as 2026年4月11日. The API's JSON keeps codes and ISO dates."""

from collections.abc import Iterable
from datetime import date, datetime

from services.measures.adapters.reference import Reference
from services.measures.adapters.tables import Assignment, Milestone
from services.measures.domain.status import Status
from services.runtime.workdays import chinese_date, local_date

# column key: (Chinese header, English header)
COLUMNS: dict[str, tuple[str, str]] = {
    "assignment_id": ("交办任务编号", "Assignment"),
    "year": ("年度", "Year"),
    "measure_code": ("举措编号", "Measure"),
    "measure_title": ("举措名称", "Measure title"),
    "measure_type": ("所属类型", "Type"),
    "title": ("交办任务", "Assignment title"),
    "lead_unit": ("牵头单位代码", "Lead unit code"),
    "lead_unit_name": ("牵头单位", "Lead unit"),
    "co_units": ("协办单位", "Co-operating units"),
    "light": ("进度状态", "Light"),
    "milestone_id": ("节点编号", "Milestone"),
    "milestone_title": ("节点任务", "Milestone title"),
    "unit": ("节点责任单位代码", "Milestone unit code"),
    "unit_name": ("节点责任单位", "Milestone unit"),
    "due_date": ("限办日期", "Due date"),
    "original_due_date": ("原定限办日期", "Original due date"),
    "expected_percent": ("应完成进度（%）", "Expected percent"),
    "percent_complete": ("实际完成进度（%）", "Percent complete"),
    "completed_at": ("完成日期", "Completed on"),
    "missed_at": ("逾期认定日期", "Missed on"),
}
LIGHTS = {"green": ("绿灯", "green"), "yellow": ("黄灯", "yellow"), "red": ("红灯", "red")}


def headers(lang: str) -> dict[str, str]:
    return {key: zh if lang == "zh" else en for key, (zh, en) in COLUMNS.items()}


def _date(value: date | datetime | None, lang: str) -> str:
    if value is None:
        return ""
    day = local_date(value) if isinstance(value, datetime) else value
    return chinese_date(day) if lang == "zh" else day.isoformat()


def _percent(value: float) -> str:
    return f"{value:g}"


def rows(
    found: Iterable[tuple[Assignment, list[Milestone], Status]], reference: Reference, lang: str
) -> list[dict[str, str]]:
    def unit_name(code: str) -> str:
        unit = reference.units.unit(code)
        return code if unit is None else unit.name_zh if lang == "zh" else unit.name_en

    result = []
    for a, milestones, status in found:
        catalogue = reference.catalogues.get(a.year)
        measure = catalogue.measure(a.measure_root) if catalogue else None
        types = catalogue.types if catalogue else ()
        kind = next((t for t in types if t.code == a.measure_type), None)
        light_zh, light_en = LIGHTS[status.light.value]
        common = {
            "assignment_id": a.assignment_id,
            "year": str(a.year),
            "measure_code": a.measure_code,
            "measure_title": "" if measure is None else getattr(measure, f"title_{lang}"),
            "measure_type": "" if kind is None else getattr(kind, f"name_{lang}"),
            "title": a.title_zh if lang == "zh" else a.title_en,
            "lead_unit": a.lead_unit,
            "lead_unit_name": unit_name(a.lead_unit),
            "co_units": ("、" if lang == "zh" else ", ").join(unit_name(u) for u in a.co_units),
            "light": light_zh if lang == "zh" else light_en,
        }
        result += [
            {
                **common,
                "milestone_id": m.milestone_id,
                "milestone_title": m.title,
                "unit": m.unit,
                "unit_name": unit_name(m.unit),
                "due_date": _date(m.due_date, lang),
                "original_due_date": _date(m.original_due_date, lang),
                "expected_percent": _percent(m.expected_percent),
                "percent_complete": _percent(m.percent_complete),
                "completed_at": _date(m.completed_at, lang),
                "missed_at": _date(m.missed_at, lang),
            }
            for m in milestones
        ]
    return result
