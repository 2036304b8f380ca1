"""The catalogue and the unit directory as files: JSON and YAML documents shaped like the shipped
YAML, and the office's spreadsheets, one flat table with the same columns in CSV (UTF-8, BOM
tolerated) and in XLSX (first sheet), one row per record.

Catalogue rows: `record` is catalogue (year, version, source), type, measure, target or subtask;
`parent` names a target's or sub-task's measure. Unit rows: `record` is peer_group or unit.
Reading validates the whole document like a YAML file does, and names the offending row.
"""

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar

import yaml
from pydantic import ValidationError

from services.measures.domain.catalogue import Catalogue, Target, UnitDirectory
from services.runtime.field_errors import field_error

# openpyxl is imported where a workbook is read or written, not with the module: it is 10 MB of
# the measures process (measured), and most never handle a spreadsheet.

CATALOGUE_COLUMNS = (
    "record",
    "year",
    "version",
    "source",
    "code",
    "parent",
    "kind",
    "type",
    "title_zh",
    "title_en",
    "text_zh",
    "text_en",
    "metric",
    "unit_zh",
    "comparator",
    "value",
    "direction",
    "cadence",
    "obligation",
    "carried_by",
    "aspiration",
)
# Columns added later: a sheet written before them still reads (as no obligation, no aspiration).
OPTIONAL_COLUMNS = frozenset({"obligation", "carried_by", "aspiration"})
UNIT_COLUMNS = ("record", "code", "name_zh", "name_en", "peer_group", "is_office")
Row = dict[str, str]
SheetFormat = Literal["csv", "xlsx"]
Format = Literal["json", "yaml", "csv", "xlsx"]
MAX_ROWS = 5000
ModelT = TypeVar("ModelT", Catalogue, UnitDirectory)


class DocumentError(ValueError):
    """A file that does not hold a valid catalogue or directory; says where and why, in Chinese
    (`zh`) and in English (the message)."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en

    def said(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


# ----------------------------------------------------------------------------- documents


def read_catalogue(content: bytes, fmt: Format) -> Catalogue:
    if fmt in ("csv", "xlsx"):
        return catalogue_from_rows(read_rows(content, CATALOGUE_COLUMNS))
    return _validated(Catalogue, _parse(content, fmt))


def read_units(content: bytes, fmt: Format) -> UnitDirectory:
    if fmt in ("csv", "xlsx"):
        return units_from_rows(read_rows(content, UNIT_COLUMNS))
    return _validated(UnitDirectory, _parse(content, fmt))


def write_catalogue(catalogue: Catalogue, fmt: Format) -> bytes:
    if fmt in ("csv", "xlsx"):
        return write_rows(catalogue_rows(catalogue), CATALOGUE_COLUMNS, _sheet(fmt), "catalogue")
    return _dump(catalogue.model_dump(mode="json"), fmt)


def write_units(directory: UnitDirectory, fmt: Format) -> bytes:
    if fmt in ("csv", "xlsx"):
        return write_rows(unit_rows(directory), UNIT_COLUMNS, _sheet(fmt), "units")
    return _dump(directory.model_dump(mode="json"), fmt)


def _sheet(fmt: Format) -> SheetFormat:
    return "xlsx" if fmt == "xlsx" else "csv"


def _parse(content: bytes, fmt: Format) -> dict[str, Any]:
    try:
        text = content.decode("utf-8-sig")
        document = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise DocumentError(
            f"无法读取的 {fmt.upper()} 文件", f"not a readable {fmt.upper()} document: {exc}"
        ) from exc
    if not isinstance(document, dict):
        raise DocumentError(
            f"{fmt.upper()} 文件的顶层应为键值映射", f"the {fmt.upper()} document is not a mapping"
        )
    return document


def _dump(document: dict[str, Any], fmt: Format) -> bytes:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2).encode()
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100).encode()


# ----------------------------------------------------------------------------- spreadsheets


def read_rows(
    content: bytes, columns: tuple[str, ...], headers: Mapping[str, str] | None = None
) -> list[Row]:
    """Rows keyed by column; `headers` names other header texts a column may carry (a Chinese
    header a sheet was exported with, e.g. 交办任务编号 for assignment_id)."""
    rows = _read_xlsx(content) if content[:4] == b"PK\x03\x04" else _read_csv(content)
    if not rows:
        raise DocumentError("表格为空", "the sheet is empty")
    aliases = {text.strip().lower(): column for text, column in (headers or {}).items()}
    header = [aliases.get(h.strip().lower(), h.strip().lower()) for h in rows[0]]
    missing = [c for c in columns if c not in header and c not in OPTIONAL_COLUMNS]
    if missing:
        raise DocumentError(
            f"缺少列：{'、'.join(missing)}", f"missing column(s): {', '.join(missing)}"
        )
    if len(rows) > MAX_ROWS:
        raise DocumentError(
            f"共 {len(rows)} 行，最多 {MAX_ROWS} 行", f"{len(rows)} rows; at most {MAX_ROWS}"
        )
    return [
        {
            h: _unescaped((cell or "").strip())
            for h, cell in zip(header, row, strict=False)
            if h in columns
        }
        for row in rows[1:]
        if any((cell or "").strip() for cell in row)
    ]


def _read_csv(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError("CSV 文件须为 UTF-8 编码", f"a CSV file must be UTF-8: {exc}") from exc
    return list(csv.reader(io.StringIO(text)))


def _read_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # on first use, see above

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DocumentError(
            "无法读取的 XLSX 工作簿", f"not a readable XLSX workbook: {exc}"
        ) from exc
    sheet = book.worksheets[0]
    rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_rows(
    rows: Iterable[Row],
    columns: tuple[str, ...],
    fmt: SheetFormat,
    title: str,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A sheet with one column per key of `columns`, headed by `headers[key]` (else the key)."""
    header_row = [(headers or {}).get(c, c) for c in columns]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header_row)
        writer.writerows([_escaped(row.get(c, "")) for c in columns] for row in rows)
        return ("\ufeff" + buffer.getvalue()).encode()  # the BOM makes Excel read UTF-8
    from openpyxl import Workbook  # on first use, see above

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(header_row)
    for number, row in enumerate(rows, start=2):
        for column, name in enumerate(columns, start=1):
            cell = sheet.cell(number, column, row.get(name, ""))
            cell.data_type = "s"  # text, never a formula (a comparator "==" is not one)
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


