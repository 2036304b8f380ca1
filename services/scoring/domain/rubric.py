"""The rubric (考核评分细则): versioned data, one file per programme year, validated as a whole.

Formulas are declarative: each indicator names a formula (`per_event` or `rate`), the input it
reads (see inputs.INPUTS) and its parameters. Nothing is evaluated as code. A rubric that names an
unknown formula, input, attribute or type, or whose weights do not sum as declared, is refused
with every problem listed, and whatever rubric was in force stays in force.
"""

import hashlib
import json
from collections import Counter
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.scoring.domain.inputs import FIVE_TYPES, INPUTS
from services.scoring.domain.periods import PeriodKind

VERSION_PATTERN = r"^\d{4}\.\d+$"
Points = Annotated[Decimal, Field(gt=0, le=1000, decimal_places=2)]
Share = Annotated[Decimal, Field(gt=0, le=1, decimal_places=4)]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
FilterValue = str | bool | list[str | bool]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PeriodCaps(_Frozen):
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


class Selector(_Frozen):
    """Observations of one input that match `where`; counted, or summed over a numeric field."""

    input: str
    where: dict[str, FilterValue] = Field(default_factory=dict)
    sum: str | None = None

    @property
    def conditions(self) -> dict[str, frozenset[str]]:
        return _filter(self.where)


class PointsBy(_Frozen):
    """Points that depend on an attribute, e.g. a finding's severity."""

    attribute: str
    values: dict[str, Points]


class _Indicator(_Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=200)
    type: str | None = Field(default=None, description="Always count in this type.")
    fallback_type: str | None = Field(
        default=None, description="The type for observations of no typed measure."
    )


class PerEvent(_Indicator):
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


class Proportional(_Frozen):
    """Deduct `share_of_type` of the type's full marks (or fixed `points`) times (1 − rate)."""

    mode: Literal["proportional"]
    share_of_type: Share | None = None
    points: Points | None = None

    @model_validator(mode="after")
    def _one_size(self) -> Self:
        if (self.share_of_type is None) == (self.points is None):
            raise ValueError("proportional scoring: give exactly one of share_of_type and points")
        return self


class Target(_Frozen):
    """Deduct `points_per_percent` for each percentage point the rate falls short of `target`
    (`at_least`) or exceeds it (`at_most`), up to `cap`."""

    mode: Literal["target"]
    target: Percent
    direction: Literal["at_least", "at_most"] = "at_least"
    points_per_percent: Points
    cap: Cap | None = None


class Rate(_Indicator):
    """numerator / denominator over a card's observations; none when the denominator is 0."""

    formula: Literal["rate"]
    numerator: Selector
    denominator: Selector
    per_type: bool = Field(default=False, description="One rate per type of measure.")
    scoring: Annotated[Proportional | Target, Field(discriminator="mode")]

    @model_validator(mode="after")
    def _lands_in_a_type(self) -> Self:
        if self.per_type == (self.type is not None):
            raise ValueError(
                f"indicator {self.id}: a rate either is per_type or names its `type`, not both"
            )
        return self


Indicator = Annotated[PerEvent | Rate, Field(discriminator="formula")]


class HonourRoll(_Frozen):
    """The red and black lists (红黑榜) of each peer group when a period is published."""

    red_top: int = Field(ge=0, le=50)
    black_bottom: int = Field(ge=0, le=50)
    black_only_below: Decimal | None = Field(
        default=None, description="Only a total below this puts a unit on the black list."
    )


