"""The catalogue and the unit directory as JSON, YAML, CSV and XLSX files."""

import io

import pytest
from openpyxl import load_workbook

from services.measures.domain.catalogue import load_catalogue, load_units
from services.measures.domain.documents import (
    DocumentError,
    Format,
    read_catalogue,
    read_units,
    write_catalogue,
    write_units,
)

CATALOGUE = load_catalogue()
UNITS = load_units()
FORMATS: list[Format] = ["json", "yaml", "csv", "xlsx"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_catalogue_survives_a_round_trip(fmt: Format) -> None:
    assert read_catalogue(write_catalogue(CATALOGUE, fmt), fmt) == CATALOGUE


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_directory_survives_a_round_trip(fmt: Format) -> None:
    assert read_units(write_units(UNITS, fmt), fmt) == UNITS


def test_the_spreadsheet_is_readable_by_people() -> None:
    book = load_workbook(io.BytesIO(write_catalogue(CATALOGUE, "xlsx")))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:5] == ("record", "year", "version", "source", "code")
    assert rows[1][:3] == ("catalogue", "2026", "2026.1")
    measures = [r for r in rows if r[0] == "measure"]
    assert len(measures) == 22
    m12_t1 = next(r for r in rows if r[4] == "M12-T1")
    assert (m12_t1[5], m12_t1[12], m12_t1[15]) == ("M12", "count", "172")
    csv_text = write_catalogue(CATALOGUE, "csv").decode("utf-8-sig")
    assert "坚持第一议题制度" in csv_text


def edited_csv(old: str, new: str) -> bytes:
    text = write_catalogue(CATALOGUE, "csv").decode("utf-8-sig")
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("target,,,,M12-T1,M12", "target,,,,M12-T1,M99", "names measure 'M99'"),
        (",172,", ",many,", "is not a number"),
        ("catalogue,2026,", "catalogue,twenty,", "not a whole number"),
        ("measure,,,,M02,", "frobnicate,,,,M02,", "unknown record 'frobnicate'"),
        ("2026.1", "2027.1", "does not belong to year 2026"),
    ],
)
def test_a_bad_spreadsheet_says_where(old: str, new: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        read_catalogue(edited_csv(old, new), "csv")


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"", "csv", "empty"),
        (b"record,code\n", "csv", "missing column"),
        (b"\xff\xfe", "csv", "UTF-8"),
        (b"PK\x03\x04broken", "xlsx", "not a readable XLSX"),
        (b"{not json", "json", "not a readable JSON"),
        (b"- a list", "yaml", "not a mapping"),
        (b"year: 2026", "yaml", "version"),
    ],
)
def test_unreadable_files_are_refused(content: bytes, fmt: Format, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        read_catalogue(content, fmt)


def test_units_with_a_bad_flag_are_refused() -> None:
    text = write_units(UNITS, "csv").decode("utf-8-sig").replace(",true", ",maybe", 1)
    with pytest.raises(DocumentError, match="is_office takes true or false"):
        read_units(text.encode(), "csv")


@pytest.mark.parametrize(
    ("old", "new", "chinese"),
    [
        ("target,,,,M12-T1,M12", "target,,,,M12-T1,M99", "第 56 行：target M12-T1 所属举措 'M99'"),
        ("2026.1", "2027.1", "版本 2027.1 不属于 2026 年度"),
        (",172,", ",many,", "取值 'many' 不是数字"),
    ],
)
def test_the_office_reads_where_a_spreadsheet_is_wrong_in_chinese(
    old: str, new: str, chinese: str
) -> None:
    with pytest.raises(DocumentError) as refused:
        read_catalogue(edited_csv(old, new), "csv")
    assert chinese in refused.value.said("zh"), refused.value.zh
    assert refused.value.said("en") == str(refused.value)
