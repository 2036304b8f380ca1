"""`fivetype emit`: publish a test command as a unit's system would, checked against the
contract first, and wait for the platform's answer: the fact it produced, or its rejection.
Exit code 0 accepted, 1 rejected or no answer in time, 2 not a valid command, 3 NATS
unreachable."""

import asyncio
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fivetype import exits, state
from fivetype.commands._nats import NatsUrl, NkeyFile, connection
from fivetype.commands._options import DATA_DIR, DataDir
from fivetype.lang import Lang, say

if TYPE_CHECKING:
    from nats.aio.client import Client

    from contracts.envelope import Envelope
    from contracts.measures import ReportProgress

app = typer.Typer(help="Publish a test command and wait for the answer.", no_args_is_help=True)


def _command(unit: str, fields: dict[str, Any]) -> "Envelope[ReportProgress]":
    from pydantic import ValidationError
    from rich.console import Console

    from contracts.envelope import wrap
    from contracts.measures import ReportProgress

    console = Console()
    try:
        report = ReportProgress.model_validate({"unit": unit, **fields})
    except ValidationError as exc:
        console.print(f"[red]not a valid ReportProgress:[/]\n{exc}", markup=True)
        raise typer.Exit(exits.USAGE) from exc
    return wrap(report, subject=unit, source=f"unit/{unit}")


async def _answer(nc: "Client", command: "Envelope[ReportProgress]", wait: float) -> dict[str, Any]:
    """Listen for the fact or the rejection from before publishing, so neither is missed."""
    from nats.errors import TimeoutError as NatsTimeout
    from nats.js.api import DeliverPolicy

    from contracts import subjects
    from contracts.envelope import fact_id
    from contracts.measures import ProgressReported, ReportProgress

    js = nc.jetstream()
    unit, report_id = command.data.unit, command.data.report_id
    reported = await js.subscribe(
        subjects.event(ProgressReported.NAME, unit),
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.NEW,
    )
    rejected = await js.subscribe(
        subjects.rejection(unit), ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    await js.publish(
        subjects.intake(ReportProgress.NAME, unit),
        command.to_json(),
        headers={"Nats-Msg-Id": command.id},
    )
    fact = fact_id(ProgressReported.NAME, unit, report_id)
    deadline = asyncio.get_running_loop().time() + wait
    while asyncio.get_running_loop().time() < deadline:
        for subscription in (reported, rejected):
            try:
                message = await subscription.next_msg(timeout=0.1)
            except NatsTimeout:
                continue
            body: dict[str, Any] = json.loads(message.data)
            if body["id"] == fact or body["data"].get("command_id") == command.id:
                return body
    return {}


@app.command()
def progress(
    unit: Annotated[str, typer.Argument(help="The reporting unit, e.g. 360102.")],
    measure: Annotated[str, typer.Option(help="Measure code, e.g. M07.")],
    percent: Annotated[float, typer.Option(help="Percent complete, 0-100.")],
    report_id: Annotated[str | None, typer.Option(help="Default: a new id.")] = None,
    assignment: Annotated[str | None, typer.Option(help="Assignment id.")] = None,
    milestone: Annotated[str | None, typer.Option(help="Milestone id.")] = None,
    summary: str = "测试进展报告 (test report from fivetype emit)",
    reporter: str = "fivetype emit",
    reported_at: Annotated[
        datetime | None, typer.Option(help="ISO time with offset; default now.")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 10.0,
    nats_url: NatsUrl = None,
    nkey_file: NkeyFile = None,
    data_dir: DataDir = DATA_DIR,
    lang: Lang = None,
) -> None:
    """Report progress over NATS intake, as a unit's system does."""
    assert lang is not None  # the option's callback chose one
    from rich.console import Console

    from contracts.envelope import new_id, utcnow
    from contracts.measures import ProgressReported

    console = Console()
    fields = {
        "report_id": report_id or f"emit-{new_id()[:8]}",
        "measure_code": measure,
        "assignment_id": assignment,
        "milestone_id": milestone,
        "percent_complete": percent,
        "summary": summary,
        "reported_at": (reported_at or utcnow()).isoformat(),
        "reporter": reporter,
    }
    command = _command(unit, fields)

    async def work() -> dict[str, Any]:
        async with connection(
            nats_url or state.nats_url(data_dir), nkey_file or state.operator_seed(data_dir)
        ) as nc:
            return await _answer(nc, command, wait)

    answer = asyncio.run(work())
    if not answer:
        console.print(
            "[red]"
            + say(
                lang,
                f"{wait:.0f} 秒内没有答复（举措服务是否在运行？）",
                f"no answer within {wait:.0f}s (is the measures service running?)",
            )
            + "[/]"
        )
        raise typer.Exit(exits.FAILURE)
    if answer["type"] == ProgressReported.NAME:
        said = say(lang, "已受理：报告", "accepted: report")
        console.print(f"{said} {fields['report_id']} → ProgressReported {answer['id']}")
        return
    data = answer["data"]
    message = say(lang, f"被拒：{data['reason']}：{data['message_zh']}", "")
    message = message or f"rejected: {data['reason']}: {data['message_en']}"
    console.print(f"[red]{message}[/]", markup=True)
    raise typer.Exit(exits.FAILURE)
