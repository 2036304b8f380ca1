"""What both rubric models are made of: points and caps, selectors of observations, per-event
indicators, the fields every rubric has, and the checks of selectors against the inputs."""

import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.common import invalid_value
from services.runtime.field_errors import FieldProblem
from services.scoring.domain.inputs import FIVE_TYPES, INPUTS
from services.scoring.domain.periods import PeriodKind

VERSION_PATTERN = r"^\d{4}\.\d+$"
Points = Annotated[Decimal, Field(gt=0, le=1000, decimal_places=2)]
Share = Annotated[Decimal, Field(gt=0, le=1, decimal_places=4)]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
FilterValue = str | bool | list[str | bool]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PeriodCaps(Frozen):
    """A cap that grows with the period: a year tolerates more than a month."""

    month: Points
    quarter: Points
    year: Points


Cap = Points | PeriodCaps


def cap_for(cap: Cap | None, kind: PeriodKind) -> Decimal | None:
    if cap is None or isinstance(cap, Decimal):
        return cap
    return Decimal(getattr(cap, kind.value))


def _as_text(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _filter(where: dict[str, FilterValue]) -> dict[str, frozenset[str]]:
    return {
        name: frozenset(_as_text(v) for v in (value if isinstance(value, list) else [value]))
        for name, value in where.items()
    }


class Selector(Frozen):
    """Observations of one input that match `where`; counted, or summed over a numeric field."""

    input: str
    where: dict[str, FilterValue] = Field(default_factory=dict)
    sum: str | None = None

    @property
    def conditions(self) -> dict[str, frozenset[str]]:
        return _filter(self.where)


class PointsBy(Frozen):
    """Points that depend on an attribute, e.g. a finding's severity."""

    attribute: str
    values: dict[str, Points]


class IndicatorBase(Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    type: str | None = Field(default=None, description="Always count in this type.")
    fallback_type: str | None = Field(
        default=None, description="The type for observations of no typed measure."
    )


class PerEvent(IndicatorBase):
    """`points` (or `points_by` an attribute) per matching observation, times `multiply_by` if
    given, up to `cap` per card; a deduction from the observation's type, or a bonus."""

    formula: Literal["per_event"]
    effect: Literal["deduction", "bonus"] = "deduction"
    input: str
    where: dict[str, FilterValue] = Field(default_factory=dict)
    points: Points | None = None
    points_by: PointsBy | None = None
    multiply_by: str | None = None
    cap: Cap | None = None

    @model_validator(mode="after")
    def _one_way_to_count(self) -> Self:
        if (self.points is None) == (self.points_by is None):
            raise invalid_value(
                f"指标 {self.id}：“points”与“points_by”须且只能填写其一",
                f"indicator {self.id}: give exactly one of points and points_by",
            )
        return self

    @property
    def conditions(self) -> dict[str, frozenset[str]]:
        return _filter(self.where)


class ResultsPolicy(Frozen):
    """The office's settings for publishing results (公示, 申诉, 综合考核 share)."""

    publicity_working_days: int = Field(
        default=5,
        ge=1,
        le=30,
        description="公示: results stay provisional for this many working days after publication "
        "(the programme calendar's working days, counted from the day after).",
    )
    appeal_working_days: int | None = Field(
        default=None,
        ge=1,
        le=30,
        description="申诉: units may appeal for this many working days; None: the whole 公示.",
    )
    comprehensive_points: Decimal = Field(
        default=Decimal(20),
        gt=0,
        le=1000,
        description="综合考核: the final total is converted to this many points of the city's "
        "comprehensive assessment (折算为 X 分), in proportion to the full marks.",
    )

    @property
    def appeal_days(self) -> int:
        return self.appeal_working_days or self.publicity_working_days


class RubricBase(Frozen):
    """The fields every rubric has, whatever its model."""

    programme_year: int = Field(ge=2022, le=2100)
    version: str = Field(pattern=VERSION_PATTERN)
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=300)
    results: ResultsPolicy = Field(default_factory=lambda: ResultsPolicy())

    @property
    def number(self) -> int:
        """The version's sequence within its year: 2026.3 -> 3."""
        return int(self.version.split(".")[1])

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)

    @property
    def sha256(self) -> str:
        canonical = json.dumps(self.document(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def check_version(rubric: RubricBase) -> list[FieldProblem]:
    if rubric.version.startswith(f"{rubric.programme_year}."):
        return []
    return [
        FieldProblem(
            "version",
            f"{rubric.version} 不属于 {rubric.programme_year} 年度",
            f"{rubric.version} does not belong to programme year {rubric.programme_year}",
        )
    ]


def check_type(where: str, value: str | None) -> list[FieldProblem]:
    if value is None or value in FIVE_TYPES:
        return []
    types = list(FIVE_TYPES)
    return [
        FieldProblem(
            where,
            f"未知类型 {value!r}；类型为 {types}",
            f"unknown type {value!r}; the types are {types}",
        )
    ]


def check_weights(where: str, weights: dict[str, Decimal]) -> list[FieldProblem]:
    types = list(FIVE_TYPES)
    errors = []
    if unknown := sorted(set(weights) - set(FIVE_TYPES)):
        errors.append(
            FieldProblem(
                where,
                f"未知类型 {unknown}；类型为 {types}",
                f"unknown type(s) {unknown}; the types are {types}",
            )
        )
    if missing := [t for t in FIVE_TYPES if t not in weights]:
        errors.append(FieldProblem(where, f"{missing} 没有权重", f"no weight for {missing}"))
    return errors


def duplicate_ids(ids: list[str]) -> FieldProblem:
    return FieldProblem("indicators", f"指标编号重复：{ids}", f"duplicate id(s) {ids}")


class RubricRefused(ValueError):
    """The rubric cannot be used; `problems` lists every problem found, each with its location,
    and `errors` says them in English."""

    def __init__(self, source: str, problems: list[FieldProblem]):
        self.source = source
        self.problems = problems
        self.errors = [p.said("en") for p in problems]
        super().__init__(f"rubric {source} refused: " + "; ".join(self.errors))


def check_selector(
    where: str, selector: Selector | PerEvent, numbers: list[str]
) -> list[FieldProblem]:
    spec = INPUTS.get(selector.input)
    if spec is None:
        known = sorted(INPUTS)
        return [
            FieldProblem(
                where,
                f"{selector.input!r} 不是计分输入；已有：{known}",
                f"input {selector.input!r} is not a scoring input; known: {known}",
            )
        ]
    errors = []
    for attribute, values in selector.conditions.items():
        allowed = spec.attributes.get(attribute)
        if allowed is None:
            has = sorted(spec.attributes)
            errors.append(
                FieldProblem(
                    f"{where}.where",
                    f"输入 {selector.input!r} 没有属性 {attribute!r}；它有：{has or '无'}",
                    f"input {selector.input!r} has no attribute {attribute!r}; "
                    f"it has: {has or 'none'}",
                )
            )
        elif unknown := sorted(values - set(allowed)):
            errors.append(
                FieldProblem(
                    f"{where}.where.{attribute}",
                    f"{unknown} 不在可取值 {list(allowed)} 之中",
                    f"{unknown} not among the values {list(allowed)}",
                )
            )
    for field in numbers:
        if field not in spec.numbers:
            has_numbers = list(spec.numbers)
            errors.append(
                FieldProblem(
                    where,
                    f"输入 {selector.input!r} 没有数值 {field!r}；它有：{has_numbers or '无'}",
                    f"input {selector.input!r} has no number {field!r}; "
                    f"it has: {has_numbers or 'none'}",
                )
            )
    return errors


def check_per_event(where: str, indicator: PerEvent) -> list[FieldProblem]:
    numbers = [indicator.multiply_by] if indicator.multiply_by else []
    errors = check_selector(where, indicator, numbers)
    spec = INPUTS.get(indicator.input)
    if indicator.points_by is not None and spec is not None:
        attribute = indicator.points_by.attribute
        allowed = spec.attributes.get(attribute)
        if allowed is None:
            errors.append(
                FieldProblem(
                    f"{where}.points_by",
                    f"输入 {indicator.input!r} 没有属性 {attribute!r}",
                    f"input {indicator.input!r} has no attribute {attribute!r}",
                )
            )
        else:
            given = {_as_text(v) for v in indicator.points_by.values}
            values = f"{where}.points_by.values"
            if unknown := sorted(given - set(allowed)):
                errors.append(
                    FieldProblem(
                        values,
                        f"{unknown} 不在 {list(allowed)} 之中",
                        f"{unknown} not among {list(allowed)}",
                    )
                )
            if missing := [v for v in allowed if v not in given]:
                errors.append(
                    FieldProblem(values, f"{missing} 没有分值", f"no points for {missing}")
                )
    return errors