class Rubric(_Frozen):
    programme_year: int = Field(ge=2022, le=2100)
    version: str = Field(pattern=VERSION_PATTERN)
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=300)
    base: Points
    weights_total: Points
    weights: dict[str, Points]
    default_type: str
    type_floor: Decimal = Field(default=Decimal(0), ge=0)
    bonus_cap: Cap
    total_floor: Decimal = Field(default=Decimal(0), ge=0)
    honour_roll: HonourRoll
    indicators: tuple[Indicator, ...] = Field(min_length=1)

    @property
    def number(self) -> int:
        """The version's sequence within its year: 2026.3 -> 3."""
        return int(self.version.split(".")[1])

    def full_marks(self, type_code: str) -> Decimal:
        return self.base * self.weights[type_code] / self.weights_total

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=False)

    @property
    def sha256(self) -> str:
        canonical = json.dumps(self.document(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


class RubricRefused(ValueError):
    """The rubric cannot be used; `errors` lists every problem found, each with its location."""

    def __init__(self, source: str, errors: list[str]):
        super().__init__(f"rubric {source} refused: " + "; ".join(errors))
        self.source = source
        self.errors = errors


def _location(loc: tuple[int | str, ...], document: dict[str, Any]) -> str:
    text = ""
    node: Any = document
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            ident = node.get("id") if isinstance(node, dict) else None
            text += f"[{part}]" + (f" ({ident})" if ident else "")
        elif part in ("per_event", "rate", "proportional", "target") and (
            not isinstance(node, dict) or part not in node
        ):
            continue  # pydantic names the union member it tried; the reader needs the path
        else:
            node = node.get(part) if isinstance(node, dict) else None
            text += f".{part}" if text else str(part)
    return text or "rubric"


def _pydantic_errors(error: ValidationError, document: dict[str, Any]) -> list[str]:
    messages = []
    for item in error.errors():
        message = item["msg"]
        if item["type"] == "union_tag_invalid":
            context = item.get("ctx", {})
            message = (
                f"unknown {context.get('discriminator', 'kind').strip(chr(39))} "
                f"{context.get('tag')!r}; known: {context.get('expected_tags')}"
            )
        elif item["type"] == "union_tag_not_found":
            message = f"missing {item.get('ctx', {}).get('discriminator', 'kind')}"
        messages.append(f"{_location(tuple(item['loc']), document)}: {message}")
    return messages


def _check_selector(where: str, selector: Selector | PerEvent, numbers: list[str]) -> list[str]:
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


def _check_per_event(where: str, indicator: PerEvent) -> list[str]:
    numbers = [indicator.multiply_by] if indicator.multiply_by else []
    errors = _check_selector(where, indicator, numbers)
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


def _check_indicator(index: int, indicator: PerEvent | Rate) -> list[str]:
    where = f"indicators[{index}] ({indicator.id})"
    errors = [
        f"{where}.{name}: unknown type {value!r}; the types are {list(FIVE_TYPES)}"
        for name, value in (("type", indicator.type), ("fallback_type", indicator.fallback_type))
        if value is not None and value not in FIVE_TYPES
    ]
    if isinstance(indicator, PerEvent):
        return errors + _check_per_event(where, indicator)
    for part in ("numerator", "denominator"):
        selector: Selector = getattr(indicator, part)
        numbers = [selector.sum] if selector.sum else []
        errors += _check_selector(f"{where}.{part}", selector, numbers)
    return errors


def _check(rubric: Rubric) -> list[str]:
    errors = []
    if not rubric.version.startswith(f"{rubric.programme_year}."):
        errors.append(
            f"version: {rubric.version} does not belong to programme year {rubric.programme_year}"
        )
    if unknown := sorted(set(rubric.weights) - set(FIVE_TYPES)):
        errors.append(f"weights: unknown type(s) {unknown}; the types are {list(FIVE_TYPES)}")
    if missing := [t for t in FIVE_TYPES if t not in rubric.weights]:
        errors.append(f"weights: no weight for {missing}")
    total = sum(rubric.weights.values(), Decimal(0))
    if total != rubric.weights_total:
        errors.append(f"weights: sum to {total}, but weights_total declares {rubric.weights_total}")
    if rubric.default_type not in FIVE_TYPES:
        errors.append(f"default_type: unknown type {rubric.default_type!r}")
    if duplicates := sorted(
        i for i, n in Counter(x.id for x in rubric.indicators).items() if n > 1
    ):
        errors.append(f"indicators: duplicate id(s) {duplicates}")
    for index, indicator in enumerate(rubric.indicators):
        errors += _check_indicator(index, indicator)
    return errors


def parse_rubric(text: str, source: str) -> Rubric:
    """Read and validate a rubric (YAML or JSON); raises RubricRefused listing every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RubricRefused(source, [f"{where}not valid YAML ({problem})"]) from exc
    if not isinstance(document, dict):
        raise RubricRefused(source, ["rubric: expected a mapping at the top level"])
    return rubric_from_document(document, source)


def rubric_from_document(document: dict[str, Any], source: str) -> Rubric:
    try:
        rubric = Rubric.model_validate(document)
    except ValidationError as exc:
        raise RubricRefused(source, _pydantic_errors(exc, document)) from exc
    if errors := _check(rubric):
        raise RubricRefused(source, errors)
    return rubric
