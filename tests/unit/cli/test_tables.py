"""Every command's table fits an 80-column terminal: rendered at 80 columns with a line between
rows, no row (so no cell) takes more than two lines; headers and values read Chinese by default
and English with --lang en."""

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from rich import box
from rich.console import Console
from rich.table import Table

from fivetype import state
from fivetype.commands import deadletters, results, scores, stack, status
from fivetype.lang import from_locale

LONG_NAME = "南昌小蓝经济技术开发区"
TYPES = [
    ("loyal", "忠诚型", "Loyal"),
    ("innovative", "创新型", "Innovative"),
    ("responsible", "担当型", "Responsible"),
    ("service", "服务型", "Service-oriented"),
    ("disciplined", "过硬型", "Disciplined"),
]


def card() -> dict[str, Any]:
    line = {
        "rule": "national_vanguard",
        "name_zh": "工作在全国当先锋、作表率或获国家层面认可",
        "name_en": "Work recognised as a national vanguard or model",
        "type": "innovative",
        "points": "-12.50",
        "explanation_zh": "3 项，共扣 12.50 分（已达上限 20.00）",
        "explanation_en": "3 items, 12.50 points deducted in all (capped at 20.00)",
        "events": ["0b7c…", "1d2e…", "2f3a…"],
        "items": [
            {
                "measure_code": "M07",
                "measure_name": "推进数字政府建设，提升政务服务数字化水平",
                "title": "政务服务事项网上可办率达到98%",
                "due_date": "2026-06-30",
                "kind": "milestone",
                "points": "-2.00",
            },
            {
                "measure_code": "M10",
                "measure_name": "破解瓶颈制约",
                "title": "上半年难点问题攻坚台账销号",
                "due_date": "2026-07-15",
                "kind": "finding",
            },
        ],
    }
    return {
        "unit": "nc-xiaolan",
        "unit_name": LONG_NAME,
        "status": "open",
        "card": {
            "period": "2026-Q2",
            "total": "87.50",
            "bonus": "0.00",
            "rubric_version": "2026.1",
            "types": [
                {
                    "type": code,
                    "name_zh": zh,
                    "name_en": en,
                    "full_marks": "20.00",
                    "deductions": "-12.50",
                    "score": "7.50",
                }
                for code, zh, en in TYPES
            ],
            "line_items": [line, {**line, "items": None}, {**line, "type": "all"}],
        },
    }


def ranking() -> dict[str, Any]:
    entry = {
        "rank": 10,
        "tied": True,
        "unit": "nc-xiaolan",
        "unit_name": LONG_NAME,
        "total": "100.00",
        "honour": "black",
        "grade": "good",
        "types": [{"type": code, "score": "20.00", "full_marks": "20.00"} for code, *_ in TYPES],
    }
    group = {
        "peer_group": "devzone",
        "peer_group_name_zh": "开发区",
        "peer_group_name_en": "Development zones",
        "entries": [entry, {**entry, "honour": "red", "tied": False}],
    }
    return {"period": "2026-03", "status": "provisional", "published": [], "provisional": [group]}


def period_results() -> dict[str, Any]:
    row = {
        "unit": "nc-xiaolan",
        "unit_name": LONG_NAME,
        "peer_group": "devzone",
        "rank": 3,
        "tied": True,
        "total": 87.5,
        "adjustments": 2.0,
        "grade": "good",
        "comprehensive_points": 17.5,
    }
    unscored = {**row, "rank": None, "tied": False, "total": None, "adjustments": 0.0}
    return {
        "period": "2026-Q1",
        "stage": "publicised",
        "current": [row, {**row, "adjustments": 0.0}, unscored | {"comprehensive_points": None}],
        "peer_groups": {"devzone": {"zh": "开发区", "en": "Development zones"}},
    }


def statuses() -> list[status.ServiceStatus]:
    ready = status.ServiceStatus("notifications", "http://127.0.0.1:18104", True, True)
    ready.consumers["notifications-deadline-missed"] = status.ConsumerStatus(
        "FIVETYPE_EVENTS", 123456, 1000, 12
    )
    down = status.ServiceStatus(
        "inspections", "http://127.0.0.1:18102", True, False, ["database", "nats"]
    )
    return [ready, down, status.ServiceStatus("scoring", "http://127.0.0.1:18103")]


