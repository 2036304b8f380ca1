"""The earned model (2026.2 on): points are earned by the work a unit was given.

基本分 = 个性指标 (the unit's assigned tasks, by type) + 共性指标 (common indicators), each part
counted only where the unit has something assessable and rescaled so the parts it has make up
`base`; then 加分 (bonuses, capped) and 扣分 (deductions for what is still wrong, capped); then
等次 by score bands with a quota on 优秀, 一票否决 and 降等 as the office records them.
"""

from collections import Counter
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from contracts.common import invalid_value
from contracts.scoring import GRADE_NAMES
from services.scoring.domain.rubric_parts import (
    Cap,
    FieldProblem,
    Frozen,
    Percent,
    PerEvent,
    Points,
    RubricBase,
    Selector,
    check_per_event,
    check_selector,
    check_version,
    check_weights,
    duplicate_ids,
)

Fraction = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]
GRADE_ORDER = tuple(GRADE_NAMES)  # best first
TieBreak = Literal["fewer_deductions", "on_time_rate", "more_bonus"]


class LateCredit(Frozen):
    """Credit of an item completed late: `first_day` on the day after its due date, `per_day` less
    for each further day, never below `floor`, which is above 0 so that finishing late always
    beats never finishing."""

    first_day: Fraction
    per_day: Fraction
    floor: Fraction = Field(gt=0)

    @model_validator(mode="after")
    def _below_on_time(self) -> Self:
        if not self.floor <= self.first_day < 1:
            raise invalid_value(
                "late_credit：须“floor”≤ first_day < 1（按时完成得 1）",
                "late_credit: need floor ≤ first_day < 1 (on time earns 1)",
            )
        return self


class ItemWeights(Frozen):
    """The weight of one item of each kind within its type."""

    milestone: Points
    obligation: Points
    target: Points


class TaskRules(Frozen):
    """个性指标: the tasks assigned to the unit, scored by degree of completion."""

    points: Points
    weights: dict[str, Points]
    item_weights: ItemWeights
    late_credit: LateCredit
    level_target_credit: Fraction = Field(
        default=Decimal("0.5"), description="A 'rises' target that stayed at last year's value."
    )


class CommonIndicator(Frozen):
    """共性指标. `guarantee_tasks` scores the items of the guarantee measures (G1-G4: the annual
    plan, the annual report …) like tasks; `rate` scores numerator / denominator against a
    `target` or the peer group's average, and only from `min_cases` cases on."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    points: Points
    source: Literal["guarantee_tasks", "rate"]
    numerator: Selector | None = None
    denominator: Selector | None = None
    compare: Literal["target", "peer_average"] = "target"
    target: Percent | None = None
    direction: Literal["at_least", "at_most"] = "at_least"
    min_cases: int = Field(default=0, ge=0, le=100000)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        is_rate = self.source == "rate"
        if is_rate != (self.numerator is not None and self.denominator is not None):
            raise invalid_value(
                f"{self.id}：比率须有“numerator”与“denominator”，且只有比率才有",
                f"{self.id}: a rate needs numerator and denominator, and only a rate",
            )
        if is_rate and self.compare == "target" and self.target is None:
            raise invalid_value(
                f"{self.id}：“compare”为“target”时须填写“target”",
                f"{self.id}: compare 'target' needs a target",
            )
        return self


class GradeBands(Frozen):
    """等次 by the total: 优秀 from `excellent`, 良好 from `good`, 一般 from `fair`, else 较差;
    at most `excellent_quota_percent` of a peer group's scored units are 优秀."""

    excellent: Percent
    good: Percent
    fair: Percent
    excellent_quota_percent: Percent

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.excellent > self.good > self.fair:
            raise invalid_value(
                f"“grades”：等次分数线重叠；须“excellent”（{self.excellent}）>“good”（{self.good}）"
                f">“fair”（{self.fair}）",
                f"grades: bands overlap; need excellent ({self.excellent}) > good ({self.good}) "
                f"> fair ({self.fair})",
            )
        return self


class Lists(Frozen):
    """红榜 and 黑榜 of a peer group, as a share of its scored units: at least one unit when the
    share is above 0, never the whole group; the 黑榜 only below `black_only_below`."""

    red_percent: Percent
    black_percent: Percent
    black_only_below: Decimal | None = None


class EarnedRubric(RubricBase):
    model: Literal["earned"]
    notice_zh: str = Field(min_length=1, max_length=500)
    base: Points
    tasks: TaskRules
    common: tuple[CommonIndicator, ...] = ()
    deductions: tuple[PerEvent, ...] = ()
    deduction_cap: Cap | None = None
    bonuses: tuple[PerEvent, ...] = ()
    bonus_cap: Cap
    grades: GradeBands
    honour_roll: Lists
    tie_break: tuple[TieBreak, ...] = ("fewer_deductions", "on_time_rate")

    def indicator_ids(self) -> list[str]:
        return [i.id for i in self.common] + [i.id for i in (*self.deductions, *self.bonuses)]


def _check_common(index: int, indicator: CommonIndicator) -> list[FieldProblem]:
    where = f"common[{index}] ({indicator.id})"
    errors = []
    for part in ("numerator", "denominator"):
        selector: Selector | None = getattr(indicator, part)
        if selector is not None:
            numbers = [selector.sum] if selector.sum else []
            errors += check_selector(f"{where}.{part}", selector, numbers)
    return errors


def _check_adjustments(
    name: str, indicators: tuple[PerEvent, ...], effect: str
) -> list[FieldProblem]:
    errors = []
    for index, indicator in enumerate(indicators):
        where = f"{name}[{index}] ({indicator.id})"
        if indicator.effect != effect:
            errors.append(
                FieldProblem(
                    f"{where}.effect", f"在 {name} 中须为 {effect}", f"must be {effect} in {name}"
                )
            )
        errors += check_per_event(where, indicator)
    return errors


def check_earned(rubric: EarnedRubric) -> list[FieldProblem]:
    errors = check_version(rubric)
    errors += check_weights("tasks.weights", rubric.tasks.weights)
    if duplicates := sorted(i for i, n in Counter(rubric.indicator_ids()).items() if n > 1):
        errors.append(duplicate_ids(duplicates))
    for index, indicator in enumerate(rubric.common):
        errors += _check_common(index, indicator)
    errors += _check_adjustments("deductions", rubric.deductions, "deduction")
    errors += _check_adjustments("bonuses", rubric.bonuses, "bonus")
    if len(set(rubric.tie_break)) != len(rubric.tie_break):
        errors.append(FieldProblem("tie_break", "有规则重复列出", "a rule is named twice"))
    return errors
