"""Exports, the controllable clock and the reference data."""

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from pydantic import ValidationError

from services.inspections.adapters.export import Column, to_csv, to_xlsx
from services.inspections.domain.reference import (
    DEFAULT_CATALOGUE_PATH,
    DEFAULT_UNITS_PATH,
    MeasureInfo,
    UnitInfo,
    load_reference,
)
from services.runtime.clock import FileClock, clock_from

COLUMNS = [
    Column("finding_id", "问题编号", "Finding"),
    Column("due_date", "整改期限", "Due date"),
    Column("closed_at", "销号时间", "Closed at"),
    Column("overdue", "是否逾期", "Overdue"),
    Column("clues", "线索", "Clues"),
]
ROWS = [
    {
        "finding_id": "F-1",
        "due_date": date(2026, 3, 20),
        "closed_at": datetime(2026, 3, 19, 16, 30, tzinfo=UTC),  # 00:30 on 20 March in Beijing
        "overdue": False,
        "clues": ["public_request:R-1", "deadline_missed:abc"],
    },
    {"finding_id": "F-2, 含逗号", "due_date": date(2026, 4, 1), "closed_at": None, "overdue": True},
]


def test_csv_has_a_bom_chinese_headers_and_beijing_times() -> None:
    body = to_csv(COLUMNS, ROWS, "zh")
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["问题编号", "整改期限", "销号时间", "是否逾期", "线索"]
    assert rows[1] == [
        "F-1",
        "2026年3月20日",
        "2026年3月20日 00:30",
        "否",
        "public_request:R-1; deadline_missed:abc",
    ]
    assert rows[2] == ["F-2, 含逗号", "2026年4月1日", "", "是", ""]
    english = list(csv.reader(io.StringIO(to_csv(COLUMNS, ROWS, "en").decode("utf-8-sig"))))
    assert english[0] == ["Finding", "Due date", "Closed at", "Overdue", "Clues"]
    assert english[1][1:3] == ["2026-03-20", "2026-03-20 00:30:00"]


def test_xlsx_holds_typed_cells_under_a_header() -> None:
    workbook = load_workbook(io.BytesIO(to_xlsx(COLUMNS, ROWS, "zh", "整改台账")))
    sheet = workbook["整改台账"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["问题编号", "整改期限", "销号时间", "是否逾期", "线索"]
    assert values[1][0] == "F-1"
    assert values[1][1] == datetime(2026, 3, 20)  # a real date cell
    assert values[1][2] == datetime(2026, 3, 20, 0, 30)
    assert sheet["B2"].number_format == 'yyyy"年"m"月"d"日"'
    assert values[2][2] is None and values[2][3] == "是"
    assert sheet["A1"].font.bold


def test_the_file_clock_reads_and_moves_time(tmp_path: Path) -> None:
    clock = FileClock(tmp_path / "now")
    clock.set(datetime(2026, 3, 10, 9, tzinfo=timezone(timedelta(hours=8))))
    assert clock() == datetime(2026, 3, 10, 1, tzinfo=UTC)
    assert clock().tzinfo is UTC
    clock.set(datetime(2026, 4, 1, tzinfo=UTC))
    assert clock() == datetime(2026, 4, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 4, 1))
    (tmp_path / "now").write_text("2026-04-01T00:00:00")
    with pytest.raises(ValueError, match="no UTC offset"):
        clock()


def test_without_a_clock_file_the_system_clock_is_used() -> None:
    before = datetime.now(UTC)
    now = clock_from(None)()
    assert before <= now <= datetime.now(UTC)


def test_the_reference_data_is_the_office_directory_and_catalogue() -> None:
    reference = load_reference(DEFAULT_UNITS_PATH, DEFAULT_CATALOGUE_PATH)
    assert reference.unit_name("360102") == "东湖区"
    assert reference.unit_name("gone-unit") == "gone-unit"
    assert "office" not in reference.ranked_units() and "360102" in reference.ranked_units()
    assert "dept-fgw" in reference.units_of_peer_group("department")
    assert reference.measure("M14") is not None and reference.measure("M99") is None
    assert reference.unknown_units(["360102", "x-1", "x-1"]) == ["x-1"]


def test_extra_fields_are_ignored_and_missing_ones_are_named(tmp_path: Path) -> None:
    units = {"units": [{"code": "u-1", "name_zh": "甲", "name_en": "A", "phone": "12345"}]}
    catalogue = yaml.safe_load(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))
    (tmp_path / "units.yaml").write_text(yaml.safe_dump(units, allow_unicode=True))
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True))
    reference = load_reference(tmp_path / "units.yaml", tmp_path / "catalogue.yaml")
    assert list(reference.units) == ["u-1"]

    catalogue["types"] = catalogue["types"][:4]
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True))
    with pytest.raises(ValidationError, match="types"):
        load_reference(tmp_path / "units.yaml", tmp_path / "catalogue.yaml")


def test_replicated_units_and_catalogue_are_laid_over_the_seed() -> None:
    seed = load_reference(DEFAULT_UNITS_PATH, DEFAULT_CATALOGUE_PATH)
    renamed = UnitInfo(code="360102", name_zh="东湖区（新）", name_en="Donghu", peer_group="county")
    added = UnitInfo(code="dept-new", name_zh="市新设局", name_en="New", peer_group="department")
    catalogue = seed.catalogue().model_copy(
        update={"year": 2027, "measures": (MeasureInfo(code="M01", title_zh="新版举措"),)}
    )
    merged = seed.merged([renamed, added], catalogue)
    assert merged.unit_name("360102") == "东湖区（新）" and merged.unit("dept-new") is not None
    assert merged.unit("dept-fgw") is not None  # kept from the seed
    assert (merged.catalogue_year, list(merged.measures)) == (2027, ["M01"])
    assert seed.unit_name("360102") == "东湖区"  # the seed itself is untouched

    held = seed.merged([], None)
    held.replace_with(merged)
    assert held.unit_name("360102") == "东湖区（新）" and held.measure("M12") is None
