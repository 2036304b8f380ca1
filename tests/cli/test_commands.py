"""The operator's commands against a running platform, with the exit codes scripts rely on:
0 done, 1 refused or failed, 2 usage, 3 unreachable, 4 not found."""

import csv
import json
from pathlib import Path
from typing import Any

import httpx

from fivetype.demo.plan import programme_start
from fivetype.ports import free_port
from fivetype.stack import Stack
from tests import auth
from tests.cli.conftest import fivetype
from tests.conftest import eventually

UNIT = "360104"


def test_status_shows_every_service_ready_with_its_consumers(platform: Stack) -> None:
    result = fivetype(platform, "status", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["nats"]["reachable"]
    services = {s["name"]: s for s in document["services"]}
    assert set(services) == {"measures", "inspections", "scoring", "notifications"}
    assert all(s["ready"] and not s["failing"] for s in services.values())
    assert "scoring-progress" in services["scoring"]["consumers"]
    table = fivetype(platform, "status", "--consumers")
    assert table.exit_code == 0 and "scoring-progress" in table.output


def test_status_exits_3_when_a_service_does_not_answer(platform: Stack) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    result = fivetype(platform, "status", FIVETYPE_SCORING_URL=gone)
    assert result.exit_code == 3
    assert "无法连接" in result.output
    english = fivetype(platform, "status", "--lang", "en", FIVETYPE_SCORING_URL=gone)
    assert "unreachable" in english.output
    nats_gone = fivetype(platform, "status", NATS_URL=f"nats://127.0.0.1:{free_port()}")
    assert nats_gone.exit_code == 3


def test_the_demo_moves_the_scores(platform: Stack, tmp_path: Path) -> None:
    """The demo's first quarter and a bit: the scores move, the ladder climbs every rung, the
    results are publicised, two units appeal and the office answers both before 定档."""
    played = fivetype(
        platform,
        *("demo", "--seed", "3", "--speed", "40", "--until", "2026-04-20"),
        *("--data-dir", str(platform.data_dir)),
    )
    assert played.exit_code == 0, played.output
    assert "被拒 0 步" in played.output and "12345热线工单" in played.output

    def deducted() -> list[dict[str, Any]]:
        ranking = json.loads(fivetype(platform, "ranking", "--period", "2026", "--json").output)
        entries = [e for group in ranking["provisional"] for e in group["entries"]]
        return [e for e in entries if float(e["total"]) < 100]

    lowered = eventually(deducted, timeout=30)
    unit = lowered[0]["unit"]
    card = fivetype(platform, "scorecard", unit, "--period", "2026")
    assert card.exit_code == 0, card.output
    assert "忠诚型" in card.output and "计分明细" in card.output
    english = fivetype(platform, "scorecard", unit, "--period", "2026", "--lang", "en")
    assert "Loyal" in english.output
    _appealed_and_finalised(platform)
    _every_rung_of_the_ladder(platform)


def _appealed_and_finalised(platform: Stack) -> None:
    shown = fivetype(platform, "results", "show", "2026-Q1", "--json")
    results = json.loads(shown.output)
    assert results["stage"] == "finalised", shown.output
    scoring = platform.service("scoring").url
    answered = httpx.get(f"{scoring}/v1/periods/2026-Q1/appeals", headers=auth.headers()).json()
    assert sorted(a["decision"]["outcome"] for a in answered) == ["corrected", "upheld"]
    for appeal in answered:  # filed by the unit itself, about a line item of its card
        filed = appeal["filed"]
        assert filed["filed_by"] == f"{filed['unit']}:contact" and filed["line_items"]
    corrected = next(a for a in answered if a["decision"]["outcome"] == "corrected")
    adjusted = [r for r in results["current"] if r["adjustments"]]
    assert [r["unit"] for r in adjusted] == [corrected["filed"]["unit"]]
    table = fivetype(platform, "results", "show", "2026-Q1").output
    for words in (
        "县区  2026年第一季度  已定档",
        "排名",
        "复核调整",
        "综合考核得分",
        "东湖区（360102）",
    ):
        assert words in table, table


def _every_rung_of_the_ladder(platform: Stack) -> None:
    """The weekly 通报, the office's 专项通报 about a unit, and that unit's 提醒, 催办, 签收提醒
    and 督办."""
    notifications = platform.service("notifications").url

    def inbox(recipient: str, kind: str = "") -> list[dict[str, Any]]:
        url = f"{notifications}/v1/inbox/{recipient}?limit=500" + (f"&kind={kind}" if kind else "")
        return list(httpx.get(url, headers=auth.headers()).json())

    def bulletins() -> set[str]:
        url = f"{notifications}/v1/bulletins?limit=200"
        return {b["kind"] for b in httpx.get(url, headers=auth.headers()).json()}

    eventually(lambda: bulletins() == {"periodic", "ad_hoc"}, timeout=30)
    # The periodic 通报 is about the office's subject, the 专项通报 about the unit it names.
    (named,) = {m["unit"] for m in inbox("office", "public_notice")} - {"office"}
    rungs = {"deadline_approaching", "deadline_missed", "sign_reminder", "public_notice"}
    eventually(lambda: rungs <= {m["kind"] for m in inbox(f"{named}:contact")}, timeout=30)
    eventually(lambda: inbox(f"{named}:head", "supervision_order"), timeout=30)


def test_not_found_and_usage_errors_have_their_exit_codes(platform: Stack) -> None:
    assert fivetype(platform, "scorecard", "nosuch", "--period", "2026").exit_code == 4
    assert fivetype(platform, "scorecard", UNIT, "--period", "2026-13").exit_code == 2
    ranking = fivetype(platform, "ranking", "--period", "2026-01", "--group", "county")
    assert ranking.exit_code == 0 and "县区" in ranking.output
    gone = f"http://127.0.0.1:{free_port()}"
    assert fivetype(platform, "ranking", FIVETYPE_SCORING_URL=gone).exit_code == 3


def test_emit_reports_acceptance_and_rejection(platform: Stack) -> None:
    assignment = {
        "assignment_id": f"cli-2026-M07-{UNIT}",
        "year": 2026,
        "measure_code": "M07",
        "lead_unit": UNIT,
        "start_on": "2026-01-01",
        "created_by": "office",
        "milestones": [{"milestone_id": "m1", "title": "网上可办率98%", "due_date": "2026-12-31"}],
    }
    created = httpx.post(
        f"{platform.service('measures').url}/v1/assignments",
        json=assignment,
        headers=auth.headers(),
    )
    assert created.status_code in (200, 201), created.text
    # The platform follows the demo clock, which stands at the programme's first morning until
    # the demo plays, and has moved on if it has: a report of that morning is never in its future.
    report = (
        "emit",
        "progress",
        UNIT,
        "--percent",
        "40",
        "--reported-at",
        programme_start(2026).isoformat(),
    )
    accepted = fivetype(platform, *report, "--measure", "M07")
    assert accepted.exit_code == 0, accepted.output
    assert "已受理" in accepted.output
    rejected = fivetype(platform, *report, "--measure", "M99")
    assert rejected.exit_code == 1 and "unknown_measure" in rejected.output
    invalid = fivetype(platform, "emit", "progress", UNIT, "--measure", "M07", "--percent", "130")
    assert invalid.exit_code == 2
    gone = f"nats://127.0.0.1:{free_port()}"
    assert fivetype(platform, *report, "--measure", "M07", NATS_URL=gone).exit_code == 3


def test_rebuild_replays_into_a_fresh_store_only(platform: Stack, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    first = fivetype(platform, "rebuild", "--database-url", target)
    assert first.exit_code == 0, first.output
    assert "rebuilt" in first.output
    again = fivetype(platform, "rebuild", "--database-url", target)
    assert again.exit_code == 1 and "已拒绝" in again.output and "已有计分数据" in again.output


def test_dead_letters_lists_none_on_a_healthy_platform(platform: Stack) -> None:
    result = fivetype(platform, "dead-letters", "list", "--json")
    assert result.exit_code == 0 and result.output.strip() == ""


def test_assignments_export_and_import_through_a_spreadsheet(
    platform: Stack, tmp_path: Path
) -> None:
    unit = "dept-fgw"
    assignment = {
        "assignment_id": f"sheet-2026-M12-{unit}",
        "year": 2026,
        "measure_code": "M12",
        "lead_unit": unit,
        "co_units": ["dept-kjj"],
        "start_on": "2026-01-01",
        "created_by": "office",
        "milestones": [
            {"milestone_id": "m1", "title": "方案", "due_date": "2026-06-30", "unit": "dept-kjj"},
            {"milestone_id": "m2", "title": "验收", "due_date": "2026-12-31"},
        ],
    }
    created = httpx.post(
        f"{platform.service('measures').url}/v1/assignments",
        json=assignment,
        headers=auth.headers(),
    )
    assert created.status_code in (200, 201), created.text
    for suffix in ("csv", "xlsx"):
        exported = tmp_path / f"assignments.{suffix}"
        result = fivetype(platform, "assignments", "export", str(exported), "--unit", unit)
        assert result.exit_code == 0, result.output
        assert exported.stat().st_size > 0
    sheet = tmp_path / "assignments.csv"
    rows = list(csv.DictReader(sheet.read_text(encoding="utf-8-sig").splitlines()))
    mine_rows = [r for r in rows if r["交办任务编号"] == f"sheet-2026-M12-{unit}"]
    assert [r["限办日期"] for r in mine_rows] == ["2026年6月30日", "2026年12月31日"]
    assert {(r["牵头单位代码"], r["牵头单位"], r["协办单位代码"]) for r in mine_rows} == {
        (unit, "市发展改革委", "dept-kjj")
    }
    assert mine_rows[0]["举措名称"] == "大力推动营商环境优化升级"
    # Another office's copy: the same plan under a new id is created, then found unchanged.
    header, *lines = sheet.read_text(encoding="utf-8-sig").splitlines()
    mine = [line for line in lines if line.startswith(f"sheet-2026-M12-{unit},")]
    only_copy = tmp_path / "copy.csv"
    copied_rows = [line.replace("sheet-2026", "copy-2026", 1) for line in mine]
    only_copy.write_text("\n".join([header, *copied_rows]), encoding="utf-8")
    first = fivetype(platform, "assignments", "import", str(only_copy))
    assert first.exit_code == 0 and "新建 1 项" in first.output, first.output
    again = fivetype(platform, "assignments", "import", str(only_copy), "--lang", "en")
    assert again.exit_code == 0 and "1 unchanged" in again.output, again.output
    copied = httpx.get(
        f"{platform.service('measures').url}/v1/assignments/copy-2026-M12-{unit}",
        headers=auth.headers(),
    )
    assert [m["unit"] for m in copied.json()["milestones"]] == ["dept-kjj", unit]
    text_file = tmp_path / "assignments.txt"
    text_file.write_text(header, encoding="utf-8")
    assert fivetype(platform, "assignments", "import", str(text_file)).exit_code == 2


def test_results_of_an_unpublished_period_have_no_documents(
    platform: Stack, tmp_path: Path
) -> None:
    shown = fivetype(platform, "results", "show", "2026-01", "--json")
    assert shown.exit_code == 0, shown.output
    assert (json.loads(shown.output)["stage"], json.loads(shown.output)["current"]) == ("open", [])
    told = fivetype(platform, "results", "show", "2026-01")
    assert (told.exit_code, told.output.strip()) == (0, "2026年1月：未发布，尚无结果")
    target = tmp_path / "results.xlsx"
    workbook = fivetype(platform, "results", "workbook", "2026-01", "-o", str(target))
    assert workbook.exit_code == 4 and "no_results" in workbook.output
    assert not target.exists()
