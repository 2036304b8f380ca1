"""A synthetic programme year for the scoring benchmark: 40 units in three peer groups and the
events their year produces, in the proportions a real year has (mostly progress reports, then
missed deadlines, findings and rectifications, few recognitions), as ready-to-publish messages.

Messages are built as plain dicts (building a million pydantic models would dominate the
benchmark); `check()` validates one of each kind against the contract before any is published.
"""

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts import subjects
from contracts.envelope import decode, schema_urn
from contracts.registry import MESSAGES

YEAR = 2026
TYPES = ("loyal", "innovative", "responsible", "service", "disciplined")
SEVERITIES = ("minor", "general", "serious", "critical")
ACHIEVEMENTS = (
    "national_recognition",
    "national_pilot",
    "state_council_incentive",
    "demonstration_title",
)
GROUPS = {"county": (10, "县区"), "devzone": (5, "开发区"), "department": (25, "市政府部门")}
Unit = tuple[str, str, str]  # code, name, peer group


def units(scale: int = 1) -> list[Unit]:
    """The 40 units of the three peer groups, each group `scale` times as large."""
    return [
        (f"{group}-{n:02}", f"{name}{n:02}", group)
        for group, (count, name) in GROUPS.items()
        for n in range(1, count * scale + 1)
    ]


