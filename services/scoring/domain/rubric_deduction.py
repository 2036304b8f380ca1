"""The deduction model of rubric 2026.1 (kept so that its cards stay reproducible): every unit
starts each period at `base` points split over the five types by weight, deductions come off the
type they concern, bonuses are added on top up to a cap."""

from collections import Counter
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from contracts.common import invalid_value
from services.scoring.domain.rubric_parts import (
    Cap,
    FieldProblem,
    Frozen,
    IndicatorBase,
    Percent,
    PerEvent,
    Points,
    RubricBase,
    Selector,
    Share,
    check_per_event,
    check_selector,
    check_type,
    check_version,
    check_weights,
    duplicate_ids,
)


class Proportional(Frozen):
    """Deduct `share_of_type` of the type's full marks (or fixed `points`) times (1 − rate)."""

    mode: Literal["proportional"]
    share_of_type: Share | None = None
    points: Points | None = None

    @model_validator(mode="after")
    def _one_size(self) -> Self:
        if (self.share_of_type is None) == (self.points is None):
            raise invalid_value(
                "按比例计分：“share_of_type”与“points”须且只能填写其一",
                "proportional scoring: give exactly one of share_of_type and points",
            )
        return self


class Target(Frozen):
    """Deduct `points_per_percent` for each percentage point the rate falls short of `target`
    (`at_least`) or exceeds it (`at_most`), up to `cap`."""

    mode: Literal["target"]
    target: Percent
    direction: Literal["at_least", "at_most"] = "at_least"
    points_per_percent: Points
    cap: Cap | None = None


class Rate(IndicatorBase):
    """numerator / denominator over a card's observations; none when the denominator is 0."""

    formula: Literal["rate"]
    numerator: Selector
    denominator: Selector
    per_type: bool = Field(default=False, description="One rate per type of measure.")
    scoring: Annotated[Proportional | Target, Field(discriminator="mode")]

    @model_validator(mode="after")
    def _lands_in_a_type(self) -> Self:
        if self.per_type == (self.type is not None):
            raise invalid_value(
                f"指标 {self.id}：比率要么按类型（“per_type”），要么指明“type”，二者只能居其一",
                f"indicator {self.id}: a rate either is per_type or names its `type`, not both",
            )
        return self


Indicator = Annotated[PerEvent | Rate, Field(discriminator="formula")]


class HonourRoll(Frozen):
    """The red and black lists (红黑榜) of each peer group when a period is published."""

    red_top: int = Field(ge=0, le=50)
    black_bottom: int = Field(ge=0, le=50)
    black_only_below: Decimal | None = Field(
        default=None, description="Only a total below this puts a unit on the black list."
    )


class DeductionRubric(RubricBase):
    """The 2026.1 model: every unit starts at `base`, split over the types by weight; deductions
    come off the type they concern; bonuses on top up to a cap."""

    model: Literal["deduction"] = "deduction"
    base: Points
    weights_total: Points
    weights: dict[str, Points]
    default_type: str
    type_floor: Decimal = Field(default=Decimal(0), ge=0)
    bonus_cap: Cap
    total_floor: Decimal = Field(default=Decimal(0), ge=0)
    honour_roll: HonourRoll
    indicators: tuple[Indicator, ...] = Field(min_length=1)

    def full_marks(self, type_code: str) -> Decimal:
        return self.base * self.weights[type_code] / self.weights_total


def _check_indicator(index: int, indicator: PerEvent | Rate) -> list[FieldProblem]:
    where = f"indicators[{index}] ({indicator.id})"
    errors = check_type(f"{where}.type", indicator.type)
    errors += check_type(f"{where}.fallback_type", indicator.fallback_type)
    if isinstance(indicator, PerEvent):
        return errors + check_per_event(where, indicator)
    for part in ("numerator", "denominator"):
        selector: Selector = getattr(indicator, part)
        numbers = [selector.sum] if selector.sum else []
        errors += check_selector(f"{where}.{part}", selector, numbers)
    return errors


def check_deduction(rubric: DeductionRubric) -> list[FieldProblem]:
    errors = check_version(rubric) + check_weights("weights", rubric.weights)
    total = sum(rubric.weights.values(), Decimal(0))
    if total != rubric.weights_total:
        errors.append(
            FieldProblem(
                "weights",
                f"权重之和为 {total}，而 weights_total 为 {rubric.weights_total}",
                f"sum to {total}, but weights_total declares {rubric.weights_total}",
            )
        )
    errors += check_type("default_type", rubric.default_type)
    if duplicates := sorted(
        i for i, n in Counter(x.id for x in rubric.indicators).items() if n > 1
    ):
        errors.append(duplicate_ids(duplicates))
    for index, indicator in enumerate(rubric.indicators):
        errors += _check_indicator(index, indicator)
    return errors
