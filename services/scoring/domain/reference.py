"""Scoring's own replica of the reference data other services own: the units with their peer
groups (UnitRegistered) and each programme year's measure types (CataloguePublished). Derived
from facts, latest by the producer's time, so the order of arrival never matters."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from services.scoring.domain.facts import Fact, FactKind


def _latest(facts: list[Fact]) -> Fact:
    return max(facts, key=lambda f: (f.known_at, f.event_id))


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name_zh: str
    name_en: str
    peer_group: str | None
    peer_group_name_zh: str | None
    peer_group_name_en: str | None
    is_office: bool


@dataclass(frozen=True)
class Reference:
    units: dict[str, UnitInfo] = field(default_factory=dict)
    # programme year -> measure code -> type code (None for guarantee measures)
    measure_types: dict[int, dict[str, str | None]] = field(default_factory=dict)
    # programme year -> measure code -> its Chinese title
    measure_names: dict[int, dict[str, str]] = field(default_factory=dict)
    # programme year -> target code -> the catalogue's target (contracts.measures.CatalogueTarget)
    targets: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # the event ids of the catalogues above: what a measure's type or name was read from
    catalogues: tuple[str, ...] = ()

    def type_of(self, year: int, measure_code: str | None) -> str | None:
        if measure_code is None:
            return None
        return self.measure_types.get(year, {}).get(measure_code)

    def measure_name(self, year: int, measure_code: str | None) -> str | None:
        if measure_code is None:
            return None
        names = self.measure_names.get(year, {})
        # a target or sub-task (M12-T1) is named after its measure
        return names.get(measure_code) or names.get(measure_code.split("-")[0])

    def ranked_units(self, peer_group: str) -> list[UnitInfo]:
        return sorted(
            (u for u in self.units.values() if u.peer_group == peer_group and not u.is_office),
            key=lambda u: u.code,
        )

    @property
    def peer_groups(self) -> dict[str, tuple[str | None, str | None]]:
        return {
            u.peer_group: (u.peer_group_name_zh, u.peer_group_name_en)
            for u in sorted(self.units.values(), key=lambda u: u.code)
            if u.peer_group is not None
        }


def reference_from(facts: Iterable[Fact]) -> Reference:
    by_unit: dict[str, list[Fact]] = {}
    by_year: dict[int, list[Fact]] = {}
    for fact in facts:
        if fact.kind is FactKind.UNIT:
            by_unit.setdefault(fact.unit, []).append(fact)
        elif fact.kind is FactKind.CATALOGUE:
            by_year.setdefault(int(fact.data["year"]), []).append(fact)
    units = {}
    for code, registrations in by_unit.items():
        data = _latest(registrations).data
        units[code] = UnitInfo(
            code=code,
            name_zh=data["name_zh"],
            name_en=data["name_en"],
            peer_group=data["peer_group"],
            peer_group_name_zh=data.get("peer_group_name_zh"),
            peer_group_name_en=data.get("peer_group_name_en"),
            is_office=data["is_office"],
        )
    catalogues = {year: _latest(published) for year, published in by_year.items()}
    return Reference(
        units=units,
        measure_types={y: dict(c.data["measure_types"]) for y, c in catalogues.items()},
        measure_names={y: dict(c.data.get("measure_names", {})) for y, c in catalogues.items()},
        targets={y: dict(c.data.get("targets", {})) for y, c in catalogues.items()},
        catalogues=tuple(sorted(c.event_id for c in catalogues.values())),
    )
