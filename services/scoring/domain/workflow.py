"""Closing a period as an assessment office does: 公示 → 申诉 → 复核 → 定档. Pure rules, no I/O.

A period is `open` until the office closes it; the close publishes provisional results for a
公示 of `publicity_working_days` working days, during which each unit may file one appeal
(申诉) on line items of its own card. The office answers every appeal in writing (复核): it
upholds the result or corrects it with recorded adjustments. Once the 公示 is over and every
appeal answered, the office finalises (定档): the results, corrections included, no longer
change. A second 定档 is harmless.

Late-event rule: events that reach scoring after a period is closed are recorded and shown on the
unit's card as late events, but never change what was publicised; before 定档 the office may
publish a revision to take them in (which starts a new 公示), after 定档 they stay out of the
period's results for good (the office takes them into a later period if it so decides).

Every result row is built by `result_row`, the one place that reads a scorecard's figures.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from contracts.scoring import GRADE_NAMES, LineAdjustment, TypeScore, UnitResult
from services.runtime.workdays import WorkingCalendar, chinese_date
from services.scoring.domain.cards import LineItem, Scorecard
from services.scoring.domain.earned import band_grade
from services.scoring.domain.policy import ResultsPolicy
from services.scoring.domain.ranking import Ranked, Standing, rank, rank_earned
from services.scoring.domain.rubric import EarnedRubric, Rubric
from services.scoring.domain.rubric_earned import GRADE_ORDER

CENT = Decimal("0.01")


class Stage(StrEnum):
    OPEN = "open"
    PUBLICISED = "publicised"  # 公示
    FINALISED = "finalised"  # 定档


STAGE_NAMES = {
    Stage.OPEN: ("未发布", "open"),
    Stage.PUBLICISED: ("公示中", "publicised"),
    Stage.FINALISED: ("已定档", "final"),
}


class Refused(Exception):
    """A request the workflow refuses; nothing is changed. `code` is stable; as in a problem
    document, `detail` is Chinese and `detail_en` English (`detail` serves both without it)."""

    def __init__(
        self,
        status: int,
        code: str,
        zh: str,
        en: str,
        detail: str | None = None,
        detail_en: str | None = None,
    ):
        super().__init__(detail_en or detail or en)
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.detail, self.detail_en = detail, detail_en


class Explained(Exception):
    """A refusal raised below the HTTP layer (which gives it its code and title) with its detail
    in Chinese and in English; a bare code or id serves both. `str()` is the English."""

    def __init__(self, detail_zh: str, detail_en: str | None = None):
        super().__init__(detail_en or detail_zh)
        self.detail_zh, self.detail_en = detail_zh, detail_en or detail_zh


@dataclass(frozen=True)
class Publicity:
    """The 公示 of one published revision."""

    revision: int
    published_on: date
    ends_on: date  # the last working day of the 公示
    appeal_deadline: date


@dataclass(frozen=True)
class PeriodState:
    stage: Stage
    publicity: Publicity | None = None  # the latest revision's

    def check_can_publish(self) -> None:
        if self.stage is Stage.FINALISED:
            raise period_finalised()

    def check_appeal_window(self, today: date) -> Publicity:
        if self.stage is Stage.FINALISED:
            raise period_finalised()
        if self.publicity is None:
            raise Refused(
                409,
                "period_not_publicised",
                "该考核周期结果尚未公示，不能申诉",
                "The period's results are not publicised; there is nothing to appeal yet",
            )
        if today > self.publicity.appeal_deadline:
            raise Refused(
                409,
                "appeal_window_closed",
                "申诉期已过，不再受理申诉",
                "The appeal window has closed",
                f"申诉受理截至{chinese_date(self.publicity.appeal_deadline)}",
                f"appeals were accepted until {self.publicity.appeal_deadline.isoformat()}",
            )
        return self.publicity

    def check_can_finalise(self, today: date, undecided: Mapping[str, str]) -> Publicity:
        """`undecided`: the unit (code to name) of every appeal not yet answered."""
        if self.publicity is None:
            raise Refused(
                409,
                "period_not_publicised",
                "该考核周期结果尚未公示，不能定档",
                "The period's results must be publicised before they are finalised",
            )
        if today <= self.publicity.ends_on:
            raise Refused(
                409,
                "publicity_not_over",
                "公示期未满，不能定档",
                "The publicity period is not over yet",
                f"公示期至{chinese_date(self.publicity.ends_on)}结束",
                f"the 公示 ends on {self.publicity.ends_on.isoformat()}",
            )
        if undecided:
            raise Refused(
                409,
                "appeals_pending",
                "尚有申诉未复核答复，不能定档",
                "Some appeals are not answered yet",
                "未答复的申诉单位：" + "、".join(undecided[u] for u in sorted(undecided)),
                "undecided appeals of " + ", ".join(sorted(undecided)),
            )
        return self.publicity


def period_finalised() -> Refused:
    return Refused(
        409,
        "period_finalised",
        "该考核周期结果已定档，不再变更",
        "The period's results are final and no longer change",
    )


def publicity(
    calendar: WorkingCalendar, revision: int, published_on: date, policy: ResultsPolicy
) -> Publicity:
    return Publicity(
        revision=revision,
        published_on=published_on,
        ends_on=calendar.add_working_days(published_on, policy.publicity_working_days),
        appeal_deadline=calendar.add_working_days(published_on, policy.appeal_days),
    )


# ----------------------------------------------------------------------------- line items


def line_item_key(item: LineItem) -> str:
    """How an appeal and a correction name a line item: its rule and type."""
    return f"{item.rule}:{item.type}"


def check_appeal(reason: str, contested: Sequence[str], card: Scorecard) -> None:
    if not reason.strip():
        raise Refused(
            422, "appeal_reason_missing", "申诉须写明理由", "An appeal must give its reason"
        )
    check_line_items(contested, card)


def check_line_items(keys: Iterable[str], card: Scorecard) -> None:
    """Line items are named by their keys (codes); the Chinese detail names the card's own
    items by name as well."""
    names = {line_item_key(item): item.name_zh for item in card.line_items}
    unknown = sorted(set(keys) - set(names))
    if unknown:
        on_card = "、".join(f"{names[key]}（{key}）" for key in sorted(names)) or "无"
        raise Refused(
            422,
            "unknown_line_item",
            "所列考核扣加分项不在本单位的考核结果中",
            "A line item named is not on the unit's card",
            f"考核结果中没有：{'、'.join(unknown)}；考核结果中的分项：{on_card}",
            f"not on the card: {', '.join(unknown)}; on it: {', '.join(sorted(names))}",
        )


def check_decision(
    outcome: str, answer: str, adjustments: Sequence[LineAdjustment], card: Scorecard
) -> None:
    if not answer.strip():
        raise Refused(
            422,
            "answer_missing",
            "复核结论须有书面答复",
            "A review decision needs a written answer",
        )
    if outcome == "corrected" and not adjustments:
        raise Refused(
            422,
            "correction_missing",
            "予以更正的须列明调整的分项、分值和理由",
            "A correction must list the adjusted line items, points and reasons",
        )
    if outcome == "upheld" and adjustments:
        raise Refused(
            422,
            "adjustment_not_allowed",
            "维持原结果的不能调整分值",
            "An upheld result cannot carry adjustments",
        )
    if any(a.points == 0 for a in adjustments):
        raise Refused(
            422, "adjustment_zero", "调整分值不能为零", "An adjustment cannot be zero points"
        )
    if any(not a.reason.strip() for a in adjustments):
        raise Refused(
            422,
            "adjustment_reason_missing",
            "每项调整须写明理由",
            "Every adjustment needs a reason",
        )
    check_line_items((a.line_item for a in adjustments), card)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name_zh: str
    peer_group: str


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def result_row(card: Scorecard, unit: UnitInfo, policy: ResultsPolicy) -> UnitResult:
    """A unit's result from its card: the one place that reads a card's figures. The rank and the
    lists are set by `rank_group`, corrections by `corrected`."""
    total: Decimal | None = card.total
    deductions = (
        card.deductions
        if card.model == "earned"
        else sum((i.points for i in card.line_items if i.points < 0), Decimal(0))
    )
    verdicts = "；".join(
        f"{'一票否决' if v.kind == 'veto' else f'降{v.steps}等'}（{v.document}）"
        for v in card.verdicts
    )
    return UnitResult(
        unit=unit.code,
        unit_name=unit.name_zh,
        peer_group=unit.peer_group,
        rank=None,
        tied=False,
        honour=None,
        total=None if total is None else float(total),
        full_marks=float(card.base),
        types=[
            TypeScore(type=t.type, score=float(t.score), full_marks=float(t.full_marks))
            for t in card.types
        ],
        bonus=float(card.bonus),
        deductions=float(deductions),
        adjustments=0.0,
        grade=card.grade,
        band_grade=card.band_grade,
        on_time_rate=None if card.on_time_rate is None else float(card.on_time_rate),
        verdict=verdicts or None,
        comprehensive_points=_comprehensive(total, Decimal(str(card.base)), policy),
    )


def _comprehensive(
    total: Decimal | None, full_marks: Decimal, policy: ResultsPolicy
) -> float | None:
    """The total converted into the city's 综合考核 (折算为 X 分), in proportion to full marks."""
    if total is None:
        return None
    return float(_cents(total * policy.comprehensive_points / full_marks))