UNITS = units()
MEASURES = {f"M{n:02}": TYPES[(n - 1) // 4 % 5] for n in range(1, 19)}
MODELS = {spec.name: spec.model for spec in MESSAGES}

Message = tuple[str, bytes, str]  # subject, payload, id


def _envelope(
    name: str, unit: str, data: dict[str, Any], key: tuple[Any, ...], time: datetime
) -> Message:
    event_id = "-".join(("bench", name, *map(str, key)))
    body = {
        "specversion": "1.0",
        "id": event_id,
        "source": "fivetype/bench",
        "type": name,
        "schemaversion": 1,
        "time": time.isoformat(),
        "subject": unit,
        "datacontenttype": "application/json",
        "dataschema": schema_urn(MODELS[name]),
        "data": data,
    }
    return subjects.event(name, unit), json.dumps(body, ensure_ascii=False).encode(), event_id


def _moment(rng: random.Random) -> datetime:
    return datetime(YEAR, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(360 * 86400))


def reference(of: list[Unit] = UNITS) -> list[Message]:
    """Units, their peer groups and the catalogue: what every replay starts from."""
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    found = [
        _envelope(
            "UnitRegistered",
            code,
            {
                "unit": code,
                "name_zh": name,
                "name_en": code,
                "peer_group": group,
                "peer_group_name_zh": GROUPS[group][1],
                "peer_group_name_en": group,
                "is_office": False,
            },
            (code,),
            start,
        )
        for code, name, group in of
    ]
    catalogue = {
        "year": YEAR,
        "version": f"{YEAR}.1",
        "types": [{"code": t, "name_zh": t, "name_en": t} for t in TYPES],
        "measures": [
            {"code": c, "kind": "measure", "type": t, "title_zh": c, "title_en": c}
            for c, t in MEASURES.items()
        ],
    }
    found.append(_envelope("CataloguePublished", "office", catalogue, ("catalogue",), start))
    return found


def _progress(rng: random.Random, n: int, unit: str) -> Message:
    measure = rng.choice(list(MEASURES))
    reported = _moment(rng)
    due = (reported + timedelta(days=rng.randint(-10, 20))).date()
    milestone = rng.random() < 0.3
    late = milestone and reported.date() > due
    data = {
        "report_id": f"r{n}",
        "unit": unit,
        "unit_name": unit,
        "measure_code": measure,
        "measure_title": measure,
        "milestone_id": f"m{n % 5000}" if milestone else None,
        "percent_complete": float(rng.randint(0, 100)),
        "summary": "" if rng.random() < 0.02 else "按计划推进",
        "reported_at": reported.isoformat(),
        "reporter": "oa",
        "evidence": [],
        "assignment_id": f"A-{unit}-{measure}",
        "year": YEAR,
        "measure_type": MEASURES[measure],
        "milestone_due_date": due.isoformat() if milestone else None,
        "on_time": (not late) if milestone else None,
        "milestone_completed": milestone and rng.random() < 0.5,
    }
    return _envelope("ProgressReported", unit, data, (n,), reported)


def _missed(rng: random.Random, n: int, unit: str) -> Message:
    measure = rng.choice(list(MEASURES))
    due = _moment(rng).date()
    item_type = rng.choice(("milestone", "obligation", "rectification", "suggestion"))
    data = {
        "item_type": item_type,
        "item_id": f"i{n}",
        "unit": unit,
        "title": "逾期事项",
        "measure_code": measure,
        "due_date": due.isoformat(),
        "detected_at": datetime(due.year, due.month, due.day, 16, tzinfo=UTC).isoformat(),
        "assignment_id": f"A-{unit}-{measure}" if item_type == "milestone" else None,
        "milestone_id": f"m{n % 5000}" if item_type == "milestone" else None,
        "measure_type": MEASURES[measure] if item_type != "rectification" else None,
    }
    moment = datetime.fromisoformat(data["detected_at"])
    return _envelope("DeadlineMissed", unit, data, (n,), moment)


def _finding_facts(rng: random.Random, n: int, unit: str) -> dict[str, Any]:
    return {
        "finding_id": f"f{n}",
        "inspection_id": f"I{n // 10}",
        "unit": unit,
        "unit_name": unit,
        "finding_title": "台账不全",
        "severity": rng.choice(SEVERITIES),
        "measure_code": None,
        "measure_type": None,
        "due_date": _moment(rng).date().isoformat(),
    }


def _finding(rng: random.Random, n: int, unit: str) -> Message:
    raised = _moment(rng)
    data = {
        **_finding_facts(rng, n, unit),
        "inspection_title": "专项督查",
        "inspection_kind": "special",
        "inspector": "督查组",
        "description": "",
        "clues": [],
        "evidence": [],
        "raised_at": raised.isoformat(),
    }
    return _envelope("FindingRaised", unit, data, (n,), raised)


def _closed(rng: random.Random, n: int, unit: str) -> Message:
    closed = _moment(rng)
    days_late = rng.choice((0, 0, 0, 2, 5))
    data = {
        **_finding_facts(rng, n, unit),
        "closed_at": closed.isoformat(),
        "submitted_at": closed.isoformat(),
        "on_time": days_late == 0,
        "days_late": days_late,
        "actor_name": "督查组",
    }
    return _envelope("RectificationClosed", unit, data, (n,), closed)


def _achievement(rng: random.Random, n: int, unit: str) -> Message:
    day = _moment(rng).date()
    measure = rng.choice(list(MEASURES))
    data = {
        "achievement_id": f"a{n}",
        "unit": unit,
        "year": YEAR,
        "kind": rng.choice(ACHIEVEMENTS),
        "title": "获国家层面认可",
        "measure_code": measure,
        "measure_type": MEASURES[measure],
        "recognised_on": day.isoformat(),
        "evidence": [],
        "recorded_by": "office",
    }
    moment = datetime(day.year, day.month, day.day, 2, tzinfo=UTC)
    return _envelope("AchievementRecognized", unit, data, (n,), moment)


def _public_service(rng: random.Random, n: int, unit: str) -> Message:
    month = rng.randint(1, 12)
    first = date(YEAR, month, 1)
    last = (date(YEAR + 1, 1, 1) if month == 12 else date(YEAR, month + 1, 1)) - timedelta(days=1)
    due = rng.randint(20, 400)
    on_time, ratings = rng.randint(int(due * 0.85), due), rng.randint(10, due)
    satisfied = rng.randint(int(ratings * 0.8), ratings)
    data = {
        "unit": unit,
        "unit_name": unit,
        "period": f"{YEAR}-{month:02}",
        "period_start": first.isoformat(),
        "period_end": last.isoformat(),
        "revision": n + 1,
        "received": due,
        "repeat_received": rng.randint(0, due // 10),
        "due": due,
        "closed_on_time": on_time,
        "closures": due,
        "reopens": rng.randint(0, due // 20),
        "ratings": ratings,
        "satisfied_ratings": satisfied,
        "on_time_closure_rate": round(100 * on_time / due, 2),
        "satisfaction_rate": round(100 * satisfied / ratings, 2),
        "repeat_complaint_rate": 0.0,
        "reopen_rate": 0.0,
        "computed_at": datetime(last.year, last.month, last.day, 20, tzinfo=UTC).isoformat(),
    }
    moment = datetime.fromisoformat(data["computed_at"])
    return _envelope("PublicServiceIndicators", unit, data, (n,), moment)


# kind -> (share of the events, builder)
MIX: list[tuple[float, Callable[[random.Random, int, str], Message]]] = [
    (0.70, _progress),
    (0.10, _missed),
    (0.09, _finding),
    (0.08, _closed),
    (0.02, _public_service),
    (0.01, _achievement),
]


def events(count: int, seed: int = 2026, of: list[Unit] = UNITS) -> Iterator[Message]:
    """The reference data, then `count` events in total, spread over the units and the year."""
    rng = random.Random(seed)
    head = reference(of)
    yield from head[:count]
    builders = [builder for share, builder in MIX for _ in range(int(share * 100))]
    for n in range(count - len(head)):
        unit = of[rng.randrange(len(of))][0]
        yield rng.choice(builders)(rng, n, unit)


def check() -> None:
    """Decode one message of each kind as scoring would; raises if the workload drifted."""
    rng = random.Random(1)
    for message in [*reference(), *(b(rng, 0, UNITS[0][0]) for _, b in MIX)]:
        subject, payload, _ = message
        name = json.loads(payload)["type"]
        decode(payload, MODELS[name], arrived_on=subject)
