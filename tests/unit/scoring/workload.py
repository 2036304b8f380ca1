"""Random unit-years of facts for the scoring property tests: every fact kind scoring reads, with
the cases that tie facts of different months together (a milestone extended into another month,
a report returned after the card was scored, a finding closed months after its deadline, a
target judged on the year, a month's 12345 indicators revised)."""

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.scoring.domain.facts import Fact, FactKind

YEAR = 2026
TYPES = ("loyal", "innovative", "responsible", "service", "disciplined")
MEASURES = {f"M{n:02}": TYPES[(n - 1) // 4 % 5] for n in range(1, 19)} | {"G4": None}
TARGETS = {
    "T1": {"metric": "number", "comparator": ">=", "value": 100.0, "description_zh": "不少于"},
    "T2": {"metric": "number", "direction": "up", "description_zh": "逐年提高"},
    "T3": {"metric": "boolean", "description_zh": "完成"},
}
SEVERITIES = ("minor", "general", "serious", "critical")
GROUP_OF = {"u1": "county", "u2": "county", "u3": "county"}


def _day(rng: random.Random) -> date:
    return date(YEAR, 1, 1) + timedelta(days=rng.randrange(365))


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)


def reference() -> list[Fact]:
    """The catalogue with its targets, and the units in one peer group."""
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    catalogue = Fact(
        "catalogue",
        FactKind.CATALOGUE,
        "office",
        None,
        start,
        {
            "year": YEAR,
            "version": f"{YEAR}.1",
            "types": {t: [t, t] for t in TYPES},
            "measure_types": MEASURES,
            "measure_names": {code: f"举措{code}" for code in MEASURES},
            "targets": TARGETS,
        },
    )
    units = [
        Fact(
            f"unit-{code}",
            FactKind.UNIT,
            code,
            None,
            start,
            {
                "name_zh": code,
                "name_en": code,
                "peer_group": group,
                "peer_group_name_zh": group,
                "peer_group_name_en": group,
                "is_office": False,
            },
        )
        for code, group in GROUP_OF.items()
    ]
    return [catalogue, *units]


class _Year:
    """Builds one unit's facts; `ids` numbers them so every event id is unique."""

    def __init__(self, rng: random.Random, unit: str):
        self.rng, self.unit, self.n = rng, unit, 0
        self.facts: list[Fact] = []
        self.milestones: list[tuple[str, str, date]] = []
        self.reports: list[tuple[str, date]] = []
        self.findings: list[tuple[str, date, str]] = []

    def add(self, kind: FactKind, day: date | None, known: datetime, /, **data: Any) -> None:
        self.n += 1
        event_id = f"{self.unit}-{kind.value}-{self.n}"
        self.facts.append(Fact(event_id, kind, self.unit, day, known, data))

    def assignment(self) -> None:
        rng = self.rng
        assignment_id = f"A{self.n}"
        code = rng.choice(list(MEASURES))
        milestones = {f"m{self.n}-{k}": _day(rng) for k in range(rng.randint(0, 4))}
        target = rng.choice([None, None, *TARGETS])
        self.milestones += [(assignment_id, m, due) for m, due in milestones.items()]
        self.add(
            FactKind.ASSIGNMENT,
            None,
            _moment(date(YEAR, 1, 5), rng),
            assignment_id=assignment_id,
            measure_code=code,
            measure_type=MEASURES[code],
            milestones={m: due.isoformat() for m, due in milestones.items()},
            titles={m: f"第{m}阶段" for m in milestones},
            title="任务",
            year=YEAR,
            recurrence=rng.choice([None, None, "monthly"]),
            target_code=target,
            target_value=rng.choice([None, 80.0, 120.0]) if target == "T1" else None,
        )

    def progress(self) -> None:
        rng = self.rng
        reported = _moment(_day(rng), rng)
        milestone = rng.choice(self.milestones) if self.milestones and rng.random() < 0.6 else None
        assignment_id, milestone_id, due = milestone or (rng.choice(["A1", None]), None, None)
        code = rng.choice(list(MEASURES))
        target = rng.choice([None, None, None, *TARGETS])
        report_id = f"r{self.n}"
        self.reports.append((report_id, reported.date()))
        self.add(
            FactKind.PROGRESS,
            due or reported.date(),
            reported,
            report_id=report_id,
            measure_code=code,
            measure_type=rng.choice([MEASURES[code], None]),
            assignment_id=assignment_id,
            milestone_id=milestone_id,
            milestone_due_date=due.isoformat() if due else None,
            reported_at=reported.isoformat(),
            reported_on=reported.date().isoformat(),
            percent_complete=float(rng.randint(0, 100)),
            on_time=(reported.date() <= due) if due else None,
            milestone_completed=bool(due) and rng.random() < 0.7,
            empty=rng.random() < 0.1,
            recurrence=None,
            measure_title="举措",
            target_code=target,
            target_value=float(rng.choice([0, 1, 90, 100, 150])) if target else None,
        )

    def review(self) -> None:
        if not self.reports:
            return
        report_id, reported = self.rng.choice(self.reports)
        when = _moment(reported + timedelta(days=self.rng.randint(0, 40)), self.rng)
        kind = self.rng.choice([FactKind.PROGRESS_ACCEPTED, FactKind.PROGRESS_RETURNED])
        self.add(kind, None, when, report_id=report_id, reviewed_at=when.isoformat())

    def extension(self) -> None:
        if not self.milestones:
            return
        assignment_id, milestone_id, due = self.rng.choice(self.milestones)
        after = due + timedelta(days=self.rng.randint(1, 60))
        self.add(
            FactKind.EXTENSION,
            None,
            _moment(due, self.rng),
            assignment_id=assignment_id,
            milestone_id=milestone_id,
            due_date_before=due.isoformat(),
            due_date_after=after.isoformat() if after.year == YEAR else due.isoformat(),
        )

    def missed(self) -> None:
        rng = self.rng
        item_type = rng.choice(
            ["milestone", "obligation", "rectification", "rectification_plan", "suggestion"]
        )
        if item_type == "milestone" and self.milestones:
            assignment_id, milestone_id, due = rng.choice(self.milestones)
        else:
            assignment_id, milestone_id, due = None, f"o{self.n}", _day(rng)
        code = rng.choice(list(MEASURES))
        self.add(
            FactKind.DEADLINE_MISSED,
            due,
            _moment(due + timedelta(days=1), rng),
            item_type=item_type,
            item_id=f"i{self.n}",
            measure_code=code,
            measure_type=MEASURES[code],
            assignment_id=assignment_id,
            milestone_id=milestone_id if item_type in ("milestone", "obligation") else None,
            due_date=due.isoformat(),
            title="逾期事项",
        )

    def finding_step(self) -> None:
        rng = self.rng
        if not self.findings or rng.random() < 0.4:
            finding_id, due = f"F{self.n}", _day(rng)
            self.findings.append((finding_id, due, rng.choice(SEVERITIES)))
            kind = FactKind.FINDING
        else:
            finding_id, due, _ = rng.choice(self.findings)
            kind = rng.choice(
                [
                    FactKind.RECTIFICATION_CLOSED,
                    FactKind.RECTIFICATION_REOPENED,
                    FactKind.RECTIFICATION_RETURNED,
                ]
            )
        severity = rng.choice(SEVERITIES)
        day = min(due + timedelta(days=rng.randint(-30, 90)), date(YEAR, 12, 31))
        data: dict[str, Any] = {
            "finding_id": finding_id,
            "severity": severity,
            "measure_code": None,
            "measure_type": None,
            "due_date": due.isoformat(),
            "title": "台账不全",
        }
        if kind is FactKind.FINDING:
            data["inspection_kind"] = rng.choice(["special", "routine"])
        if kind is FactKind.RECTIFICATION_CLOSED:
            late = max(0, (day - due).days)
            data |= {"on_time": late == 0, "days_late": late, "submitted_on": day.isoformat()}
        self.add(kind, day, _moment(day, rng), **data)

    def one_of_a_kind(self) -> None:
        """A recognition, 12345 answer, 督办, 通报 entry, 挂牌, 约谈, 问责 or verdict."""
        rng = self.rng
        day = _day(rng)
        when = _moment(day, rng)
        item = {"item_type": "milestone", "item_id": f"i{self.n}", "title": "逾期事项"}
        choice = rng.randrange(8)
        if choice == 0:
            code = rng.choice(list(MEASURES))
            self.add(
                FactKind.ACHIEVEMENT,
                day,
                when,
                achievement_id=f"a{self.n}",
                kind=rng.choice(
                    ["national_recognition", "state_council_incentive", "national_pilot"]
                ),
                level=rng.choice(["national", "provincial", "city"]),
                title="认可",
                measure_code=code,
                measure_type=MEASURES[code],
            )
        elif choice == 1:
            self.add(
                FactKind.SUGGESTION_ANSWERED,
                day,
                when,
                suggestion_id=f"s{self.n}",
                on_time=rng.random() < 0.7,
                days_late=rng.randint(0, 5),
            )
        elif choice == 2:
            self.add(
                FactKind.ESCALATION,
                day,
                when,
                case_id=f"c{self.n}",
                level=rng.choice(["notice", "supervision_order", "public_notice"]),
                measure_code="M01",
                due_date=day.isoformat(),
                **item,
            )
        elif choice == 3:
            self.add(
                FactKind.BULLETIN,
                day,
                when,
                bulletin_id=f"b{self.n}",
                kind=rng.choice(["periodic", "ad_hoc"]),
                due_date=day.isoformat(),
                working_days_overdue=rng.randint(1, 20),
                **item,
            )
        elif choice == 4:
            self.add(
                FactKind.LISTING,
                day,
                when,
                listing_id=f"l{self.n}",
                due_date=day.isoformat(),
                document="文件",
                **item,
            )
        elif choice == 5:
            self.add(FactKind.INTERVIEW, day, when, interview_id=f"v{self.n}", title="约谈")
        elif choice == 6:
            self.add(
                FactKind.ACCOUNTABILITY,
                day,
                when,
                decision_id=f"d{self.n}",
                form=rng.choice(["written_self_criticism", "admonishment"]),
                title="问责",
                document="文件",
            )
        else:
            self.add(
                FactKind.VERDICT,
                None,
                when,
                verdict_id=f"x{self.n}",
                period=rng.choice(
                    [f"{YEAR}", f"{YEAR}-Q{day.month // 4 + 1}", day.isoformat()[:7]]
                ),
                kind=rng.choice(["veto", "downgrade"]),
                steps=rng.randint(1, 2),
                reason="理由",
                document="文件",
                decided_by="office",
                decided_on=day.isoformat(),
            )

    def public_service(self) -> None:
        rng = self.rng
        month = rng.randint(1, 12)
        due = rng.randint(0, 40)
        ratings = rng.randint(0, 30)
        self.add(
            FactKind.PUBLIC_SERVICE,
            date(YEAR, month, 1),
            _moment(date(YEAR, month, 28), rng),
            period=f"{YEAR}-{month:02}",
            revision=rng.randint(1, 3),
            received=due,
            repeat_received=0,
            due=due,
            closed_on_time=rng.randint(0, due),
            closures=due,
            reopens=0,
            ratings=ratings,
            satisfied_ratings=rng.randint(0, ratings),
        )


def unit_year(rng: random.Random, unit: str, size: int) -> list[Fact]:
    """About `size` facts of one unit's programme year, in the order they were made."""
    year = _Year(rng, unit)
    steps = [
        (year.assignment, 2),
        (year.progress, 8),
        (year.review, 2),
        (year.extension, 1),
        (year.missed, 3),
        (year.finding_step, 3),
        (year.one_of_a_kind, 3),
        (year.public_service, 1),
    ]
    makers = [make for make, weight in steps for _ in range(weight)]
    year.assignment()
    while len(year.facts) < size:
        rng.choice(makers)()
    return year.facts
