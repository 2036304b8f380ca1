"""`fivetype scorecard`, `fivetype ranking` and `fivetype rebuild`: read scores from the scoring
service, and rebuild its store from the event stream into a fresh database."""

import asyncio
import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fivetype import exits, state
from fivetype.commands._nats import NatsUrl, NkeyFile
from fivetype.commands._options import DATA_DIR, DataDir, PeerGroup, ScoringUrl
from fivetype.commands._tables import UNIT_WIDTH, Column, add_row, day, period_name, table
from fivetype.lang import Lang, Wide, from_locale, named, say

if TYPE_CHECKING:
    from services.scoring.handlers.rebuild import Rebuilt

console = Console()
PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")
Period = Annotated[
    str | None,
    typer.Option(help="2026 (the year), 2026-Q1 or 2026-03; default: this programme year."),
]
AsJson = Annotated[bool, typer.Option("--json", help="The service's JSON document.")]
Detail = Annotated[
    bool, typer.Option("--detail", help="List the items behind every line (task, due date).")
]
HONOURS = {
    "red": ("[red]红榜[/]", "[red]red list[/]"),
    "black": ("[bold]黑榜[/]", "[bold]black list[/]"),
}
STATUS = {
    "open": ("暂定", "provisional"),
    "closed": ("已公布", "published"),
    "provisional": ("暂定", "provisional"),
    "published": ("已公布", "published"),
}
STAGES = {
    "open": ("未发布", "not published"),
    "publicised": ("公示中", "publicised (公示)"),
    "finalised": ("已定档", "final (定档)"),
}
GRADES = {
    "excellent": ("优秀", "excellent"),
    "good": ("良好", "good"),
    "fair": ("一般", "fair"),
    "poor": ("较差", "poor"),
}
WHOLE_CARD = "all"  # the type of a line that concerns the whole card, not one of the five


def _period(period: str | None) -> str:
    from datetime import UTC

    from services.runtime.workdays import local_date

    chosen = period or str(local_date(datetime.now(UTC)).year)
    if not PERIOD.match(chosen):
        usage = say(
            from_locale(),
            f"考核周期“{chosen}”有误：请写作 2026、2026-Q1 或 2026-03",
            f"period {chosen!r}: use 2026, 2026-Q1 or 2026-03",
        )
        console.print(f"[red]{usage}[/]", highlight=False)
        raise typer.Exit(exits.USAGE)
    return chosen


def _get(url: str | None, data_dir: Path, lang: str, path: str, **params: Any) -> dict[str, Any]:
    from fivetype.apiclient import call, client

    with client(url or state.service_url("scoring", data_dir), data_dir, lang) as http:
        document: dict[str, Any] = call(http, "GET", path, params=params).json()
    return document


def _name(item: dict[str, Any], lang: str) -> str:
    return str(item.get(f"name_{lang}") or item.get("name_en") or item.get("rule", ""))


def points(text: str | None) -> str:
    """Points as the office writes them, two decimals ("0" and "0.00" alike read 0.00)."""
    return "" if text is None else f"{Decimal(text):.2f}"


def grade_name(grade: str | None, lang: str) -> str:
    zh, en = GRADES.get(grade or "", (grade or "", grade or ""))
    return say(lang, zh, en)


def _status(status: str, lang: str) -> str:
    zh, en = STATUS.get(status, (status, status))
    return say(lang, zh, en)


def card_heading(document: dict[str, Any], lang: str) -> str:
    """The unit, the period, the card's total and grade, and where the period stands."""
    card = document["card"]
    unit = named(document["unit"], document.get("unit_name"), lang)
    total = points(card["total"]) or say(lang, "暂无考核数据", "nothing assessed yet")
    grade = grade_name(card.get("grade"), lang)
    return say(
        lang,
        f"[bold]{unit}[/]  {period_name(card['period'], 'zh')}  总分 [bold]{total}[/]  "
        + (f"等次 {grade}  " if grade else "")
        + f"加分 {points(card['bonus'])}  {_status(document['status'], 'zh')}  "
        f"考核细则 {card['rubric_version']}",
        f"[bold]{unit}[/]  {card['period']}  total [bold]{total}[/]  "
        + (f"grade {grade}  " if grade else "")
        + f"bonus {points(card['bonus'])}  {_status(document['status'], 'en')}  "
        f"rubric {card['rubric_version']}",
    )


