"""Tables for people: headers in the reader's language, and only the columns that fit an
80-column terminal unless `--wide` asks for every one. Each command builds its tables with a pure
function of the service's document, so a test can render every one at 80 columns."""

from dataclasses import dataclass
from datetime import date, datetime

from rich.table import Table

from fivetype.lang import say

# A unit as a league table names it, on one line: the directory's longest is
# 南昌小蓝经济技术开发区（nc-xiaolan）.
UNIT_WIDTH = 36


@dataclass(frozen=True)
class Column:
    zh: str
    en: str
    wide_only: bool = False  # shown with --wide only
    max_width: int | None = None  # a longer value wraps (a cell of free text)
    ellipsis: bool = False  # one line, cut with "…" (--wide shows it whole)
    justify: str = "left"
    whole: bool = False  # never wrapped (a code or an address the column must show whole)


def table(title: str, columns: list[Column], lang: str, wide: bool) -> tuple[Table, list[bool]]:
    """An empty table and, per column, whether it is shown (pass it to `add_row`)."""
    shown = [wide or not c.wide_only for c in columns]
    result = Table(title=title)
    for column, visible in zip(columns, shown, strict=True):
        if not visible:
            continue
        cut = column.ellipsis and not wide
        result.add_column(
            say(lang, column.zh, column.en),
            max_width=None if wide else column.max_width,
            no_wrap=cut or column.whole,
            overflow="ellipsis" if cut else "fold",
            justify=column.justify,  # type: ignore[arg-type]
        )
    return result, shown


def add_row(target: Table, shown: list[bool], *cells: str) -> None:
    target.add_row(*(cell for cell, visible in zip(cells, shown, strict=True) if visible))


def day(iso: str | None, lang: str) -> str:
    """An ISO date (or date-time) as the reader writes it: 2026年4月11日 or 2026-04-11."""
    from services.runtime.workdays import chinese_date

    if not iso:
        return ""
    value = date.fromisoformat(iso[:10])
    return say(lang, chinese_date(value), value.isoformat())


def moment(value: datetime | None, lang: str) -> str:
    """An instant in China time, short: 4月11日 09:30 or 04-11 09:30."""
    from services.runtime.workdays import PROGRAMME_TZ

    if value is None:
        return ""
    local = value.astimezone(PROGRAMME_TZ)
    return say(lang, f"{local.month}月{local.day}日 {local:%H:%M}", f"{local:%m-%d %H:%M}")


def period_name(period: str, lang: str) -> str:
    """2026 → 2026年度, 2026-Q1 → 2026年第一季度, 2026-03 → 2026年3月 (English: as given)."""
    if lang == "en":
        return period
    year, _, part = period.partition("-")
    if not part:
        return f"{year}年度"
    if part.startswith("Q"):
        return f"{year}年第{'一二三四'[int(part[1]) - 1]}季度"
    return f"{year}年{int(part)}月"