def corrected(
    row: UnitResult, adjustments: Sequence[LineAdjustment], policy: ResultsPolicy, rubric: Rubric
) -> UnitResult:
    """The result with the corrections decided on appeal: each adjustment moves its line item's
    type and the total, and the 等次 follows the corrected total (the office's verdicts still
    lower it by as many grades as before)."""
    if not adjustments:
        return row
    by_type: dict[str, Decimal] = {}
    for adjustment in adjustments:
        kind = adjustment.line_item.split(":")[1]
        by_type[kind] = by_type.get(kind, Decimal(0)) + Decimal(str(adjustment.points))
    change = sum(by_type.values(), Decimal(0))
    total = None if row.total is None else _cents(Decimal(str(row.total)) + change)
    return row.model_copy(
        update={
            "total": None if total is None else float(total),
            "types": [
                t.model_copy(
                    update={"score": float(Decimal(str(t.score)) + by_type.get(t.type, 0))}
                )
                for t in row.types
            ],
            "adjustments": float(Decimal(str(row.adjustments)) + change),
            "comprehensive_points": _comprehensive(total, Decimal(str(row.full_marks)), policy),
            **_regraded(row, total, rubric),
        }
    )


def _regraded(row: UnitResult, total: Decimal | None, rubric: Rubric) -> dict[str, Any]:
    if not isinstance(rubric, EarnedRubric) or total is None or row.band_grade is None:
        return {}
    band = band_grade(total, rubric)
    lowered = GRADE_ORDER.index(row.grade or band) - GRADE_ORDER.index(row.band_grade)
    grade = GRADE_ORDER[min(GRADE_ORDER.index(band) + lowered, len(GRADE_ORDER) - 1)]
    return {"band_grade": band, "grade": grade}