def published_heading(document: dict[str, Any], lang: str) -> str:
    """A published period's record: the result as it stands (with the corrections decided on
    appeal), its rank and grade, the stage, and whether what became known since would score
    otherwise (it changes nothing published)."""
    published, result = document["published"], document.get("result") or {}
    unit = named(document["unit"], document.get("unit_name"), lang)
    total = result.get("total", published["total"])
    shown = say(lang, "暂无考核数据", "nothing assessed") if total is None else f"{total:.2f}"
    rank = result.get("rank") or published.get("rank")
    grade = grade_name(result.get("grade"), lang)
    stage = say(lang, *STAGES.get(document.get("stage") or "", STAGES["publicised"]))
    adjusted = result.get("adjustments") or 0
    heading = say(
        lang,
        f"[bold]{unit}[/]  {period_name(document['period'], 'zh')}  {stage}  总分 [bold]{shown}[/]"
        + (f"（含复核调整 {adjusted:+.2f}）" if adjusted else "")
        + (f"  第 {rank} 名" if rank else "")
        + (f"  等次 {grade}" if grade else "")
        + f"  考核细则 {published['rubric_version']}",
        f"[bold]{unit}[/]  {document['period']}  {stage}  total [bold]{shown}[/]"
        + (f" (appeal adjustment {adjusted:+.2f})" if adjusted else "")
        + (f"  rank {rank}" if rank else "")
        + (f"  grade {grade}" if grade else "")
        + f"  rubric {published['rubric_version']}",
    )
    if not document.get("changed_since_publication"):
        return heading
    late, now = len(document.get("late_events") or []), points(document["card"]["total"])
    return (
        heading
        + "\n"
        + say(
            lang,
            f"公布后又知悉 {late} 条事件，按现有事实计 {now} 分；已公布结果不变（--current 查看）",
            f"{late} event(s) became known after publication; scored now: {now}. The published "
            "result stands (--current shows the card as scored now)",
        )
    )


def types_table(document: dict[str, Any], lang: str, wide: bool) -> Table:
    columns = [
        Column("类型", "type"),
        Column("满分", "full marks", justify="right"),
        Column("扣分", "deductions", justify="right"),
        Column("得分", "score", justify="right"),
    ]
    result, shown = table(say(lang, "五型得分", "the five types"), columns, lang, wide)
    for t in document["card"]["types"]:
        cells = (t["full_marks"], t["deductions"], t["score"])
        add_row(result, shown, _name(t, lang), *(points(c) for c in cells))
    return result


LINE_COLUMNS = [
    Column("考核项目", "rule", max_width=30),
    Column("类型", "type", wide_only=True),
    Column("分值", "points", justify="right"),
    Column("计分说明", "explanation"),
    Column("规则代码", "rule code", wide_only=True),
    Column("事件数", "events", wide_only=True, justify="right"),
]


def lines_table(document: dict[str, Any], lang: str, wide: bool) -> Table:
    """Every line item, grouped by type under a row naming the type (a column with --wide)."""
    card = document["card"]
    result, shown = table(say(lang, "计分明细", "line items"), LINE_COLUMNS, lang, wide)
    type_names = {t["type"]: _name(t, lang) for t in card["types"]}
    # Lines of the whole card (common indicators, guarantee measures, deductions) come last.
    type_names[WHOLE_CARD] = say(lang, "不分类型", "not by type")
    order = {code: n for n, code in enumerate(type_names)}
    current = None
    for item in sorted(card["line_items"], key=lambda i: order.get(i["type"], len(order))):
        kind = type_names.get(item["type"], item["type"])
        if not wide and kind != current:
            add_row(result, shown, f"[bold]{kind}[/]", "", "", "", "", "")
            current = kind
        explanation = item.get(f"explanation_{lang}") or item["explanation_en"]
        cells = (_name(item, lang), kind, points(item["points"]), explanation, item["rule"])
        add_row(result, shown, *cells, str(len(item.get("events") or [])))
    return result


ITEM_KINDS = {
    "milestone": ("节点任务", "milestone"),
    "obligation": ("周期性工作任务", "obligation"),
    "target": ("量化目标", "target"),
    "finding": ("督查发现问题", "finding"),
    "escalation": ("督办", "escalation"),
    "interview": ("约谈", "interview"),
    "accountability": ("问责", "accountability"),
    "public_request": ("诉求工单", "public request"),
    "suggestion": ("监督员建议", "suggestion"),
    "achievement": ("创先争优", "achievement"),
}


def items_table(item: dict[str, Any], lang: str, wide: bool) -> Table:
    """The tasks, findings or requests behind one line item (when scoring names them)."""
    columns = [
        Column("举措", "measure", max_width=26, ellipsis=True),
        Column("事项", "item", max_width=40),
        Column("限办日期", "due date"),
        Column("分值", "points", justify="right"),
        Column("类别", "kind", wide_only=True),
        Column("说明", "note", wide_only=True),
    ]
    title = f"{_name(item, lang)}  {points(item['points'])}"
    result, shown = table(title, columns, lang, wide)
    for entry in item.get("items") or []:
        measure = " ".join(filter(None, (entry.get("measure_code"), entry.get("measure_name"))))
        zh, en = ITEM_KINDS.get(entry.get("kind") or "", (entry.get("kind") or "",) * 2)
        due = day(entry.get("due_date"), lang)
        cells = (measure, entry.get("title") or "", due, points(entry.get("points")))
        add_row(result, shown, *cells, say(lang, zh, en), entry.get("note_zh") or "")
    return result