# A spreadsheet program runs a CSV cell starting with one of these as a formula; exported text
# gets a leading apostrophe (the usual guard), which reading strips again.
_FORMULA_START = ("=", "+", "-", "@")


def _escaped(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _unescaped(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


# ----------------------------------------------------------------------------- catalogue


def catalogue_rows(catalogue: Catalogue) -> list[Row]:
    rows: list[Row] = [
        {
            "record": "catalogue",
            "year": str(catalogue.year),
            "version": catalogue.version,
            "source": catalogue.source,
        }
    ]
    for t in catalogue.types:
        rows.append(
            {
                "record": "type",
                "code": t.code,
                "title_zh": t.name_zh,
                "title_en": t.name_en,
                "text_zh": t.goal_zh,
            }
        )
    for m in catalogue.measures:
        rows.append(
            {
                "record": "measure",
                "code": m.code,
                "kind": m.kind,
                "type": m.type or "",
                "title_zh": m.title_zh,
                "title_en": m.title_en,
                "text_zh": m.summary_zh,
                "text_en": m.summary_en,
            }
        )
        rows.extend(_target_row(m.code, t) for t in m.targets)
        rows.extend(
            {"record": "subtask", "code": s.code, "parent": m.code, "title_zh": s.title_zh}
            | {"title_en": s.title_en}
            for s in m.subtasks
        )
    return rows


def _target_row(measure: str, target: Target) -> Row:
    value = target.value
    return {
        "record": "target",
        "code": target.code,
        "parent": measure,
        "text_zh": target.description_zh,
        "text_en": target.description_en,
        "metric": target.metric,
        "unit_zh": target.unit_zh or "",
        "comparator": target.comparator or "",
        "value": ""
        if value is None
        else str(value).lower()
        if isinstance(value, bool)
        else str(value),
        "direction": target.direction or "",
        "cadence": target.cadence,
        **_obligation_cells(target),
    }


def _obligation_cells(target: Target) -> Row:
    """`carried_by` is all_units, lead_units, or the named units' codes separated by spaces."""
    obligation = target.obligation
    if obligation is None:
        carried_by = ""
    elif obligation.carried_by == "named":
        carried_by = " ".join(obligation.units)
    else:
        carried_by = obligation.carried_by
    return {
        "obligation": obligation.kind if obligation else "",
        "carried_by": carried_by,
        "aspiration": "true" if target.aspiration else "",
    }


def catalogue_from_rows(rows: list[Row]) -> Catalogue:
    heads = [r for r in rows if r["record"] == "catalogue"]
    if len(heads) != 1:
        raise DocumentError(
            f"应恰有一行“catalogue”记录，实有 {len(heads)} 行",
            f"expected exactly one 'catalogue' row, found {len(heads)}",
        )
    measures: dict[str, dict[str, Any]] = {}
    document: dict[str, Any] = {
        "year": _integer(heads[0]["year"], "year", rows.index(heads[0]) + 2),
        "version": heads[0]["version"],
        "source": heads[0]["source"],
        "types": [],
        "measures": [],
    }
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        _add_catalogue_row(document, measures, row, number)
    return _validated(Catalogue, document)


def _add_catalogue_row(
    document: dict[str, Any], measures: dict[str, dict[str, Any]], row: Row, number: int
) -> None:
    record = row["record"]
    if record == "catalogue":
        return
    if record == "type":
        document["types"].append(
            {
                "code": row["code"],
                "name_zh": row["title_zh"],
                "name_en": row["title_en"],
                "goal_zh": row["text_zh"],
            }
        )
    elif record == "measure":
        measure: dict[str, Any] = {
            "code": row["code"],
            "kind": row["kind"],
            "type": row["type"] or None,
            "title_zh": row["title_zh"],
            "title_en": row["title_en"],
            "summary_zh": row["text_zh"],
            "summary_en": row["text_en"],
            "targets": [],
            "subtasks": [],
        }
        measures[row["code"]] = measure
        document["measures"].append(measure)
    elif record in ("target", "subtask"):
        parent = measures.get(row["parent"])
        if parent is None:
            raise DocumentError(
                f"第 {number} 行：{record} {row['code']} 所属举措 {row['parent']!r} "
                "未在前面的“measure”行中定义",
                f"row {number}: {record} {row['code']} names measure {row['parent']!r}, "
                "which no earlier 'measure' row defines",
            )
        if record == "target":
            parent["targets"].append(_target(row, number))
        else:
            parent["subtasks"].append(
                {"code": row["code"], "title_zh": row["title_zh"], "title_en": row["title_en"]}
            )
    else:
        raise DocumentError(
            f"第 {number} 行：未知的记录类型 {record!r}", f"row {number}: unknown record {record!r}"
        )


def _target(row: Row, number: int) -> dict[str, Any]:
    return {
        "code": row["code"],
        "description_zh": row["text_zh"],
        "description_en": row["text_en"],
        "metric": row["metric"],
        "unit_zh": row["unit_zh"] or None,
        "comparator": row["comparator"] or None,
        "value": _value(row["value"], row["metric"], number),
        "direction": row["direction"] or None,
        "cadence": row["cadence"],
        "obligation": _obligation(row),
        "aspiration": row.get("aspiration", "").lower() == "true",
    }


def _obligation(row: Row) -> dict[str, Any] | None:
    kind, carried_by = row.get("obligation", ""), row.get("carried_by", "")
    if not kind:
        return None
    if carried_by in ("all_units", "lead_units"):
        return {"kind": kind, "carried_by": carried_by}
    return {"kind": kind, "carried_by": "named", "units": carried_by.split()}


def _value(text: str, metric: str, number: int) -> bool | int | float | None:
    if not text:
        return None
    if metric == "boolean":
        if text.lower() not in ("true", "false"):
            raise DocumentError(
                f"第 {number} 行：是否型指标的取值应为“true”或“false”",
                f"row {number}: a boolean target takes true or false",
            )
        return text.lower() == "true"
    try:
        value = float(text)
    except ValueError as exc:
        raise DocumentError(
            f"第 {number} 行：取值 {text!r} 不是数字",
            f"row {number}: value {text!r} is not a number",
        ) from exc
    return int(value) if value.is_integer() else value


def _integer(text: str, column: str, number: int) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise DocumentError(
            f"第 {number} 行：{column} {text!r} 不是整数",
            f"row {number}: {column} {text!r} is not a whole number",
        ) from exc


# ----------------------------------------------------------------------------- units


def unit_rows(directory: UnitDirectory) -> list[Row]:
    groups: list[Row] = [
        {"record": "peer_group", "code": g.code, "name_zh": g.name_zh, "name_en": g.name_en}
        for g in directory.peer_groups
    ]
    units: list[Row] = [
        {
            "record": "unit",
            "code": u.code,
            "name_zh": u.name_zh,
            "name_en": u.name_en,
            "peer_group": u.peer_group or "",
            "is_office": "true" if u.is_office else "false",
        }
        for u in directory.units
    ]
    return groups + units


def units_from_rows(rows: list[Row]) -> UnitDirectory:
    document: dict[str, list[dict[str, Any]]] = {"peer_groups": [], "units": []}
    for number, row in enumerate(rows, start=2):
        base = {"code": row["code"], "name_zh": row["name_zh"], "name_en": row["name_en"]}
        if row["record"] == "peer_group":
            document["peer_groups"].append(base)
        elif row["record"] == "unit":
            office = row["is_office"].lower()
            if office not in ("", "true", "false"):
                raise DocumentError(
                    f"第 {number} 行：is_office 的取值应为“true”或“false”",
                    f"row {number}: is_office takes true or false",
                )
            document["units"].append(
                base | {"peer_group": row["peer_group"] or None, "is_office": office == "true"}
            )
        else:
            raise DocumentError(
                f"第 {number} 行：未知的记录类型 {row['record']!r}",
                f"row {number}: unknown record {row['record']!r}",
            )
    return _validated(UnitDirectory, document)


def _validated(model: type[ModelT], document: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        zh, en = field_error(first, "zh"), field_error(first, "en")
        if not zh["loc"]:
            raise DocumentError(zh["msg"], en["msg"]) from exc
        raise DocumentError(f"{zh['loc']}：{zh['msg']}", f"{en['loc']}: {en['msg']}") from exc
