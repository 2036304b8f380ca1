"""The reference data this service reads: the unit directory and the measure catalogue.

The measures service owns both and publishes every change (UnitRegistered, CataloguePublished);
this service keeps a replica of what it needs (`handlers/reference.py`) and reads it through one
`ReferenceData` per process, refreshed from the replica every few seconds. The shipped files of
the office (the settings point at them) seed it, so the service works before the first event
arrives; a replicated unit or catalogue wins over the file's.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import UnitCode
from contracts.inspections import FiveType

SERVICES_DIR = Path(__file__).resolve().parents[2]
DEFAULT_UNITS_PATH = SERVICES_DIR / "measures" / "data" / "units.yaml"
DEFAULT_CATALOGUE_PATH = SERVICES_DIR / "measures" / "data" / "catalogue" / "2026.yaml"


class _Tolerant(BaseModel):
    """Reads only the fields this service needs; the files and events may carry more."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class UnitInfo(_Tolerant):
    code: UnitCode
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    peer_group: str | None = None
    is_office: bool = False


class TypeInfo(_Tolerant):
    code: FiveType
    name_zh: str = Field(min_length=1)


class MeasureInfo(_Tolerant):
    code: str
    type: FiveType | None = None
    title_zh: str = Field(min_length=1)


class CatalogueInfo(_Tolerant):
    year: int
    types: tuple[TypeInfo, ...] = Field(min_length=len(FiveType), max_length=len(FiveType))
    measures: tuple[MeasureInfo, ...] = Field(min_length=1)


class _UnitsFile(_Tolerant):
    units: tuple[UnitInfo, ...] = Field(min_length=1)


class ReferenceData:
    """Units by code and the measures of the catalogue in force."""

    def __init__(self, units: Iterable[UnitInfo], catalogue: CatalogueInfo):
        self._set(units, catalogue)

    def _set(self, units: Iterable[UnitInfo], catalogue: CatalogueInfo) -> None:
        types = {t.code: t for t in catalogue.types}
        if missing := set(FiveType) - set(types):
            raise ValueError(f"the {catalogue.year} catalogue lacks the type(s) {sorted(missing)}")
        self.units = {u.code: u for u in units}
        self.types = types
        self.measures = {m.code: m for m in catalogue.measures}
        self.catalogue_year = catalogue.year

    def catalogue(self) -> CatalogueInfo:
        return CatalogueInfo(
            year=self.catalogue_year,
            types=tuple(self.types.values()),
            measures=tuple(self.measures.values()),
        )

    def merged(self, units: Iterable[UnitInfo], catalogue: CatalogueInfo | None) -> "ReferenceData":
        """This data with replicated units (and a catalogue) laid over it."""
        by_code = {**self.units, **{u.code: u for u in units}}
        return ReferenceData(by_code.values(), catalogue or self.catalogue())

    def replace_with(self, other: "ReferenceData") -> None:
        """Take over `other`'s content in place, so every holder of this object sees it."""
        self._set(other.units.values(), other.catalogue())

    def unit(self, code: str) -> UnitInfo | None:
        return self.units.get(code)

    def unit_name(self, code: str) -> str:
        """The unit's Chinese name; the code itself for a unit no longer in the directory."""
        unit = self.units.get(code)
        return unit.name_zh if unit else code

    def unit_names(self, codes: list[str]) -> str:
        """Units as a Chinese sentence lists them: 东湖区、西湖区."""
        return "、".join(self.unit_name(code) for code in codes)

    def unknown_units(self, codes: list[str]) -> list[str]:
        return sorted({code for code in codes if code not in self.units})

    def measure(self, code: str) -> MeasureInfo | None:
        return self.measures.get(code)

    def measure_name(self, code: str) -> str:
        """M07（扎实推动数字政府建设大跨越）; the bare code for a measure not in the catalogue."""
        measure = self.measures.get(code)
        return f"{code}（{measure.title_zh}）" if measure else code

    def units_of_peer_group(self, peer_group: str) -> list[str]:
        return sorted(u.code for u in self.units.values() if u.peer_group == peer_group)

    def office(self) -> str | None:
        """The office's own code: deadlines on the office's side (验收) are addressed to it."""
        return next((u.code for u in self.units.values() if u.is_office), None)

    def ranked_units(self) -> list[str]:
        """Every unit that answers for its own work (all but the office)."""
        return sorted(u.code for u in self.units.values() if not u.is_office)


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return data


def load_reference(units_path: Path, catalogue_path: Path) -> ReferenceData:
    """Read both files; raises pydantic.ValidationError or ValueError naming what is wrong."""
    units = _UnitsFile.model_validate(_read_yaml(units_path)).units
    catalogue = CatalogueInfo.model_validate(_read_yaml(catalogue_path))
    return ReferenceData(units, catalogue)
