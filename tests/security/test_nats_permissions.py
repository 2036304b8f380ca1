"""On a nats-server running the generated config, every client can do exactly what
contracts/permissions.py grants: a unit sends only its own commands and hears only its own
replies and rejections; a service publishes only its own messages; strangers get nothing."""

import contextlib
import json
import os
from pathlib import Path

import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from typer.testing import CliRunner

from contracts import permissions, streams, subjects
from contracts.inspections import PublicChannel
from fivetype import exits, natsauth, state
from fivetype.cli import app
from fivetype.ports import free_port
from fivetype.stack import Stack
from services.measures.domain.catalogue import load_units
from services.runtime.bus import declared_consumers
from services.runtime.settings import nats_auth
from tests import auth
from tests.conftest import SecureNats, eventually_async
from tests.e2e.test_progress_flow import assign_m07, command
from tests.security.conftest import CHANNEL, UNIT_A, UNIT_B, SecurePlatform
from tests.security.test_audit import entries

REJECTIONS = streams.REJECTIONS.name


async def refused(secure: SecureNats, action: str, subject: str) -> None:
    """The server told the client it may not `action` ("publish", "subscription") `subject`."""
    expected = f'permissions violation for {action} to "{subject}"'.lower()

    async def heard() -> bool:
        return any(expected in violation.lower() for violation in secure.violations)

    await eventually_async(heard, within=5)