def letters() -> list[deadletters.DeadLetter]:
    return [
        deadletters.DeadLetter(
            sequence=123456,
            time=datetime(2026, 4, 11, 1, 30, tzinfo=UTC),
            consumer="notifications-deadline-missed",
            reason="retries_exhausted",
            detail="IntegrityError: duplicate key value violates unique constraint "
            "uq_delivery_event_recipient (event_id, recipient) " * 3,
            original_subject="fivetype.events.DeadlineMissed.nc-xiaolan",
            data=b"{}",
        )
    ]


def running() -> state.StackState:
    ports = {"measures": 18101, "inspections": 18102, "scoring": 18103, "notifications": 18104}
    services = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    return state.StackState(pid=12345, nats_url="nats://127.0.0.1:14222", services=services)


def tables(lang: str) -> list[Table]:
    document = card()
    return [
        stack.endpoints_table(running(), stack.running_title(lang, 12345), lang),
        scores.types_table(document, lang, wide=False),
        scores.lines_table(document, lang, wide=False),
        scores.items_table(document["card"]["line_items"][0], lang, wide=False),
        *scores.ranking_tables(ranking(), lang, wide=False),
        *results.results_tables(period_results(), lang, wide=False),
        status.service_table(statuses(), lang, wide=False),
        status.consumer_table(statuses(), lang, wide=False),
        deadletters.letters_table(letters(), lang, wide=False),
    ]


def rows_in_lines(table: Table, width: int = 80) -> tuple[list[int], str]:
    """How many lines each row (header included) takes at `width` columns."""
    table.box, table.show_lines = box.ASCII, True
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(table)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    body = [line for line in text.splitlines() if line.startswith(("|", "+"))]
    heights, height = [], 0
    for line in body[1:]:
        if line.startswith("+") or line.startswith("|-"):
            heights.append(height)
            height = 0
        else:
            height += 1
    return heights, text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_table_fits_80_columns_with_no_cell_over_two_lines(lang: str) -> None:
    for table in tables(lang):
        heights, text = rows_in_lines(table)
        assert heights and max(heights) <= 2, f"{table.title}:\n{text}"
        assert max(len(line) for line in text.splitlines()) <= 80, text


def test_headers_and_values_are_chinese_by_default() -> None:
    _, text = rows_in_lines(scores.ranking_tables(ranking(), "zh", wide=False)[0])
    for word in ("排名", "单位", "总分", "等次", "红黑榜", "黑榜", "良好", LONG_NAME, "2026年3月"):
        assert word in text, text
    _, lines = rows_in_lines(scores.lines_table(card(), "zh", wide=False))
    assert lines.index("创新型") < lines.index("不分类型") and " all " not in lines
    _, items = rows_in_lines(scores.items_table(card()["card"]["line_items"][0], "zh", False))
    assert "限办日期" in items and "2026年6月30日" in items and "M07" in items
    _, english = rows_in_lines(scores.ranking_tables(ranking(), "en", wide=False)[0])
    assert "rank" in english and "black list" in english and "排名" not in english
    _, endpoints = rows_in_lines(stack.endpoints_table(running(), stack.running_title("zh"), "zh"))
    assert "接口地址" in endpoints and "按 Ctrl-C 停止" in endpoints
    assert "http://127.0.0.1:18101/docs" in endpoints and "nats://127.0.0.1:14222" in endpoints


def test_period_results_read_chinese_with_the_group_and_the_stage() -> None:
    [table] = results.results_tables(period_results(), "zh", wide=False)
    _, text = rows_in_lines(table)
    for words in ("开发区  2026年第一季度  公示中", "排名", "综合考核得分", "3=", "+2.00", "良好"):
        assert words in text, text
    assert "暂无考核数据" in text and "devzone" not in text
    [english] = results.results_tables(period_results(), "en", wide=False)
    _, text = rows_in_lines(english, width=120)
    assert "Development zones  2026-Q1  publicised" in text and "排名" not in text


