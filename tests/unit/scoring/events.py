"""Builders of the events scoring consumes, as their producers publish them (deterministic ids),
for the scoring tests."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from contracts.envelope import Envelope, Message, fact_id, wrap
from contracts.inspections import (
    FindingRaised,
    FiveType,
    InspectionKind,
    PublicServiceIndicators,
    RectificationClosed,
    RectificationReopened,
    Severity,
)
from contracts.measures import (
    AchievementKind,
    AchievementRecognized,
    AssignmentCreated,
    AssignmentRole,
    CatalogueMeasure,
    CataloguePublished,
    CatalogueType,
    ChangeKind,
    ChangeRequestDecided,
    DeadlineItem,
    DeadlineMissed,
    MilestonePlan,
    ProgressReported,
    ProgressReturned,
    UnitRegistered,
)
from contracts.scoring import RubricActivated
from services.scoring.domain.rubric import parse_rubric
from services.scoring.handlers.rulebook import DEFAULT_RUBRIC_DIR

PROGRAMME_TZ = timezone(timedelta(hours=8))
GROUPS = {"county": "县区", "devzone": "开发区", "department": "市政府部门"}
RUBRIC_2026 = (DEFAULT_RUBRIC_DIR / "archive" / "2026.1.yaml").read_text(encoding="utf-8")
EARNED_2026 = (DEFAULT_RUBRIC_DIR / "2026.yaml").read_text(encoding="utf-8")


def at(day: date, hour: int = 10) -> datetime:
    """A moment on a China-time day."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=PROGRAMME_TZ)


def _wrap(data: Message, unit: str, source: str, key: tuple[Any, ...], time: datetime) -> Any:
    return wrap(data, subject=unit, source=source, id=fact_id(*key), time=time)


def unit_registered(unit: str, name: str, peer_group: str | None) -> Envelope[UnitRegistered]:
    data = UnitRegistered(
        unit=unit,
        name_zh=name,
        name_en=name,
        peer_group=peer_group,
        peer_group_name_zh=GROUPS.get(peer_group or ""),
        peer_group_name_en=peer_group,
        is_office=peer_group is None,
    )
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return _wrap(data, unit, "fivetype/measures", ("Unit", unit, name, peer_group), moment)


def catalogue(version: str, measure_types: dict[str, str | None]) -> Envelope[CataloguePublished]:
    data = CataloguePublished(
        year=2026,
        version=version,
        types=[CatalogueType(code=t.value, name_zh=t.value, name_en=t.value) for t in FiveType],
        measures=[
            CatalogueMeasure(
                code=code,
                kind="measure" if kind else "guarantee",
                type=kind,
                title_zh=code,
                title_en=code,
            )
            for code, kind in measure_types.items()
        ],
    )
    moment = datetime(2026, 1, 2, tzinfo=UTC) + timedelta(hours=int(version.split(".")[1]))
    return _wrap(data, "office", "fivetype/measures", ("Catalogue", version), moment)


def assignment(
    unit: str,
    assignment_id: str,
    measure_type: str | None,
    milestones: dict[str, date],
    *,
    measure_code: str = "M07",
    recurrence: str | None = None,
    target_code: str | None = None,
    target_value: float | None = None,
) -> Envelope[AssignmentCreated]:
    data = AssignmentCreated(
        assignment_id=assignment_id,
        unit=unit,
        role=AssignmentRole.LEAD,
        lead_unit=unit,
        co_units=[],
        year=2026,
        measure_code=measure_code,
        measure_type=measure_type,
        recurrence=recurrence,
        target_code=target_code,
        target_value=target_value,
        title_zh="数字政府",
        title_en="Digital government",
        milestones=[
            MilestonePlan(
                milestone_id=m, title=f"第{m}阶段", unit=unit, due_date=d, expected_percent=50
            )
            for m, d in milestones.items()
        ],
        created_by="office",
    )
    moment = datetime(2026, 1, 5, tzinfo=UTC)
    return _wrap(data, unit, "fivetype/measures", ("Assignment", unit, assignment_id), moment)


def progress(
    unit: str,
    report_id: str,
    reported: datetime,
    *,
    measure_type: str = "innovative",
    assignment_id: str | None = "A1",
    milestone_id: str | None = None,
    due: date | None = None,
    completed: bool | None = None,
    summary: str = "按计划推进",
    percent: float = 50,
    measure_code: str = "M07",
    target_code: str | None = None,
    target_value: float | None = None,
) -> Envelope[ProgressReported]:
    local_date = reported.astimezone(PROGRAMME_TZ).date()
    data = ProgressReported(
        report_id=report_id,
        unit=unit,
        unit_name=unit,
        measure_code=measure_code,
        measure_title="数字政府",
        milestone_id=milestone_id,
        percent_complete=percent,
        summary=summary,
        reported_at=reported,
        reporter="oa",
        evidence=[],
        assignment_id=assignment_id,
        year=2026,
        measure_type=measure_type,
        milestone_due_date=due,
        on_time=(local_date <= due) if due else None,
        milestone_completed=completed,
        target_code=target_code,
        target_value=target_value,
    )
    return _wrap(data, unit, "fivetype/measures", ("ProgressReported", unit, report_id), reported)