async def stored(operator: Client, subject: str, stream: str) -> list[bytes]:
    """Every message `stream` holds on `subject`, read by the operator."""
    info = await operator.jetstream().stream_info(stream, subjects_filter=subject)
    total = sum((info.state.subjects or {}).values())
    if not total:
        return []
    reader = await operator.jetstream().subscribe(
        subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    try:
        return [(await reader.next_msg(timeout=5)).data for _ in range(total)]
    finally:
        await reader.unsubscribe()


async def test_a_unit_publishes_only_its_own_commands(secure_platform: SecurePlatform) -> None:
    secure = secure_platform.nats
    unit, operator = await secure.as_unit(UNIT_A), await secure.as_operator()
    forged = command(UNIT_B, "forged")
    try:
        forbidden = [
            (subjects.intake("ReportProgress", UNIT_B), streams.INTAKE.name),  # another unit
            (subjects.intake("ReportPublicRequest", UNIT_A), streams.INTAKE.name),  # a channel's
            (subjects.event("ProgressReported", UNIT_A), streams.EVENTS.name),  # a service's fact
            (subjects.rejection(UNIT_B), streams.REJECTIONS.name),
            (subjects.dead_letter("measures-intake"), streams.DEAD_LETTERS.name),
            (f"{permissions.JS_API}.STREAM.DELETE.{streams.INTAKE.name}", None),
        ]
        for subject, _ in forbidden:
            await unit.publish(subject, json.dumps(forged).encode())
            await refused(secure, "publish", subject)
        # Other tests share the platform and store messages on these subjects: none is ours.
        for subject, stream in forbidden:
            if stream is not None:
                held = await stored(operator, subject, stream)
                assert not [body for body in held if forged["id"].encode() in body], subject
        own = await unit.jetstream().publish(
            subjects.intake("ReportProgress", UNIT_A),
            json.dumps(command(UNIT_A, "own-1")).encode(),
        )
        assert own.stream == streams.INTAKE.name
    finally:
        await unit.close()
        await operator.close()


async def test_a_unit_hears_only_its_own_replies_and_rejections(
    secure_platform: SecurePlatform,
) -> None:
    secure = secure_platform.nats
    unit = await secure.as_unit(UNIT_A)
    try:
        for subject in (
            subjects.rejection(UNIT_B),
            subjects.rejection("*"),
            f"{permissions.unit_inbox(UNIT_B)}.>",
            f"{subjects.EVENTS}.>",
            f"{subjects.INTAKE}.>",
            ">",
        ):
            await unit.subscribe(subject)
            await refused(secure, "subscription", subject)
        js = unit.jetstream()
        with pytest.raises((nats.errors.TimeoutError, nats.js.errors.Error)):
            await js.pull_subscribe(
                subjects.rejection(UNIT_B),
                durable=UNIT_B,
                stream=REJECTIONS,
                config=ConsumerConfig(name=UNIT_B, durable_name=UNIT_B),
            )

        bad = command(UNIT_A, "bad-1")
        bad["data"]["percent_complete"] = 140
        await js.publish(subjects.intake("ReportProgress", UNIT_A), json.dumps(bad).encode())
        mine = await js.pull_subscribe(
            subjects.rejection(UNIT_A),
            durable=UNIT_A,
            stream=REJECTIONS,
            config=ConsumerConfig(name=UNIT_A, durable_name=UNIT_A),
        )
        # The durable reads the unit's rejections from the start: other tests on the shared
        # platform leave theirs there too, some without a reference (an unreadable command).
        answers = []
        while not any(a["data"].get("reference") == "bad-1" for a in answers):
            for message in await mine.fetch(1, timeout=10):
                answers.append(json.loads(message.data))
                await message.ack()
        assert answers[-1]["data"]["reason"] == "schema_violation"
        assert {a["data"]["unit"] for a in answers} == {UNIT_A}
    finally:
        await unit.close()


async def test_a_units_report_over_nats_is_accepted_by_measures(
    secure_platform: SecurePlatform,
) -> None:
    """The measures service consumes, stores and publishes with only its own credentials, and
    journals the report in its audit trail as it would one received over HTTP."""
    stack = secure_platform.stack
    assign_m07(stack, UNIT_A)
    unit = await secure_platform.nats.as_unit(UNIT_A)
    sent = command(UNIT_A, "nats-1", percent_complete=70)
    try:
        await unit.jetstream().publish(
            subjects.intake("ReportProgress", UNIT_A), json.dumps(sent).encode()
        )
    finally:
        await unit.close()
    url = f"{stack.service('measures').url}/v1/units/{UNIT_A}/progress-reports/nats-1"

    async def accepted() -> bool:
        async with httpx.AsyncClient(headers=auth.headers()) as client:
            return (await client.get(url)).status_code == 200

    await eventually_async(accepted)
    async with httpx.AsyncClient(headers=auth.headers()) as client:
        assert (await client.get(url)).json()["received_via"] == "nats"
        scoring = stack.service("scoring").url
        card = await client.get(f"{scoring}/v1/units/{UNIT_A}/progress")
    assert card.status_code == 200
    journal = entries(stack.service("measures").env["FIVETYPE_MEASURES_DATABASE_URL"])
    (entry,) = [e for e in journal if sent["id"] in json.dumps(e["details"])]
    assert (entry["actor"], entry["role"], entry["source"]) == (
        f"unit/{UNIT_A}",
        "unit_system",
        "nats",
    )


async def test_a_channel_sends_public_requests_for_any_unit_and_nothing_else(
    secure_platform: SecurePlatform,
) -> None:
    secure = secure_platform.nats
    channel = await secure.as_channel(CHANNEL)
    try:
        for unit in (UNIT_A, UNIT_B):
            ack = await channel.jetstream().publish(
                subjects.intake("ReportPublicRequest", unit), b"{}"
            )
            assert ack.stream == streams.INTAKE.name
        await channel.publish(subjects.intake("ReportProgress", UNIT_A), b"{}")
        await refused(secure, "publish", subjects.intake("ReportProgress", UNIT_A))
        await channel.subscribe(subjects.rejection(UNIT_A))
        await refused(secure, "subscription", subjects.rejection(UNIT_A))
    finally:
        await channel.close()


@pytest.mark.parametrize(
    ("service", "subject"),
    [
        ("scoring", subjects.event("ProgressReported", UNIT_A)),  # measures' fact
        ("notifications", subjects.intake("ReportProgress", UNIT_A)),  # a unit's command
        ("inspections", subjects.event("ScoreUpdated", UNIT_A)),  # scoring's fact
        ("measures", f"{permissions.JS_API}.STREAM.DELETE.{streams.EVENTS.name}"),
    ],
)
async def test_a_service_publishes_only_its_own_messages(
    secure_platform: SecurePlatform, service: str, subject: str
) -> None:
    secure = secure_platform.nats
    client = await secure.as_service(service)
    try:
        await client.publish(subject, b"{}")
        await refused(secure, "publish", subject)
        await client.subscribe(subjects.rejection(UNIT_A))
        await refused(secure, "subscription", subjects.rejection(UNIT_A))
    finally:
        await client.close()


def cross_service_actions(service: str) -> list[str]:
    """Every consumer action on every other service's durables, every stream change, another
    service's checkpoint and the removal of checkpoints: all must be refused to `service`."""
    actions = []
    for other in permissions.SERVICES:
        if other == service:
            continue
        for durable in declared_consumers(other):
            stream, name = durable.stream, durable.name
            actions += [
                f"{permissions.JS_API}.CONSUMER.MSG.NEXT.{stream}.{name}",
                f"$JS.ACK.{stream}.{name}.1.1.1.1.1.0",
                f"{permissions.JS_API}.CONSUMER.INFO.{stream}.{name}",
                f"{permissions.JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{name}",
                f"{permissions.JS_API}.CONSUMER.CREATE.{stream}.{name}.{durable.subject}",
                f"{permissions.JS_API}.CONSUMER.DELETE.{stream}.{name}",
                f"{permissions.JS_API}.CONSUMER.CREATE.{stream}.{durable.catch_up}.{durable.subject}",
                f"{permissions.JS_API}.CONSUMER.MSG.NEXT.{stream}.{durable.catch_up}",
                f"{permissions.JS_API}.CONSUMER.DELETE.{stream}.{durable.catch_up}",
            ]
        actions.append(subjects.audit_checkpoint(other))
    for spec in streams.ALL:
        actions += [
            f"{permissions.JS_API}.STREAM.UPDATE.{spec.name}",
            f"{permissions.JS_API}.CONSUMER.CREATE.{spec.name}",  # an ad-hoc consumer
            f"{permissions.JS_API}.CONSUMER.CREATE.{spec.name}.{service}-extra.>",
        ]
    actions += [
        f"{permissions.JS_API}.STREAM.PURGE.{streams.AUDIT.name}",
        f"{permissions.JS_API}.STREAM.MSG.DELETE.{streams.AUDIT.name}",
    ]
    return actions


@pytest.mark.parametrize("service", permissions.SERVICES)
async def test_a_service_reaches_no_other_services_consumers_and_changes_no_stream(
    secure_platform: SecurePlatform, service: str
) -> None:
    secure = secure_platform.nats
    client = await secure.as_service(service)
    try:
        actions = cross_service_actions(service)
        for subject in actions:
            await client.publish(subject, b"{}")
        expected = {f'permissions violation for publish to "{s}"'.lower() for s in actions}

        async def all_refused() -> bool:
            heard = {v.lower().removeprefix("nats: ") for v in secure.violations}
            return expected <= heard

        await eventually_async(all_refused, within=10)
        # Its own consumers answer it (the services' own work is covered by the flows above).
        (own, *_) = declared_consumers(service)
        info = await client.jetstream().consumer_info(own.stream, own.name)
        assert info.name == own.name
    finally:
        await client.close()


async def test_a_service_replays_through_its_own_catch_up_consumer(
    secure_platform: SecurePlatform,
) -> None:
    """What a store restored from a backup does at start (runtime.catchup): create the catch-up
    consumer of one of its durables on the durable's filter, pull, inspect and delete it."""
    secure = secure_platform.nats
    client = await secure.as_service("scoring")
    before = len(secure.violations)
    try:
        js = client.jetstream()
        (durable, *_) = declared_consumers("scoring")
        config = ConsumerConfig(
            name=durable.catch_up,
            filter_subject=durable.subject,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=1,
            ack_policy=AckPolicy.EXPLICIT,
            inactive_threshold=60.0,
        )
        await js.add_consumer(durable.stream, config)
        pull = await js.pull_subscribe_bind(consumer=durable.catch_up, stream=durable.stream)
        # nats-py raises its own TimeoutError or asyncio's when the window runs out.
        with contextlib.suppress(nats.errors.TimeoutError, TimeoutError):
            for message in await pull.fetch(10, timeout=1):
                await message.ack()
        info = await js.consumer_info(durable.stream, durable.catch_up)
        assert info.config.filter_subject == durable.subject
        assert await js.delete_consumer(durable.stream, durable.catch_up)
    finally:
        await client.close()
    assert secure.violations[before:] == []


async def test_strangers_are_refused(secure_platform: SecurePlatform, tmp_path: Path) -> None:
    secure = secure_platform.nats
    stranger = natsauth.unit_seed(tmp_path, UNIT_A)  # a valid nkey the server does not know
    natsauth.ensure_seed(stranger)
    for options in ({}, {"nkeys_seed": str(stranger)}):
        with pytest.raises(Exception, match=r"(?i)authorization"):
            await nats.connect(
                secure.url, allow_reconnect=False, max_reconnect_attempts=0, **options
            )


def test_the_dead_letters_command_uses_the_operators_nkey(
    secure_platform: SecurePlatform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secure, runner = secure_platform.nats, CliRunner()
    seed = natsauth.operator_seed(secure.credentials)
    command = ["dead-letters", "list", "--nats-url", secure.url]
    listed = runner.invoke(app, [*command, "--nkey-file", str(seed)])
    assert listed.exit_code == 0, listed.output
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, command).exit_code == exits.UNREACHABLE  # anonymous: refused
    # Beside a running embedded stack's data folder, its operator's seed is the default.
    running = state.StackState(os.getpid(), secure.url, {}, str(seed))
    (tmp_path / "data").mkdir()
    state.write(tmp_path / "data", running)
    assert runner.invoke(app, command).exit_code == 0


def test_seeds_are_private_and_the_server_config_holds_no_secret(
    secure_platform: SecurePlatform,
) -> None:
    credentials = secure_platform.nats.credentials
    seeds = sorted(credentials.rglob("*.nk"))
    assert len(seeds) == 1 + len(permissions.SERVICES) + 2 + 1  # two units, one channel
    assert {oct(seed.stat().st_mode & 0o777) for seed in seeds} == {"0o600"}
    config = (credentials / natsauth.AUTH_CONF).read_text()
    assert all(seed.read_text().strip() not in config for seed in seeds)
    assert "max_payload: 2097152" in (credentials / natsauth.SERVER_CONF).read_text()


async def test_the_server_refuses_messages_over_its_payload_limit(
    secure_platform: SecurePlatform,
) -> None:
    """Up to the limit a message reaches the consumer (which dead-letters what exceeds its own,
    smaller limit: see test_hostile_messages); beyond it, the server never takes it."""
    unit = await secure_platform.nats.as_unit(UNIT_A)
    try:
        assert unit.max_payload == natsauth.MAX_PAYLOAD
        with pytest.raises(nats.errors.MaxPayloadError):
            await unit.publish(
                subjects.intake("ReportProgress", UNIT_A), b"x" * (natsauth.MAX_PAYLOAD + 1)
            )
    finally:
        await unit.close()


async def test_the_embedded_stack_authenticates_everyone(tmp_path: Path) -> None:
    """`fivetype run`: credentials for the operator, the services and every sample unit; the
    services are told where their seeds are; anonymous clients are turned away."""
    stack = Stack(tmp_path / "data", nats_port=free_port())
    assert stack.nats is not None and stack.credentials is not None
    stack.write_nats_config()
    stack.nats.start()
    try:
        for service in stack.services:
            seed = Path(
                stack.service(service.name).env[f"FIVETYPE_{service.name.upper()}_NATS_NKEY_FILE"]
            )
            assert seed == natsauth.service_seed(stack.credentials, service.name)
            connection = await nats.connect(stack.nats_url, **nats_auth(service.name, seed))
            await connection.close()
        units = [unit.code for unit in load_units().units]
        assert all(natsauth.unit_seed(stack.credentials, unit).exists() for unit in units)
        assert natsauth.channel_seed(stack.credentials, PublicChannel.HOTLINE_12345).exists()
        with pytest.raises(Exception, match=r"(?i)authorization"):
            await nats.connect(stack.nats_url, allow_reconnect=False, max_reconnect_attempts=0)
    finally:
        stack.nats.stop()