def test_a_published_period_heads_with_its_result_on_record() -> None:
    document = card() | {
        "period": "2026-Q2",
        "status": "closed",
        "stage": "finalised",
        "published": {"total": "80.00", "rank": 3, "rubric_version": "2026.1"},
        "result": {"total": 82.0, "rank": 2, "grade": "good", "adjustments": 2.0},
        "changed_since_publication": True,
        "late_events": ["e1", "e2"],
    }
    heading = scores.published_heading(document, "zh")
    assert "2026年第二季度  已定档  总分 [bold]82.00[/]（含复核调整 +2.00）  第 2 名" in heading
    assert "等次 良好" in heading and "公布后又知悉 2 条事件，按现有事实计 87.50 分" in heading
    settled = scores.published_heading(document | {"changed_since_publication": False}, "en")
    assert "final (定档)  total [bold]82.00[/] (appeal adjustment +2.00)  rank 2" in settled
    assert "\n" not in settled


def test_wide_shows_every_column() -> None:
    narrow = scores.ranking_tables(ranking(), "zh", wide=False)[0]
    names = {code: zh for code, zh, _en in TYPES}
    wide = scores.ranking_tables(ranking(), "zh", wide=True, type_names=names)[0]
    assert len(wide.columns) == len(narrow.columns) + 5  # the five types' scores
    assert [c.header for c in wide.columns][-5:] == list(names.values())
    _, text = rows_in_lines(deadletters.letters_table(letters(), "zh", wide=True), width=400)
    assert "fivetype.events.DeadlineMissed.nc-xiaolan" in text
    assert text.count("uq_delivery_event_recipient") == 3


def test_a_card_without_item_details_still_renders() -> None:
    document = card()
    for line in document["card"]["line_items"]:
        line.pop("items")
    _, text = rows_in_lines(scores.lines_table(document, "zh", wide=False))
    assert "计分说明" in text


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "zh"),
        ({"LANG": "C.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "zh"),
    ],
)
def test_the_locale_chooses_the_language(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    monkeypatch.delenv("LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert from_locale() == expected


def test_units_with_nothing_assessed_close_the_ranking_unranked() -> None:
    document = ranking()
    document["provisional"][0]["unscored"] = ["nc-airport"]
    names = {"nc-airport": "南昌临空经济区"}
    for wide in (False, True):
        table = scores.ranking_tables(document, "zh", wide, unit_names=names)[0]
        _, text = rows_in_lines(table, width=200)
        last = text.strip().splitlines()[-2]  # above the table's bottom border
        assert "南昌临空经济区（nc-airport）" in last and "暂无考核数据" in last and "—" in last
    _, english = rows_in_lines(scores.ranking_tables(document, "en", False)[0], width=200)
    assert "nc-airport" in english and "none yet" in english


def test_a_card_with_nothing_assessed_says_so_instead_of_zeros() -> None:
    document = card()
    document["card"] |= {"total": None, "line_items": []}
    heading, said = scores.card_parts(document, "zh", wide=False, detail=True, current=False)
    assert "总分 [bold]暂无考核数据[/]" in str(heading)
    assert said == "本期尚无可考核的事项，该单位暂不参与排名。"
    english = scores.card_parts(document, "en", wide=False, detail=False, current=False)
    assert english[1] == "Nothing to assess in this period yet: the unit is not ranked for now."
    scored = scores.card_parts(card(), "zh", wide=False, detail=True, current=False)
    assert [type(part).__name__ for part in scored] == ["str", *["Table"] * 4]


def test_the_longest_unit_name_takes_one_line_in_league_tables() -> None:
    scored = period_results()  # with no appeal adjustment to show (at 80 columns, not all fit)
    scored["current"] = [
        row | {"adjustments": 0.0} for row in scored["current"] if row["total"] is not None
    ]
    for table in [
        *scores.ranking_tables(ranking(), "zh", wide=False),
        *results.results_tables(scored, "zh", wide=False),
    ]:
        heights, text = rows_in_lines(table)
        assert set(heights) == {1}, text
        assert "南昌小蓝经济技术开发区（nc-xiaolan）" in text