def scorecard(
    unit: Annotated[str, typer.Argument(help="Unit code, e.g. 360102 or dept-fgw.")],
    period: Period = None,
    lang: Lang = None,
    wide: Wide = False,
    detail: Detail = False,
    current: Annotated[
        bool,
        typer.Option(
            "--current",
            help="For a published period, the card as scored now instead of the one its "
            "published result stands on.",
        ),
    ] = False,
    as_json: AsJson = False,
    url: ScoringUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """A unit's scorecard: the total, each type, and every line with its explanation. For a
    published period, the result on record and the card it stands on."""
    assert lang is not None  # the option's callback chose one
    document = _get(url, data_dir, lang, f"/v1/units/{unit}/cards/{_period(period)}")
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    for part in card_parts(document, lang, wide, detail, current):
        console.print(part)


def card_parts(
    document: dict[str, Any], lang: str, wide: bool, detail: bool, current: bool
) -> list[str | Table]:
    """What `scorecard` prints: the heading, the types, the lines and, with `detail`, each
    line's items; a card with nothing assessed says so instead of a row of zeros."""
    if document.get("published") and not current:
        parts: list[str | Table] = [published_heading(document, lang)]
        document = {**document, "card": document["published"]["card"]}
    else:
        parts = [card_heading(document, lang)]
    card = document["card"]
    if card["total"] is None:
        nothing = say(
            lang,
            "本期尚无可考核的事项，该单位暂不参与排名。",
            "Nothing to assess in this period yet: the unit is not ranked for now.",
        )
        parts.append(nothing)
        if not card["line_items"]:
            return parts
    else:
        parts.append(types_table(document, lang, wide))
    parts.append(lines_table(document, lang, wide))
    if detail:
        parts += [items_table(item, lang, wide) for item in card["line_items"] if item.get("items")]
    return parts


def ranking_tables(
    document: dict[str, Any],
    lang: str,
    wide: bool,
    type_names: dict[str, str] | None = None,
    unit_names: dict[str, str] | None = None,
) -> list[Table]:
    """One table per peer group, published if the period is closed, else provisional; with
    --wide a column per type, headed by its name (from the catalogue) or else its code. Units
    with nothing assessed yet close the table unranked, named from the unit directory."""
    type_names, unit_names = type_names or {}, unit_names or {}
    tables = []
    status = _status(document["status"], lang)
    for ranked in document["published"] or document["provisional"]:
        group = ranked.get(f"peer_group_name_{lang}") or ranked["peer_group"]
        entries = ranked["entries"]
        graded = any(e.get("grade") for e in entries)
        columns = [
            Column("排名", "rank", justify="right"),
            Column("单位", "unit", max_width=UNIT_WIDTH),
            Column("总分", "total", justify="right"),
            Column("等次", "grade", wide_only=not graded),
            Column("红黑榜", "list"),
        ]
        first = entries[0]["types"] if entries else []
        types = [type_names.get(t["type"], t["type"]) for t in first]
        columns += [Column(name, name, wide_only=True, justify="right") for name in types]
        title = f"{group}  {period_name(document['period'], lang)}  {status}"
        result, shown = table(title, columns, lang, wide)
        for entry in entries:
            honour = HONOURS.get(entry["honour"] or "")
            grade = grade_name(entry.get("grade"), lang)
            cells = (
                f"{entry['rank']}{'=' if entry['tied'] else ''}",
                named(entry["unit"], entry["unit_name"], lang),
                points(entry["total"]),
                grade,
                say(lang, *honour) if honour else "",
            )
            add_row(result, shown, *cells, *(points(t["score"]) for t in entry["types"]))
        for unit in ranked.get("unscored") or []:
            nothing = say(lang, "暂无考核数据", "none yet")
            name = named(unit, unit_names.get(unit), lang)
            add_row(result, shown, "—", name, nothing, "", "", *("" for _ in types))
        tables.append(result)
    return tables


def ranking(
    period: Period = None,
    group: PeerGroup = None,
    lang: Lang = None,
    wide: Wide = False,
    as_json: AsJson = False,
    url: ScoringUrl = None,
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Units ranked within their peer groups: published once the period is closed, else
    provisional."""
    assert lang is not None  # the option's callback chose one
    params = {"peer_group": group} if group else {}
    document = _get(url, data_dir, lang, f"/v1/rankings/{_period(period)}", **params)
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    names = _type_names(data_dir, lang, document["period"][:4]) if wide else {}
    groups = document["published"] or document["provisional"]
    units = _unit_names(data_dir, lang) if any(g.get("unscored") for g in groups) else {}
    for ranked in ranking_tables(document, lang, wide, names, units):
        console.print(ranked)


def _unit_names(data_dir: Path, lang: str) -> dict[str, str]:
    """The units' names from the unit directory (the measures service); none, so codes are
    shown, when that service does not answer: the ranking is scoring's alone."""
    import httpx

    from fivetype.apiclient import client

    try:
        with client(state.service_url("measures", data_dir), data_dir, lang) as http:
            answer = http.get("/v1/units")
        answer.raise_for_status()
        return {u["code"]: u[f"name_{lang}"] for u in answer.json()["units"]}
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return {}


def _type_names(data_dir: Path, lang: str, year: str) -> dict[str, str]:
    """The five types' names as the year's catalogue (the measures service) gives them."""
    from fivetype.apiclient import call, client

    with client(state.service_url("measures", data_dir), data_dir, lang) as http:
        catalogue = call(http, "GET", "/v1/catalogue", params={"year": year}).json()
    return {t["code"]: t[f"name_{lang}"] for t in catalogue["types"]}


async def _events_to_replay(nats_url: str | None, nkey_file: Path | None) -> int:
    """How many events the rebuild will read: those of the types scoring consumes."""
    from contracts import streams, subjects
    from fivetype.commands._nats import connection
    from services.scoring.handlers.rebuild import REPLAYED

    async with connection(nats_url, nkey_file) as nc:
        info = await nc.jetstream().stream_info(
            streams.EVENTS.name, subjects_filter=f"{subjects.EVENTS}.>"
        )
    counts = info.state.subjects or {}
    return sum(n for subject, n in counts.items() if subject.split(".")[2] in REPLAYED)


def _rebuild_with_bar(
    database_url: str, nats_url: str, nkey_file: Path | None, total: int, lang: str
) -> "Rebuilt":
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from fivetype.commands._nats import connect_options
    from services.scoring.handlers.rebuild import Rebuilt, rebuild

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task(say(lang, "重放事件", "replaying events"), total=total)

        def advance(result: Rebuilt) -> None:
            progress.update(task, completed=result.events)

        return asyncio.run(
            rebuild(
                database_url, nats_url, progress=advance, connect_options=connect_options(nkey_file)
            )
        )


def rebuild_command(
    database_url: Annotated[
        str | None,
        typer.Option(help="A fresh database; default a new SQLite file in the data folder."),
    ] = None,
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    data_dir: DataDir = DATA_DIR,
    lang: Lang = None,
) -> None:
    """Rebuild the scoring store from every event on the stream, into a fresh database."""
    assert lang is not None  # the option's callback chose one
    from services.scoring.handlers.rebuild import NotEmpty

    nats_url = nats_url or state.nats_url(data_dir)
    nkey_file = nkey_file or state.operator_seed(data_dir)
    if database_url is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        database_url = f"sqlite:///{data_dir.resolve() / f'scoring-rebuilt-{stamp}.db'}"
    total = asyncio.run(_events_to_replay(nats_url, nkey_file))
    try:
        result = _rebuild_with_bar(database_url, nats_url, nkey_file, total, lang)
    except NotEmpty as exc:
        refused = say(
            lang,
            f"已拒绝：{database_url} 已有计分数据，请重建到一个新的数据库",
            f"refused: {exc}",
        )
        console.print(f"[red]{refused}[/]", highlight=False)
        raise typer.Exit(exits.FAILURE) from exc
    r = result
    done = say(
        lang,
        f"已重建 {database_url}：事件 {r.events} 条（跳过 {r.skipped} 条），事实 {r.facts} 条，"
        f"计分卡 {r.cards} 张，用时 {r.seconds:.1f} 秒",
        f"rebuilt {database_url}: {r.events} events ({r.skipped} skipped), "
        f"{r.facts} facts, {r.cards} cards in {r.seconds:.1f}s",
    )
    console.print(done, markup=False, highlight=False)
    serve = say(
        lang,
        "启用方法：停止平台，将 FIVETYPE_SCORING_DATABASE_URL 设为该数据库"
        "（或用该 SQLite 文件替换 scoring.db）",
        "to serve it: stop the stack and set FIVETYPE_SCORING_DATABASE_URL to it "
        "(or put the SQLite file in place of scoring.db)",
    )
    console.print(serve, markup=False)