def returned(unit: str, report_id: str, when: datetime) -> Envelope[ProgressReturned]:
    data = ProgressReturned(
        report_id=report_id,
        unit=unit,
        assignment_id="A1",
        measure_code="M07",
        measure_type="innovative",
        milestone_id=None,
        reviewer="office",
        reviewed_at=when,
        reason="佐证材料不足",
    )
    return _wrap(data, unit, "fivetype/measures", ("ProgressReturned", unit, report_id), when)


def missed(
    unit: str,
    item_id: str,
    due: date,
    *,
    item_type: DeadlineItem = DeadlineItem.MILESTONE,
    measure_type: str | None = "innovative",
    measure_code: str | None = "M07",
    assignment_id: str | None = "A1",
    milestone_id: str | None = None,
    detected: datetime | None = None,
) -> Envelope[DeadlineMissed]:
    data = DeadlineMissed(
        item_type=item_type,
        item_id=item_id,
        unit=unit,
        title=item_id,
        measure_code=measure_code,
        due_date=due,
        detected_at=detected or at(due + timedelta(days=1), 0),
        assignment_id=assignment_id if item_type is DeadlineItem.MILESTONE else None,
        milestone_id=milestone_id,
        measure_type=measure_type,
    )
    key = ("DeadlineMissed", item_type.value, item_id, due)
    return _wrap(data, unit, "fivetype/measures", key, data.detected_at)


def extension(
    unit: str, milestone_id: str, before: date, after: date, when: datetime
) -> Envelope[ChangeRequestDecided]:
    data = ChangeRequestDecided(
        request_id=f"x-{milestone_id}",
        unit=unit,
        assignment_id="A1",
        kind=ChangeKind.EXTENSION,
        approved=True,
        milestone_id=milestone_id,
        due_date_before=before,
        due_date_after=after,
        decided_by="office",
        reason="同意延期",
    )
    return _wrap(data, unit, "fivetype/measures", ("Decided", unit, milestone_id), when)


def achievement(unit: str, achievement_id: str, kind: AchievementKind, day: date) -> Any:
    data = AchievementRecognized(
        achievement_id=achievement_id,
        unit=unit,
        year=2026,
        kind=kind,
        title="获国家层面认可",
        measure_code="M06",
        measure_type="innovative",
        recognised_on=day,
        evidence=[],
        recorded_by="office",
    )
    return _wrap(data, unit, "fivetype/measures", ("Achievement", unit, achievement_id), at(day))


def _finding_facts(unit: str, finding_id: str, severity: Severity) -> dict[str, Any]:
    return {
        "finding_id": finding_id,
        "inspection_id": "I-1",
        "unit": unit,
        "unit_name": unit,
        "finding_title": "台账不全",
        "severity": severity,
        "measure_code": None,
        "measure_type": None,
        "due_date": date(2026, 4, 30),
    }


def finding(unit: str, finding_id: str, severity: Severity, raised: datetime) -> Any:
    data = FindingRaised(
        **_finding_facts(unit, finding_id, severity),
        inspection_title="专项督查",
        inspection_kind=InspectionKind.SPECIAL,
        inspector="督查组",
        evidence=[],
        raised_at=raised,
    )
    return _wrap(data, unit, "fivetype/inspections", ("Finding", unit, finding_id), raised)


def rectification_closed(unit: str, finding_id: str, closed: datetime, days_late: int) -> Any:
    data = RectificationClosed(
        **_finding_facts(unit, finding_id, Severity.GENERAL),
        closed_at=closed,
        submitted_at=closed,
        on_time=days_late == 0,
        days_late=days_late,
        actor_name="督查组",
    )
    return _wrap(data, unit, "fivetype/inspections", ("Closed", unit, finding_id), closed)


def reopened(unit: str, finding_id: str, when: datetime, number: int = 1) -> Any:
    data = RectificationReopened(
        **_finding_facts(unit, finding_id, Severity.SERIOUS),
        reopen_number=number,
        reason="问题反弹",
        previous_due_date=date(2026, 4, 30),
        reopened_at=when,
        actor_name="督查组",
    )
    key = ("Reopened", unit, finding_id, number)
    return _wrap(data, unit, "fivetype/inspections", key, when)


