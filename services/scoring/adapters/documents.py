"""The documents an office issues when it closes a period, in Chinese, marked 公示稿 (provisional)
or 最终结果 (final): the results workbook (XLSX), the draft 通报 (DOCX) and a unit's result sheet
(DOCX) for its 述职. Built from the results as publicised or finalised, never recomputed."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING

from contracts.scoring import (
    GRADE_NAMES,
    AppealDecided,
    ResultsFinalised,
    ResultsPublicised,
    UnitResult,
    period_name_zh,
)
from services.runtime.workdays import chinese_date, local_date
from services.scoring.domain.cards import TYPE_NAMES, LineItem
from services.scoring.domain.workflow import grade_name

# openpyxl and python-docx are imported where a document is made, not with the module: they are
# megabytes of every scoring process and half a second of its start (measured), and most never
# write a document.
if TYPE_CHECKING:
    from docx.document import Document as Docx
    from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HONOURS = {"red": "红榜", "black": "黑榜"}
ADDRESSEES = "各县（区）人民政府，各开发区管委会，湾里管理局，市政府各部门"


def _points(value: float | None) -> str:
    return "暂无考核数据" if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class ResultsDocument:
    """What every document is made from. `line_items` are the cards' as publicised, per unit;
    `decisions` the answers to appeals, per unit."""

    results: ResultsPublicised | ResultsFinalised
    group_names: Mapping[str, str]
    issued_on: date
    office_name: str = "南昌市“五型”政府建设领导小组办公室"
    line_items: Mapping[str, Sequence[LineItem]] = field(default_factory=dict)
    decisions: Mapping[str, AppealDecided] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return isinstance(self.results, ResultsFinalised)

    @property
    def mark(self) -> str:
        return "最终结果" if self.final else "公示稿"

    @property
    def title(self) -> str:
        return f"{period_name_zh(self.results.period)}“五型”政府建设考核结果"

    def groups(self) -> list[tuple[str, list[UnitResult]]]:
        found: dict[str, list[UnitResult]] = {}
        for row in self.results.results:
            found.setdefault(row.peer_group, []).append(row)
        return [(g, found[g]) for g in sorted(found)]

    def group_name(self, group: str) -> str:
        return self.group_names.get(group, group)

    def type_codes(self) -> list[str]:
        first = next(iter(self.results.results), None)
        return [t.type for t in first.types] if first else list(TYPE_NAMES)


def _type_name(code: str) -> str:
    return TYPE_NAMES.get(code, (code, code))[0]


# ----------------------------------------------------------------------------- the workbook


def results_workbook(document: ResultsDocument) -> bytes:
    """One sheet of results per peer group, and one sheet of every unit's line items."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    types = document.type_codes()
    header = [
        "名次",
        "单位代码",
        "单位名称",
        "总分",
        *(_type_name(t) for t in types),
        "加分",
        "扣分",
        "复核调整",
        "等次",
        "一票否决/降等",
        "红黑榜",
        f"综合考核折算分（满分{document.results.comprehensive_share:g}）",
    ]
    for group, rows in document.groups():
        sheet = book.create_sheet(document.group_name(group)[:31])
        sheet.append([f"{document.title}（{document.group_name(group)}）【{document.mark}】"])
        sheet.append(
            [
                f"数据截至{chinese_date(local_date(document.results.as_of))}，制表日期{chinese_date(document.issued_on)}"
            ]
        )
        sheet.append(header)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in rows:
            scores = {t.type: t.score for t in row.types}
            sheet.append(
                [
                    row.rank,
                    row.unit,
                    row.unit_name,
                    "暂无考核数据" if row.total is None else row.total,
                    *(scores.get(t) for t in types),
                    row.bonus,
                    row.deductions,
                    row.adjustments,
                    grade_name(row.grade),
                    row.verdict or "",
                    HONOURS.get(row.honour or "", ""),
                    row.comprehensive_points,
                ]
            )
        sheet.column_dimensions["C"].width = 28
    _line_item_sheet(book, document)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _line_item_sheet(book: "Workbook", document: ResultsDocument) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = book.create_sheet("分项明细")
    sheet.append(["单位代码", "单位名称", "类型", "考核项目", "分值", "说明"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in document.results.results:
        for item in document.line_items.get(row.unit, ()):
            explanation = item.explanation_zh
            sheet.append(
                [
                    row.unit,
                    row.unit_name,
                    _type_name(item.type),
                    item.name_zh,
                    float(item.points),
                    explanation,
                ]
            )
        decision = document.decisions.get(row.unit)
        for adjustment in decision.adjustments if decision else ():
            kind = _type_name(adjustment.line_item.split(":")[1])
            sheet.append(
                [row.unit, row.unit_name, kind, "复核更正", adjustment.points, adjustment.reason]
            )
    sheet.column_dimensions["F"].width = 80
    for line in sheet.iter_rows(min_row=2):
        line[5].alignment = Alignment(wrap_text=True)


# ----------------------------------------------------------------------------- the 通报


def _docx() -> "Docx":
    from docx import Document
    from docx.shared import Pt

    made = Document()
    style = made.styles["Normal"]
    style.font.name = "仿宋"
    style.font.size = Pt(16)
    return made


def _centred(made: "Docx", text: str, size: int, bold: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = made.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)


def _right(made: "Docx", text: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    made.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _names(rows: Sequence[UnitResult]) -> str:
    return "、".join(r.unit_name for r in rows) or "无"


def notice_draft(document: ResultsDocument) -> bytes:
    """The draft 通报 in the usual layout: mark, title, 主送, body, lists, 落款 and date."""
    made = _docx()
    _right(made, f"【{document.mark}】")
    _centred(made, f"关于{document.title}的通报", 22, bold=True)
    made.add_paragraph(f"{ADDRESSEES}：")
    results = document.results
    scored = [r for r in results.results if r.total is not None]
    opening = (
        f"根据{results.period[:4]}年度“五型”政府建设考核评分细则（{results.rubric_version}版），"
        f"市“五型”办对{len(results.results)}个责任单位{period_name_zh(results.period)}的工作情况进行了考核，"
        f"其中{len(scored)}个单位有考核数据。"
    )
    if isinstance(results, ResultsFinalised):
        opening += (
            f"考核结果经公示，共受理申诉{results.appeals}件，经复核更正{results.corrected}件，"
            "现予定档。"
        )
    else:
        opening += (
            f"现将考核结果予以公示，公示期至{chinese_date(results.publicity_ends_on)}。"
            f"对结果有异议的单位，请于{chinese_date(results.appeal_deadline)}（含）前提出申诉并附佐证材料。"
        )
    made.add_paragraph(opening)
    made.add_paragraph(f"考核结果按{results.comprehensive_share:g}分折算计入全市综合考核。")
    for number, (group, rows) in enumerate(document.groups(), start=1):
        made.add_paragraph(f"{'一二三四五六七八九十'[number - 1]}、{document.group_name(group)}")
        made.add_paragraph(f"红榜（通报表扬）：{_names([r for r in rows if r.honour == 'red'])}。")
        made.add_paragraph(
            f"黑榜（通报批评）：{_names([r for r in rows if r.honour == 'black'])}。"
        )
        for grade in GRADE_NAMES:
            graded = [r for r in rows if r.grade == grade]
            if graded:
                made.add_paragraph(f"{grade_name(grade)}等次：{_names(graded)}。")
        vetoed = [r for r in rows if r.verdict]
        if vetoed:
            made.add_paragraph(f"一票否决或降等：{_names(vetoed)}。")
        table = made.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("名次", "单位", "总分", "等次"), strict=True):
            cell.text = text
        for row in rows:
            cells = table.add_row().cells
            values = (
                str(row.rank or "—"),
                row.unit_name,
                _points(row.total),
                grade_name(row.grade),
            )
            for cell, text in zip(cells, values, strict=True):
                cell.text = text
    made.add_paragraph("请各单位对照考核结果，认真查找差距，抓好整改落实。")
    made.add_paragraph("附件：考核结果明细表")
    _right(made, document.office_name)
    _right(made, chinese_date(document.issued_on))
    return _save(made)


def _save(made: "Docx") -> bytes:
    out = BytesIO()
    made.save(out)
    return out.getvalue()


# ----------------------------------------------------------------------------- a unit's sheet


def unit_sheet(document: ResultsDocument, unit: str) -> bytes:
    """A unit's result sheet for its 述职: total, rank, 等次, each type, line items, the appeal."""
    row = next(r for r in document.results.results if r.unit == unit)
    made = _docx()
    _right(made, f"【{document.mark}】")
    _centred(made, f"{document.title}单位结果表", 18, bold=True)
    made.add_paragraph(
        f"单位：{row.unit_name}（{row.unit}）    组别：{document.group_name(row.peer_group)}"
    )
    summary = made.add_table(rows=0, cols=2)
    summary.style = "Table Grid"
    facts = [
        ("总分", _points(row.total)),
        ("组内名次", f"{row.rank}" if row.rank else "—"),
        ("等次", grade_name(row.grade)),
        ("红黑榜", HONOURS.get(row.honour or "", "—")),
        ("加分", f"{row.bonus:.2f}"),
        ("扣分", f"{row.deductions:.2f}"),
        ("复核调整", f"{row.adjustments:.2f}"),
        ("一票否决/降等", row.verdict or "无"),
        (
            f"综合考核折算分（满分{document.results.comprehensive_share:g}）",
            _points(row.comprehensive_points),
        ),
        *((_type_name(t.type), f"{t.score:.2f}/{t.full_marks:.2f}") for t in row.types),
    ]
    for name, value in facts:
        cells = summary.add_row().cells
        cells[0].text, cells[1].text = name, value
    items = document.line_items.get(unit, ())
    if items:
        made.add_paragraph("扣加分明细：")
        for item in items:
            made.add_paragraph(
                f"{item.name_zh}（{_type_name(item.type)}）{item.points:+.2f}分：{item.explanation_zh}"
            )
    decision = document.decisions.get(unit)
    if decision is not None:
        outcome = "予以更正" if decision.outcome == "corrected" else "维持原结果"
        made.add_paragraph(f"申诉复核：{outcome}。{decision.answer}")
        for adjustment in decision.adjustments:
            made.add_paragraph(
                f"调整 {adjustment.line_item} {adjustment.points:+.2f}分：{adjustment.reason}"
            )
    _right(made, document.office_name)
    _right(made, chinese_date(document.issued_on))
    return _save(made)