def rank_group(rows: Sequence[UnitResult], rubric: Rubric) -> list[UnitResult]:
    """Rank a peer group's results by the rubric's rules; a unit without a score is listed last,
    unranked."""
    ranked = {r.unit: r for r in _ranked([r for r in rows if r.total is not None], rubric)}
    by_unit = {r.unit: r for r in rows}
    ordered = [by_unit[u] for u in ranked] + sorted(
        (r for r in rows if r.total is None), key=lambda r: r.unit
    )
    return [
        row.model_copy(
            update={
                "rank": ranked[row.unit].rank,
                "tied": ranked[row.unit].tied,
                "honour": ranked[row.unit].honour,
                "grade": ranked[row.unit].grade if isinstance(rubric, EarnedRubric) else row.grade,
            }
        )
        if row.unit in ranked
        else row
        for row in ordered
    ]


def _ranked(scored: Sequence[UnitResult], rubric: Rubric) -> list[Ranked]:
    standings = [
        Standing(
            row.unit,
            Decimal(str(row.total)),
            deductions=-Decimal(str(row.deductions)),
            on_time_rate=Decimal(str(row.on_time_rate or 0)),
            bonus=Decimal(str(row.bonus)),
            grade=row.grade,
        )
        for row in scored
    ]
    if isinstance(rubric, EarnedRubric):
        return rank_earned(standings, rubric)
    return rank(standings, rubric.honour_roll)


def grade_name(grade: str | None) -> str:
    return GRADE_NAMES[grade][0] if grade else "—"


def adjustments_by_unit(decisions: Iterable[Mapping[str, Any]]) -> dict[str, list[LineAdjustment]]:
    """unit -> the adjustments decided on its appeal (AppealDecided payloads)."""
    found: dict[str, list[LineAdjustment]] = {}
    for decision in decisions:
        found.setdefault(decision["unit"], []).extend(
            LineAdjustment.model_validate(a) for a in decision["adjustments"]
        )
    return found


# ----------------------------------------------------------------------------- appeal evidence


class LineChange(BaseModel):
    """One line item in two versions of a card; None where a version has no such line."""

    line_item: str
    name_zh: str
    name_en: str
    before: Decimal | None
    after: Decimal | None
    change: Decimal
    events_added: list[str]
    events_removed: list[str]


class CardDiff(BaseModel):
    total_before: Decimal | None
    total_after: Decimal | None
    rubric_before: str
    rubric_after: str
    lines: list[LineChange]


def card_diff(before: Scorecard, after: Scorecard) -> CardDiff:
    """Line by line, what differs between two versions of a card (as of two dates, or under two
    rubric versions): the evidence an appeal's answer can show. Unchanged lines are left out."""
    old = {line_item_key(i): i for i in before.line_items}
    new = {line_item_key(i): i for i in after.line_items}
    lines = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        named = b or a
        assert named is not None
        was, now = (a.points if a else None), (b.points if b else None)
        events_a, events_b = set(a.events if a else ()), set(b.events if b else ())
        if was == now and events_a == events_b:
            continue
        lines.append(
            LineChange(
                line_item=key,
                name_zh=named.name_zh,
                name_en=named.name_en,
                before=was,
                after=now,
                change=(now or Decimal(0)) - (was or Decimal(0)),
                events_added=sorted(events_b - events_a),
                events_removed=sorted(events_a - events_b),
            )
        )
    return CardDiff(
        total_before=before.total,
        total_after=after.total,
        rubric_before=before.rubric_version,
        rubric_after=after.rubric_version,
        lines=lines,
    )
