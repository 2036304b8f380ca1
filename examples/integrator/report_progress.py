"""Report progress to the fivetype platform from a unit's own system, over NATS.

Standalone: it needs only nats-py and jsonschema (`pip install nats-py jsonschema`) and the
published contract files (contracts/schemas/*.json and contracts/asyncapi.yaml); it imports
nothing from the platform. It publishes a valid progress report on the unit's intake subject and
waits for the platform's fact (ProgressReported), then publishes an invalid one (150 %) and
prints the IntakeRejected the platform answers on the unit's rejection subject.

    python examples/integrator/report_progress.py --unit 360102 --measure M07 \\
        --nats-url nats://127.0.0.1:4222

Exit code 0 when the valid report was accepted and the invalid one rejected, 1 otherwise.
"""

import argparse
import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from jsonschema import Draft202012Validator, FormatChecker
from nats.js.api import DeliverPolicy

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def schema(message: str, contracts: Path) -> Draft202012Validator:
    document = json.loads((contracts / "schemas" / f"{message}.v1.json").read_text("utf-8"))
    return Draft202012Validator(document, format_checker=FormatChecker())


def address(message: str, contracts: Path) -> str:
    """The channel address of a message in asyncapi.yaml, e.g. fivetype.rejections.{unit}.
    A plain line scan of the generated file keeps this script free of a YAML library: each
    channel lists its `address:` before its `messages:`."""
    current = None
    for line in (contracts / "asyncapi.yaml").read_text("utf-8").splitlines():
        text = line.strip()
        if line.startswith("components:"):
            break
        if text.startswith("address:"):
            current = text.removeprefix("address:").strip()
        elif text == f"{message}:" and current is not None:
            return current
    raise LookupError(f"no channel for {message} in asyncapi.yaml")


def envelope(unit: str, report: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"unit/{unit}",
        "type": "ReportProgress",
        "schemaversion": 1,
        "time": datetime.now(UTC).isoformat(),
        "subject": unit,
        "data": report,
    }


def report(unit: str, measure: str, percent: float, reported_at: str) -> dict[str, Any]:
    return {
        "report_id": f"example-{uuid.uuid4().hex[:12]}",
        "unit": unit,
        "measure_code": measure,
        "percent_complete": percent,
        "summary": "政务服务事项网上可办率持续提升",
        "reported_at": reported_at,
        "reporter": "示例对接系统 (integrator example)",
    }


async def answer(subscriptions: list[Any], matches: Any, within: float) -> dict[str, Any] | None:
    """The first message on any subscription that `matches`, within `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        for subscription in subscriptions:
            try:
                message = await subscription.next_msg(timeout=0.1)
            except nats.errors.TimeoutError:
                continue
            body: dict[str, Any] = json.loads(message.data)
            if matches(body):
                return body
    return None


async def run(args: argparse.Namespace) -> int:
    contracts: Path = args.contracts
    command_schema = schema("ReportProgress", contracts)
    rejection_schema = schema("IntakeRejected", contracts)
    intake = address("ReportProgress", contracts).replace("{unit}", args.unit)
    rejections = address("IntakeRejected", contracts).replace("{unit}", args.unit)
    reported = address("ProgressReported", contracts).replace("{unit}", args.unit)
    reported_at = args.reported_at or datetime.now(UTC).isoformat()

    options: dict[str, Any] = {"connect_timeout": 5, "max_reconnect_attempts": 1}
    if args.creds:
        options["user_credentials"] = args.creds
    nc = await nats.connect(args.nats_url, **options)
    js = nc.jetstream()
    # Subscribe before publishing, from new messages on, so the answer cannot be missed.
    facts = await js.subscribe(reported, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)
    refusals = await js.subscribe(
        rejections, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    try:
        valid = envelope(args.unit, report(args.unit, args.measure, 62.5, reported_at))
        command_schema.validate(valid)  # raises if this script built it wrongly
        # Nats-Msg-Id makes a retried publish collapse in JetStream's duplicate window.
        await js.publish(intake, json.dumps(valid).encode(), headers={"Nats-Msg-Id": valid["id"]})
        report_id = valid["data"]["report_id"]
        fact = await answer(
            [facts, refusals],
            lambda body: (
                body["data"].get("report_id") == report_id
                or body["data"].get("command_id") == valid["id"]
            ),
            args.timeout,
        )
        accepted = fact is not None and fact["type"] == "ProgressReported"
        print(f"valid report {report_id}: {'accepted' if accepted else fact or 'no answer'}")

        invalid = envelope(args.unit, report(args.unit, args.measure, 150, reported_at))
        problems = [e.message for e in command_schema.iter_errors(invalid)]
        print(f"invalid report, as the schema says: {problems}")
        await js.publish(
            intake, json.dumps(invalid).encode(), headers={"Nats-Msg-Id": invalid["id"]}
        )
        rejection = await answer(
            [refusals], lambda body: body["data"].get("command_id") == invalid["id"], args.timeout
        )
        if rejection is None:
            print("invalid report: no rejection received")
            return 1
        rejection_schema.validate(rejection)
        data = rejection["data"]
        print(f"rejected: {data['reason']}: {data['message_zh']} / {data['message_en']}")
        for error in data.get("errors", []):
            print(f"  {error}")
        return 0 if accepted else 1
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--creds", help="NATS credentials file, if the server asks for one")
    parser.add_argument("--unit", default="360102", help="your unit code")
    parser.add_argument("--measure", default="M07", help="a measure assigned to your unit")
    parser.add_argument("--reported-at", help="ISO time with offset; default now")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for answers")
    parser.add_argument("--contracts", type=Path, default=CONTRACTS, help="the contract files")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
