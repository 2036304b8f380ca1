"""What both rubric models are made of: points and caps, selectors of observations, per-event
indicators, the fields every rubric has, and the checks of selectors against the inputs."""

import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
            raise ValueError(f"indicator {self.id}: give exactly one of points and points_by")
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


def check_version(rubric: RubricBase) -> list[str]:
    if rubric.version.startswith(f"{rubric.programme_year}."):
        return []
    return [f"version: {rubric.version} does not belong to programme year {rubric.programme_year}"]


def check_type(where: str, value: str | None) -> list[str]:
    if value is None or value in FIVE_TYPES:
        return []
    return [f"{where}: unknown type {value!r}; the types are {list(FIVE_TYPES)}"]


class RubricRefused(ValueError):
    """The rubric cannot be used; `errors` lists every problem found, each with its location."""

    def __init__(self, source: str, errors: list[str]):
        super().__init__(f"rubric {source} refused: " + "; ".join(errors))
        self.source = source
        self.errors = errors


def check_selector(where: str, selector: Selector | PerEvent, numbers: list[str]) -> list[str]:
    spec = INPUTS.get(selector.input)
    if spec is None:
        return [
            f"{where}: input {selector.input!r} is not a scoring input; known: {sorted(INPUTS)}"
        ]
    errors = []
    for attribute, values in selector.conditions.items():
        allowed = spec.attributes.get(attribute)
        if allowed is None:
            errors.append(
                f"{where}.where: input {selector.input!r} has no attribute {attribute!r}; "
                f"it has: {sorted(spec.attributes) or 'none'}"
            )
        elif unknown := sorted(values - set(allowed)):
            errors.append(
                f"{where}.where.{attribute}: {unknown} not among the values {list(allowed)}"
            )
    for field in numbers:
        if field not in spec.numbers:
            errors.append(
                f"{where}: input {selector.input!r} has no number {field!r}; "
                f"it has: {list(spec.numbers) or 'none'}"
            )
    return errors


def check_per_event(where: str, indicator: PerEvent) -> list[str]:
    numbers = [indicator.multiply_by] if indicator.multiply_by else []
    errors = check_selector(where, indicator, numbers)
    spec = INPUTS.get(indicator.input)
    if indicator.points_by is not None and spec is not None:
        attribute = indicator.points_by.attribute
        allowed = spec.attributes.get(attribute)
        if allowed is None:
            errors.append(
                f"{where}.points_by: input {indicator.input!r} has no attribute {attribute!r}"
            )
        else:
            given = {_as_text(v) for v in indicator.points_by.values}
            if unknown := sorted(given - set(allowed)):
                errors.append(f"{where}.points_by.values: {unknown} not among {list(allowed)}")
            if missing := [v for v in allowed if v not in given]:
                errors.append(f"{where}.points_by.values: no points for {missing}")
    return errors