def public_service(
    unit: str, month: int, revision: int, due: int, on_time: int, ratings: int, satisfied: int
) -> Envelope[PublicServiceIndicators]:
    first = date(2026, month, 1)
    last = (date(2026, month + 1, 1) if month < 12 else date(2027, 1, 1)) - timedelta(days=1)
    data = PublicServiceIndicators(
        unit=unit,
        unit_name=unit,
        period=f"2026-{month:02}",
        period_start=first,
        period_end=last,
        revision=revision,
        received=due,
        repeat_received=0,
        due=due,
        closed_on_time=on_time,
        closures=due,
        reopens=0,
        ratings=ratings,
        satisfied_ratings=satisfied,
        on_time_closure_rate=100 * on_time / due if due else None,
        satisfaction_rate=100 * satisfied / ratings if ratings else None,
        repeat_complaint_rate=0.0 if due else None,
        reopen_rate=0.0 if due else None,
        computed_at=at(last + timedelta(days=revision)),
    )
    key = ("PublicServiceIndicators", unit, data.period, revision)
    return _wrap(data, unit, "fivetype/inspections", key, data.computed_at)


def rubric_activated(text: str, when: datetime) -> Envelope[RubricActivated]:
    rubric = parse_rubric(text, "test")
    data = RubricActivated(
        year=rubric.programme_year,
        version=rubric.version,
        sha256=rubric.sha256,
        title_zh=rubric.title_zh,
        source="test",
        activated_at=when,
        document=rubric.document(),
    )
    key = ("RubricActivated", rubric.programme_year, rubric.version, rubric.sha256)
    return _wrap(data, "office", "fivetype/scoring", key, when)


def history(unit: str) -> list[Envelope[Any]]:
    """A unit's year so far, with every kind of event scoring reads and the cases that make
    order matter: a late completion, a waived miss, a returned report, two revisions of the
    same month's 12345 indicators, a reopened finding."""
    march = date(2026, 3, 1)
    return [
        catalogue("2026.1", {"M07": "innovative", "M14": "service", "G4": None}),
        assignment(
            unit,
            "A1",
            "innovative",
            {
                "m1": date(2026, 3, 10),
                "m2": date(2026, 3, 20),
                "m3": date(2026, 3, 25),
                "m4": date(2026, 3, 31),
            },
        ),
        progress(
            unit,
            f"{unit}-r1",
            at(date(2026, 3, 9)),
            milestone_id="m1",
            due=date(2026, 3, 10),
            completed=True,
        ),
        missed(unit, f"{unit}-A1/m2", date(2026, 3, 20), milestone_id="m2"),
        progress(
            unit,
            f"{unit}-r2",
            at(date(2026, 3, 22)),
            milestone_id="m2",
            due=date(2026, 3, 20),
            completed=True,
        ),
        missed(unit, f"{unit}-A1/m3", date(2026, 3, 25), milestone_id="m3"),
        missed(unit, f"{unit}-A1/m4", date(2026, 3, 31), milestone_id="m4"),
        extension(unit, "m4", date(2026, 3, 31), date(2026, 4, 30), at(date(2026, 4, 2))),
        progress(unit, f"{unit}-r3", at(date(2026, 3, 15)), assignment_id=None, summary=""),
        returned(unit, f"{unit}-r3", at(date(2026, 3, 16))),
        missed(
            unit,
            f"{unit}-G-1",
            date(2026, 3, 12),
            item_type=DeadlineItem.OBLIGATION,
            measure_type=None,
            measure_code="G4",
        ),
        missed(
            unit,
            f"{unit}-F-2",
            date(2026, 3, 28),
            item_type=DeadlineItem.RECTIFICATION,
            measure_type=None,
            measure_code="M14",
        ),
        finding(unit, "F-1", Severity.CRITICAL, at(march.replace(day=3))),
        finding(unit, "F-2", Severity.SERIOUS, at(march.replace(day=4))),
        finding(unit, "F-3", Severity.GENERAL, at(march.replace(day=5))),
        rectification_closed(unit, "F-3", at(date(2026, 4, 3)), days_late=0),
        reopened(unit, "F-3", at(date(2026, 4, 20))),
        public_service(unit, 3, 1, due=100, on_time=80, ratings=50, satisfied=40),
        public_service(unit, 3, 2, due=100, on_time=90, ratings=50, satisfied=44),
        public_service(unit, 4, 1, due=50, on_time=50, ratings=20, satisfied=20),
        achievement(unit, "N-1", AchievementKind.STATE_COUNCIL_INCENTIVE, date(2026, 3, 18)),
        achievement(unit, "N-2", AchievementKind.DEMONSTRATION_TITLE, date(2026, 4, 8)),
    ]
