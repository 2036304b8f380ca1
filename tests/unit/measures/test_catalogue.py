"""The shipped catalogue and unit directory, and the validators that guard edits to them."""

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from services.measures.domain.catalogue import (
    DEFAULT_CATALOGUE_PATH,
    DEFAULT_UNITS_PATH,
    Catalogue,
    Target,
    UnitDirectory,
    load_catalogue,
    load_units,
)

TYPE_CODES = ["loyal", "innovative", "responsible", "service", "disciplined"]
# The document numbers its measures consecutively across the five types.
TYPE_OF_MEASURE = {
    **dict.fromkeys(range(1, 4), "loyal"),
    **dict.fromkeys(range(4, 8), "innovative"),
    **dict.fromkeys(range(8, 12), "responsible"),
    **dict.fromkeys(range(12, 16), "service"),
    **dict.fromkeys(range(16, 19), "disciplined"),
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(DEFAULT_CATALOGUE_PATH)


@pytest.fixture(scope="module")
def units() -> UnitDirectory:
    return load_units(DEFAULT_UNITS_PATH)


def target(catalogue: Catalogue, code: str) -> Target:
    measure = catalogue.measure(code.split("-")[0])
    assert measure is not None
    found = [t for t in measure.targets if t.code == code]
    assert found, f"{code} missing"
    return found[0]


# --------------------------------------------------------------------------- shipped catalogue


def test_shipped_catalogue_is_for_2026(catalogue: Catalogue) -> None:
    assert catalogue.year == 2026
    assert catalogue.version == "2026.1"
    assert "洪府字〔2022〕103号" in catalogue.source


def test_five_types_in_document_order(catalogue: Catalogue) -> None:
    assert [t.code for t in catalogue.types] == TYPE_CODES
    names = [t.name_zh for t in catalogue.types]
    assert names == ["忠诚型", "创新型", "担当型", "服务型", "过硬型"]
    assert all(f"“{t.name_zh}”政府" in t.goal_zh for t in catalogue.types)


def test_eighteen_measures_each_of_its_type(catalogue: Catalogue) -> None:
    numbered = [m for m in catalogue.measures if m.kind == "measure"]
    assert [m.code for m in numbered] == [f"M{n:02d}" for n in range(1, 19)]
    assert {m.code: m.type for m in numbered} == {
        f"M{n:02d}": t for n, t in TYPE_OF_MEASURE.items()
    }


def test_four_guarantees_without_type(catalogue: Catalogue) -> None:
    guarantees = [m for m in catalogue.measures if m.kind == "guarantee"]
    assert [m.code for m in guarantees] == ["G1", "G2", "G3", "G4"]
    assert all(m.type is None for m in guarantees)


def test_lookup(catalogue: Catalogue) -> None:
    m01 = catalogue.measure("M01")
    assert m01 is not None and m01.title_zh == "坚持第一议题制度"
    assert catalogue.measure("M19") is None
    assert [m.code for m in catalogue.measures_of_type("disciplined")] == ["M16", "M17", "M18"]


@pytest.mark.parametrize(
    ("code", "metric", "comparator", "value", "cadence"),
    [
        ("M04-T1", "count", ">=", 1, "annual"),  # one nationally leading work per year
        ("M06-T1", "count", ">=", 1, "annual"),  # one reform recognised nationally per year
        ("M09-T1", "count", ">=", 1, "annual"),  # one State Council supervision incentive per year
        ("M10-T1", "count", ">=", 1, "half_yearly"),  # a bottleneck round every half year
        ("M12-T1", "count", ">=", 172, "once"),  # the 172 business-environment actions
        ("G1-T1", "report", ">=", 1, "annual"),  # measures refined and filed every year
        ("G3-T1", "count", ">=", 1, "weekly"),  # at least one feature report per week
        ("G4-T7", "report", ">=", 1, "annual"),  # annual written report to the office
    ],
)
def test_quantified_targets(
    catalogue: Catalogue, code: str, metric: str, comparator: str, value: int, cadence: str
) -> None:
    t = target(catalogue, code)
    assert (t.metric, t.comparator, t.value, t.cadence) == (metric, comparator, value, cadence)


def test_target_units(catalogue: Catalogue) -> None:
    assert target(catalogue, "M10-T1").unit_zh == "轮"
    assert target(catalogue, "M12-T1").unit_zh == "项"
    assert target(catalogue, "G3-T1").unit_zh == "篇"


def test_public_request_rates_are_raised(catalogue: Catalogue) -> None:
    for code in ("M14-T1", "M14-T2"):
        t = target(catalogue, code)
        assert (t.metric, t.direction, t.comparator) == ("rate", "up", None)


def test_supervisor_items_of_g4(catalogue: Catalogue) -> None:
    g4 = catalogue.measure("G4")
    assert g4 is not None
    texts = {t.code: t.description_zh for t in g4.targets}
    assert "畅通进出机制" in texts["G4-T2"]
    assert "监督员建议办理落实" in texts["G4-T3"]
    assert "定期进行评估" in texts["G4-T4"]
    assert "年度书面专题报告" in texts["G4-T7"]


def test_named_subtasks(catalogue: Catalogue) -> None:
    m10 = catalogue.measure("M10")
    m17 = catalogue.measure("M17")
    assert m10 is not None and m17 is not None
    assert [s.code for s in m10.subtasks] == ["M10-S1", "M10-S2"]
    assert "胡子工程" in m10.subtasks[1].title_zh
    assert [s.title_zh for s in m17.subtasks] == ["有清单", "有督查", "有考核", "有激励", "有问责"]


def test_catalogue_is_immutable(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationError):
        catalogue.year = 2027  # type: ignore[misc]


# --------------------------------------------------------------------------- catalogue validators


def minimal_catalogue() -> dict[str, Any]:
    measure = {
        "kind": "measure",
        "title_zh": "标题",
        "title_en": "Title",
        "summary_zh": "摘要",
        "summary_en": "Summary",
        "targets": [],
        "subtasks": [],
    }
    return {
        "year": 2026,
        "version": "2026.1",
        "source": "测试",
        "types": [{"code": c, "name_zh": c, "name_en": c, "goal_zh": c} for c in TYPE_CODES],
        "measures": [
            {**measure, "code": "M01", "type": "loyal"},
            {**measure, "code": "M02", "type": "service"},
            {**measure, "code": "G1", "kind": "guarantee", "type": None},
        ],
    }


def a_target(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "description_zh": "每年至少一项",
        "description_en": "At least one a year",
        "metric": "count",
        "unit_zh": "项",
        "comparator": ">=",
        "value": 1,
        "cadence": "annual",
    }


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "data.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def refused(tmp_path: Path, data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        load_catalogue(write(tmp_path, data))


def test_minimal_catalogue_loads(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][0]["targets"] = [a_target("M01-T1")]
    assert load_catalogue(write(tmp_path, data)).measure("M01") is not None


def test_refuses_duplicate_measure_code(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][1]["code"] = "M01"
    refused(tmp_path, data, "duplicate measure code(s): M01")


def test_refuses_duplicate_target_code(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][0]["targets"] = [a_target("M01-T1"), a_target("M01-T1")]
    refused(tmp_path, data, "duplicate target or sub-task code(s): M01-T1")


def test_refuses_duplicate_type_code(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["types"][4]["code"] = "loyal"
    refused(tmp_path, data, "duplicate type code(s): loyal")


def test_refuses_unknown_type(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][1]["type"] = "diligent"
    refused(tmp_path, data, "measure M02: unknown type 'diligent'")


def test_refuses_measure_without_type(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][1]["type"] = None
    refused(tmp_path, data, "measure M02: a numbered measure needs a type")


def test_refuses_guarantee_with_type(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][2]["type"] = "loyal"
    refused(tmp_path, data, "guarantee G1: a guarantee has no type")


def test_refuses_target_of_another_measure(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][0]["targets"] = [a_target("M02-T1")]
    refused(tmp_path, data, "measure M01: code M02-T1 must look like M01-T<n>")


def test_refuses_subtask_code_without_prefix(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][0]["subtasks"] = [{"code": "S1", "title_zh": "子任务", "title_en": "Sub"}]
    refused(tmp_path, data, "measure M01: code S1 must look like M01-S<n>")


@pytest.mark.parametrize("count", [4, 6])
def test_refuses_other_than_five_types(tmp_path: Path, count: int) -> None:
    data = minimal_catalogue()
    extra = {"code": "extra", "name_zh": "多", "name_en": "Extra", "goal_zh": "多"}
    data["types"] = (data["types"] + [extra])[:count]
    refused(tmp_path, data, f"expected exactly 5 types, got {count}")


def test_refuses_version_of_another_year(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["version"] = "2025.3"
    refused(tmp_path, data, "version 2025.3 does not belong to year 2026")


def test_refuses_target_without_threshold_or_direction(tmp_path: Path) -> None:
    data = minimal_catalogue()
    vague = {**a_target("M01-T1"), "comparator": None, "value": None}
    data["measures"][0]["targets"] = [vague]
    refused(tmp_path, data, "target M01-T1: needs a threshold or a direction")


def test_refuses_unknown_field(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][0]["weight"] = 3
    refused(tmp_path, data, "weight")


def test_refuses_code_that_does_not_fit_kind(tmp_path: Path) -> None:
    data = minimal_catalogue()
    data["measures"][2]["code"] = "M19"
    refused(tmp_path, data, "guarantee M19: code does not fit its kind")


def test_refuses_non_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- M01\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a YAML mapping"):
        load_catalogue(path)


# --------------------------------------------------------------------------- units


def test_peer_groups(units: UnitDirectory) -> None:
    assert [g.code for g in units.peer_groups] == ["county", "devzone", "department"]


def test_counties_and_wanli(units: UnitDirectory) -> None:
    counties = {u.code for u in units.in_peer_group("county")}
    assert counties == {
        "360102", "360103", "360104", "360111", "360112", "360113", "360121", "360123", "360124",
        "wanli",
    }  # fmt: skip
    donghu = units.unit("360102")
    assert donghu is not None and donghu.name_zh == "东湖区"


def test_development_zones(units: UnitDirectory) -> None:
    zones = {u.code for u in units.in_peer_group("devzone")}
    assert zones == {"nc-hitech", "nc-etdz", "nc-xiaolan", "nc-airport"}


def test_departments(units: UnitDirectory) -> None:
    departments = units.in_peer_group("department")
    assert len(departments) >= 15
    assert all(u.code.startswith("dept-") for u in departments)
    assert {"dept-fgw", "dept-xzspj", "dept-xczx"} <= {u.code for u in departments}


def test_office_is_not_ranked(units: UnitDirectory) -> None:
    office = units.office
    assert office is not None and office.code == "office"
    assert office.peer_group is None and office.is_office
    assert units.unit("nowhere") is None


MINIMAL_UNITS: dict[str, Any] = {
    "peer_groups": [{"code": "county", "name_zh": "县区", "name_en": "Counties"}],
    "units": [
        {"code": "360102", "name_zh": "东湖区", "name_en": "Donghu", "peer_group": "county"},
        {"code": "office", "name_zh": "办", "name_en": "Office", "peer_group": None,
         "is_office": True},
    ],
}  # fmt: skip


def units_refused(tmp_path: Path, data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        load_units(write(tmp_path, data))


def test_minimal_units_load(tmp_path: Path) -> None:
    assert len(load_units(write(tmp_path, MINIMAL_UNITS)).units) == 2


def test_refuses_duplicate_unit_code(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL_UNITS)
    data["units"].append(dict(data["units"][0]))
    units_refused(tmp_path, data, "duplicate unit code(s): 360102")


def test_refuses_unknown_peer_group(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL_UNITS)
    data["units"][0]["peer_group"] = "province"
    units_refused(tmp_path, data, "unit 360102: unknown peer group 'province'")


@pytest.mark.parametrize("code", ["Dept-FGW", "dept.fgw", "-dept", "x", "a" * 41, "dept fgw"])
def test_refuses_unit_code_unfit_for_subjects(tmp_path: Path, code: str) -> None:
    data = copy.deepcopy(MINIMAL_UNITS)
    data["units"][0]["code"] = code
    units_refused(tmp_path, data, f"unit code {code!r} must match")


def test_refuses_ranked_office(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL_UNITS)
    data["units"][1]["peer_group"] = "county"
    units_refused(tmp_path, data, "unit office: exactly the office has no peer group")
