"""The measure catalogue and the responsible units, as immutable validated data.

Both are versioned YAML files shipped with the service (data/catalogue/<year>.yaml and
data/units.yaml). They are validated as a whole when loaded, so a bad edit fails at start-up with a
message naming the offending code instead of surfacing later as an unknown measure on the bus.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.common import invalid_value
from contracts.envelope import UNIT_CODE_PATTERN

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def catalogue_path(year: int) -> Path:
    """Each programme year has its own file, so past scores stay explainable by past rules."""
    return DATA_DIR / "catalogue" / f"{year}.yaml"


DEFAULT_CATALOGUE_PATH = catalogue_path(2026)
DEFAULT_UNITS_PATH = DATA_DIR / "units.yaml"

TYPE_COUNT = 5  # the programme is "five-type" by definition
MEASURE_CODE = {"measure": re.compile(r"^M\d{2}$"), "guarantee": re.compile(r"^G\d$")}
# Targets and sub-tasks are addressed on the bus like measures, so they share the code alphabet.
PART_CODE = re.compile(r"^(?P<measure>[MG]\d+)-(?P<kind>[TS])\d+$")

Metric = Literal["count", "rate", "boolean", "report"]
Comparator = Literal[">=", "<=", "=="]
Cadence = Literal["weekly", "half_yearly", "annual", "once", "continuous"]
Direction = Literal["up", "down"]
# Who carries a recurring obligation: every responsible unit, the units leading the measure's
# assignments that year, or the units the policy names (the city's media, the office itself).
CarriedBy = Literal["all_units", "lead_units", "named"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _duplicates(codes: Iterable[str]) -> list[str]:
    return sorted(code for code, n in Counter(codes).items() if n > 1)


class MeasureType(_Frozen):
    """One of the five dimensions (忠诚型, 创新型, 担当型, 服务型, 过硬型)."""

    code: str = Field(pattern=r"^[a-z]+$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    goal_zh: str = Field(min_length=1)


class Obligation(_Frozen):
    """A target that recurs as a 周期性工作任务 of the units that carry it."""

    kind: str = Field(pattern=r"^[a-z_]+$", description="The standard obligation kind.")
    carried_by: CarriedBy
    units: tuple[str, ...] = Field(default=(), description="The named units (`named` only).")

    @model_validator(mode="after")
    def _names_units_only_when_named(self) -> Self:
        if (self.carried_by == "named") != bool(self.units):
            raise invalid_value(
                f"责任 {self.kind}：“carried_by”为“named”时须列出单位，否则不列",
                f"obligation {self.kind}: name units exactly when carried_by is named",
            )
        return self


class Target(_Frozen):
    """A checkable requirement of a measure.

    Either a threshold (`comparator` + `value`, e.g. >= 1 per year) or, where the document only
    says "raise", a `direction`; scoring needs one of the two to judge progress. A target may recur
    as an `obligation` of the units that carry it; an `aspiration` (争取/力争: national recognition,
    a national pilot, a State Council incentive) is never anyone's obligation: achieving it earns
    a bonus (AchievementRecognized), missing it costs nothing.
    """

    code: str
    description_zh: str = Field(min_length=1)
    description_en: str = Field(min_length=1)
    metric: Metric
    unit_zh: str | None = None
    comparator: Comparator | None = None
    value: bool | int | float | None = None
    direction: Direction | None = None
    cadence: Cadence
    obligation: Obligation | None = None
    aspiration: bool = False

    @model_validator(mode="after")
    def _threshold_or_direction(self) -> Self:
        if self.aspiration and self.obligation is not None:
            raise invalid_value(
                f"指标 {self.code}：争取性目标不作为考核责任",
                f"target {self.code}: an aspiration (争取) is never an obligation",
            )
        if (self.comparator is None) != (self.value is None):
            raise invalid_value(
                f"指标 {self.code}：“comparator”与“value”须同时填写",
                f"target {self.code}: comparator and value go together",
            )
        if self.comparator is None and self.direction is None:
            raise invalid_value(
                f"指标 {self.code}：须有目标值或方向",
                f"target {self.code}: needs a threshold or a direction",
            )
        if self.value is None:
            return self
        if (self.metric == "boolean") != isinstance(self.value, bool):
            raise invalid_value(
                f"指标 {self.code}：只有是否型指标取“true”或“false”",
                f"target {self.code}: only a boolean metric takes a true/false value",
            )
        if self.metric == "rate" and not 0 <= self.value <= 100:
            raise invalid_value(
                f"指标 {self.code}：比率为百分数（0-100），实为 {self.value}",
                f"target {self.code}: a rate is a percentage, got {self.value}",
            )
        return self

    def out_of_range(self, value: float) -> tuple[str, str] | None:
        """Why `value` cannot be a value of this target's metric (in Chinese and English), or
        None when it can."""
        if self.metric == "rate" and not 0 <= value <= 100:
            return (
                f"{self.code} 是百分比（0至100），填报值为 {value:g}",
                f"{self.code} is a rate in percent (0 to 100), got {value}",
            )
        if self.metric == "boolean" and value not in (0, 1):
            return (
                f"{self.code} 只能填 1（是）或 0（否），填报值为 {value:g}",
                f"{self.code} is a yes/no target (1 or 0), got {value}",
            )
        if self.metric in ("count", "report") and (value < 0 or not float(value).is_integer()):
            return (
                f"{self.code} 是数量（不小于0的整数），填报值为 {value:g}",
                f"{self.code} is a count (a whole number from 0), got {value}",
            )
        return None


class Subtask(_Frozen):
    """A named piece of work inside a measure, e.g. one of M10's two special actions."""

    code: str
    title_zh: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class Measure(_Frozen):
    """A numbered measure (M01..M18, belongs to a type) or a guarantee measure (G1..G4, no type)."""

    code: str
    kind: Literal["measure", "guarantee"]
    type: str | None
    title_zh: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    summary_zh: str = Field(min_length=1)
    summary_en: str = Field(min_length=1)
    targets: tuple[Target, ...] = ()
    subtasks: tuple[Subtask, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not MEASURE_CODE[self.kind].fullmatch(self.code):
            raise invalid_value(
                f"{self.kind} {self.code}：编码与类别不符",
                f"{self.kind} {self.code}: code does not fit its kind",
            )
        if self.kind == "guarantee" and self.type is not None:
            raise invalid_value(
                f"保障措施 {self.code}：保障措施不属于任何类型，实为 {self.type!r}",
                f"guarantee {self.code}: a guarantee has no type, got {self.type!r}",
            )
        if self.kind == "measure" and self.type is None:
            raise invalid_value(
                f"举措 {self.code}：编号举措须属于一个类型",
                f"measure {self.code}: a numbered measure needs a type",
            )
        for part in self.parts:
            self._check_part_code(part.code, "T" if isinstance(part, Target) else "S")
        return self

    @property
    def parts(self) -> tuple[Target | Subtask, ...]:
        return (*self.targets, *self.subtasks)

    def _check_part_code(self, code: str, kind: str) -> None:
        # The prefix lets a bare target code (e.g. from a progress report) name its measure.
        found = PART_CODE.fullmatch(code)
        if not found or found["measure"] != self.code or found["kind"] != kind:
            expected = f"{self.code}-{kind}<n>"
            raise invalid_value(
                f"举措 {self.code}：编码 {code} 应形如 {expected}",
                f"measure {self.code}: code {code} must look like {expected}",
            )


class Catalogue(_Frozen):
    """The catalogue of one programme year: five types, then numbered and guarantee measures."""

    year: int = Field(ge=2022)
    version: str = Field(min_length=1)
    source: str = Field(min_length=1)
    types: tuple[MeasureType, ...]
    measures: tuple[Measure, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.version.startswith(f"{self.year}."):
            raise invalid_value(
                f"版本 {self.version} 不属于 {self.year} 年度",
                f"version {self.version} does not belong to year {self.year}",
            )
        if len(self.types) != TYPE_COUNT:
            codes = ", ".join(t.code for t in self.types)
            raise invalid_value(
                f"应恰有 {TYPE_COUNT} 个类型，实有 {len(self.types)} 个：{codes}",
                f"expected exactly {TYPE_COUNT} types, got {len(self.types)}: {codes}",
            )
        self._check_unique()
        type_codes = {t.code for t in self.types}
        for m in self.measures:
            if m.kind == "measure" and m.type not in type_codes:
                raise invalid_value(
                    f"举措 {m.code}：未知类型 {m.type!r}",
                    f"measure {m.code}: unknown type {m.type!r}",
                )
        return self

    def _check_unique(self) -> None:
        groups = {
            ("类型", "type"): (t.code for t in self.types),
            ("举措", "measure"): (m.code for m in self.measures),
            ("指标或子任务", "target or sub-task"): (
                p.code for m in self.measures for p in m.parts
            ),
        }
        for (what_zh, what), codes in groups.items():
            if dupes := _duplicates(codes):
                raise invalid_value(
                    f"{what_zh}编码重复：{'、'.join(dupes)}",
                    f"duplicate {what} code(s): {', '.join(dupes)}",
                )
        kinds = (t.obligation.kind for m in self.measures for t in m.targets if t.obligation)
        if dupes := _duplicates(kinds):
            raise invalid_value(
                f"责任类型重复声明：{'、'.join(dupes)}",
                f"obligation kind(s) declared twice: {', '.join(dupes)}",
            )

    def measure(self, code: str) -> Measure | None:
        return next((m for m in self.measures if m.code == code), None)

    def item(self, code: str) -> "CatalogueItem | None":
        """A measure, or one of its targets or sub-tasks, by code (M12, M12-T1, M12-S2)."""
        found = PART_CODE.fullmatch(code)
        measure = self.measure(found["measure"] if found else code)
        if measure is None:
            return None
        if not found:
            return CatalogueItem(measure, None)
        part = next((p for p in measure.parts if p.code == code), None)
        return CatalogueItem(measure, part) if part is not None else None

    def obligation(self, kind: str) -> tuple[Measure, Target, Obligation] | None:
        """The target that declares obligation `kind`, with its measure."""
        for measure in self.measures:
            for target in measure.targets:
                if target.obligation is not None and target.obligation.kind == kind:
                    return measure, target, target.obligation
        return None

    def measure_type(self, code: str) -> MeasureType | None:
        return next((t for t in self.types if t.code == code), None)

    def measures_of_type(self, type_code: str) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if m.type == type_code)


@dataclass(frozen=True)
class CatalogueItem:
    """What an assignment can be about: a whole measure, or one target or sub-task of it."""

    measure: Measure
    part: Target | Subtask | None

    @property
    def code(self) -> str:
        return self.part.code if self.part is not None else self.measure.code

    @property
    def title_zh(self) -> str:
        if isinstance(self.part, Target):
            return self.part.description_zh
        return self.part.title_zh if self.part is not None else self.measure.title_zh

    @property
    def title_en(self) -> str:
        if isinstance(self.part, Target):
            return self.part.description_en
        return self.part.title_en if self.part is not None else self.measure.title_en

    @property
    def target(self) -> Target | None:
        return self.part if isinstance(self.part, Target) else None


class PeerGroup(_Frozen):
    """Units are ranked only against their peers (counties, development zones, departments)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class Unit(_Frozen):
    """A responsible unit (责任单位); the office has no peer group because it is never ranked."""

    code: str
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    peer_group: str | None
    is_office: bool = False

    @field_validator("code")
    @classmethod
    def _subject_token(cls, code: str) -> str:
        # The code is the last token of the unit's NATS subjects; anything else breaks routing.
        if not re.fullmatch(UNIT_CODE_PATTERN, code):
            raise invalid_value(
                f"单位编码 {code!r} 应符合 {UNIT_CODE_PATTERN}",
                f"unit code {code!r} must match {UNIT_CODE_PATTERN}",
            )
        return code

    @model_validator(mode="after")
    def _office_unranked(self) -> Self:
        if self.is_office != (self.peer_group is None):
            raise invalid_value(
                f"单位 {self.code}：只有考核办没有考核类别，其他单位都须有",
                f"unit {self.code}: exactly the office has no peer group",
            )
        return self


class UnitDirectory(_Frozen):
    """All responsible units and the peer groups they are compared in."""

    peer_groups: tuple[PeerGroup, ...]
    units: tuple[Unit, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if dupes := _duplicates(g.code for g in self.peer_groups):
            raise invalid_value(
                f"考核类别编码重复：{'、'.join(dupes)}",
                f"duplicate peer group code(s): {', '.join(dupes)}",
            )
        if dupes := _duplicates(u.code for u in self.units):
            raise invalid_value(
                f"单位编码重复：{'、'.join(dupes)}", f"duplicate unit code(s): {', '.join(dupes)}"
            )
        groups = {g.code for g in self.peer_groups}
        for u in self.units:
            if u.peer_group is not None and u.peer_group not in groups:
                raise invalid_value(
                    f"单位 {u.code}：未知的考核类别 {u.peer_group!r}",
                    f"unit {u.code}: unknown peer group {u.peer_group!r}",
                )
        return self

    @cached_property
    def by_code(self) -> dict[str, Unit]:
        """Every report looks its unit up: at 10,000 units a scan was most of a report's CPU."""
        return {u.code: u for u in self.units}

    def unit(self, code: str) -> Unit | None:
        return self.by_code.get(code)

    def peer_group(self, code: str | None) -> PeerGroup | None:
        return next((g for g in self.peer_groups if g.code == code), None)

    def in_peer_group(self, peer_group: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.peer_group == peer_group)

    @property
    def office(self) -> Unit | None:
        return next((u for u in self.units if u.is_office), None)


def _read_yaml(path: Path | str) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return data


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE_PATH) -> Catalogue:
    """Read and validate a catalogue file; raises pydantic.ValidationError naming the bad code."""
    return Catalogue.model_validate(_read_yaml(path))


def load_units(path: Path | str = DEFAULT_UNITS_PATH) -> UnitDirectory:
    """Read and validate the unit directory; raises pydantic.ValidationError naming the bad code."""
    return UnitDirectory.model_validate(_read_yaml(path))
