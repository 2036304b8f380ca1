"""Tables as files for the office's spreadsheets: CSV (UTF-8 with a byte-order mark, which Excel
needs to show Chinese) and XLSX, with headers in Chinese or English. Dates read as offices write
them (2026年4月11日) in Chinese: as text in CSV, as typed cells with that number format in XLSX."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.runtime.workdays import PROGRAMME_TZ, chinese_date


@dataclass(frozen=True)
class Column:
    key: str
    title_zh: str
    title_en: str

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_zh


def _cell(value: Any) -> Any:
    """Times in China time without offset (spreadsheets cannot hold one); lists joined."""
    if isinstance(value, datetime):
        return value.astimezone(PROGRAMME_TZ).replace(tzinfo=None, microsecond=0)
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def _text(value: Any, language: str) -> str:
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        if language == "en":
            return value.isoformat(sep=" ")
        return f"{chinese_date(value)} {value:%H:%M}"
    if isinstance(value, date):
        return value.isoformat() if language == "en" else chinese_date(value)
    return str(value)


_XLSX_FORMATS: dict[str, dict[type, str]] = {
    "zh": {date: 'yyyy"年"m"月"d"日"', datetime: 'yyyy"年"m"月"d"日" hh:mm'},
    "en": {date: "yyyy-mm-dd", datetime: "yyyy-mm-dd hh:mm"},
}


def to_csv(columns: Sequence[Column], rows: Sequence[dict[str, Any]], language: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(c.title(language) for c in columns)
    for row in rows:
        writer.writerow(_text(row.get(c.key), language) for c in columns)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _typed(worksheet: Any, value: Any, formats: dict[type, str]) -> Any:
    from openpyxl.cell import WriteOnlyCell

    value = _cell(value)
    kind = datetime if isinstance(value, datetime) else date if isinstance(value, date) else None
    if kind is None:
        return value
    cell = WriteOnlyCell(worksheet, value=value)
    cell.number_format = formats[kind]
    return cell


def to_xlsx(
    columns: Sequence[Column], rows: Sequence[dict[str, Any]], language: str, sheet: str
) -> bytes:
    # Imported here: openpyxl costs half a second at start-up and is rarely needed.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(worksheet, value=column.title(language))
        cell.font = bold
        header.append(cell)
    worksheet.append(header)
    formats = _XLSX_FORMATS["en" if language == "en" else "zh"]
    for row in rows:
        worksheet.append([_typed(worksheet, row.get(c.key), formats) for c in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
