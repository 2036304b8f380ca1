"""Hostile input on every consumer of every service: hypothesis publishes malformed JSON, wrong
types, unknown versions, schema violations, oversized messages and messages for another unit
on each subject the running platform consumes. Every one must be dead-lettered (or, on an
intake subject, answered with a rejection) with the reason it deserves, no service may crash,
and a valid message published after them must still be processed.

The consumers are read from JetStream once the services have started, so a consumer added to
any service is fuzzed without touching this file."""

import asyncio
import itertools
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from polyfactory.factories.pydantic_factory import ModelFactory
from pydantic import ValidationError

from contracts import streams, subjects
from contracts.envelope import ContractError, Envelope, Message, decode, wrap
from contracts.reasons import Reason
from contracts.registry import MESSAGES
from services.runtime.settings import ServiceSettings
from tests.conftest import eventually_async
from tests.security.conftest import FUZZ_SCALE, SecurePlatform

EXAMPLES_PER_SUBJECT = round(20 * FUZZ_SCALE)
MAX_BYTES = ServiceSettings.model_fields["max_message_bytes"].default
SAMPLES_PER_MODEL = 3
_fresh_units = (f"fz{n}" for n in itertools.count())

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)


def _is_object(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


def valid_samples(model: type[Message]) -> list[dict[str, Any]]:
    """Envelopes of `model` that our own decoder accepts, built by polyfactory from the model's
    constraints (seeded, so every run fuzzes the same ones)."""
    factory = ModelFactory.create_factory(model)
    samples: list[dict[str, Any]] = []
    for seed in itertools.count():
        factory.seed_random(seed)
        try:
            data = factory.build()
        except ValidationError:
            continue  # a date outside the contract's years, which polyfactory cannot be told
        envelope = wrap(data, subject=getattr(data, "unit", "360102"), source="fuzz")
        try:
            decode(envelope.to_json(), model, arrived_on=envelope.subject)
        except ContractError:
            continue  # a cross-field rule the model's constraints do not express
        samples.append(envelope.model_dump(mode="json", exclude_none=True))
        if len(samples) == SAMPLES_PER_MODEL:
            return samples
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Hostile:
    reason: Reason
    document: dict[str, Any] | None = None  # serialised at publication, with a fresh id
    raw: bytes = b""


def hostile(model: type[Message], samples: list[dict[str, Any]]) -> st.SearchStrategy[Hostile]:
    sample = st.sampled_from(samples)
    envelope_fields = set(Envelope.model_fields)
    data_fields = set(model.model_fields)

    def changed(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
        return {**document, **changes}

    malformed = st.one_of(
        st.binary(max_size=200).filter(lambda raw: not _is_object(raw)),
        st.builds(
            lambda doc, share: json.dumps(doc).encode()[: int(len(json.dumps(doc)) * share)],
            sample,
            st.floats(0, 0.99),
        ),
    ).map(lambda raw: Hostile(Reason.MALFORMED_JSON, raw=raw))
    wrong_type = st.builds(
        lambda doc, name: Hostile(Reason.UNKNOWN_TYPE, changed(doc, type=name)),
        sample,
        JSON_VALUES.filter(lambda value: value != model.NAME),
    )
    unknown_version = st.builds(
        lambda doc, version: Hostile(
            Reason.UNSUPPORTED_VERSION, changed(doc, schemaversion=version)
        ),
        sample,
        JSON_VALUES.filter(lambda value: value != model.VERSION),
    )
    schema = st.one_of(
        st.builds(
            lambda doc, key, value: changed(doc, data={**doc["data"], key: value}),
            sample,
            st.text(min_size=1).filter(lambda key: key not in data_fields),
            JSON_VALUES,
        ),
        st.builds(
            lambda doc, key, value: changed(doc, **{key: value}),
            sample,
            st.text(min_size=1).filter(lambda key: key not in envelope_fields),
            JSON_VALUES,
        ),
        st.builds(
            lambda doc, value: changed(doc, data=value),
            sample,
            JSON_VALUES.filter(lambda value: not isinstance(value, dict)),
        ),
        st.builds(
            lambda doc, key: {k: v for k, v in doc.items() if k != key},
            sample,
            st.sampled_from(["time", "source", "subject", "data"]),
        ),
    ).map(lambda doc: Hostile(Reason.SCHEMA_VIOLATION, doc))
    oversized = st.builds(
        lambda doc, extra: Hostile(
            Reason.OVERSIZED, changed(doc, padding="x" * (MAX_BYTES + extra))
        ),
        sample,
        st.integers(0, 64 * 1024),
    )
    # The fresh unit of the subject it is published on is never the sample's unit.
    other_unit = sample.map(lambda doc: Hostile(Reason.UNIT_MISMATCH, doc))
    return st.one_of(malformed, wrong_type, unknown_version, schema, oversized, other_unit)


@dataclass
class Outcomes:
    """What the services said about each subject: dead letters and rejections, as they come."""

    dead: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    rejected: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    async def on_dead_letter(self, message: Msg) -> None:
        headers = message.headers or {}
        self.dead[headers["Fivetype-Original-Subject"]].append(
            (headers["Fivetype-Consumer"], headers["Fivetype-Reason"])
        )

    async def on_rejection(self, message: Msg) -> None:
        self.rejected[subjects.unit_of(message.subject)].append(
            json.loads(message.data)["data"]["reason"]
        )

    def settled(self, subject: str, durables: list[str], reason: Reason) -> bool:
        """Every consumer dead-lettered the message with `reason`, or answered it so."""
        if reason.value in self.rejected[subjects.unit_of(subject)]:
            return True
        return sorted(self.dead[subject]) == sorted((d, reason.value) for d in durables)


@dataclass
class Fuzzer:
    platform: SecurePlatform
    operator: Client
    outcomes: Outcomes
    runner: asyncio.Runner

    @property
    def js(self) -> JetStreamContext:
        return self.operator.jetstream()

    async def deliver(self, template: str, durables: list[str], message: Hostile) -> None:
        subject = template.replace("*", next(_fresh_units))
        raw = message.raw
        if message.document is not None:
            raw = json.dumps({**message.document, "id": subject}).encode()
        await self.js.publish(subject, raw)

        async def settled() -> bool:
            return self.outcomes.settled(subject, durables, message.reason)

        try:
            await eventually_async(settled, within=10)
        except TimeoutError as exc:
            seen = self.outcomes.dead[subject], self.outcomes.rejected[subjects.unit_of(subject)]
            raise AssertionError(f"{subject}: expected {message.reason}, saw {seen}") from exc

    async def processed(self, template: str, durables: list[str], document: dict[str, Any]) -> None:
        """A valid message after the hostile ones is processed by every consumer."""
        subject = template.replace("*", document["subject"])
        ack = await self.js.publish(subject, json.dumps(document).encode())

        async def done() -> bool:
            for durable in durables:
                info = await self.js.consumer_info(ack.stream, durable)
                if (info.ack_floor.stream_seq if info.ack_floor else 0) < ack.seq:
                    return False
            return True

        await eventually_async(done, within=20)

    async def ready(self) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            for service in self.platform.stack.services:
                assert not service.exited(), f"{service.name} crashed; see {service.log_file}"
                assert (await client.get(f"{service.url}/readyz")).status_code == 200


@pytest.fixture(scope="module")
def fuzzer(secure_platform: SecurePlatform) -> Iterator[Fuzzer]:
    with asyncio.Runner() as runner:

        async def connect() -> Fuzzer:
            operator = await secure_platform.nats.as_operator()
            outcomes = Outcomes()
            await operator.subscribe(subjects.dead_letter(">"), cb=outcomes.on_dead_letter)
            await operator.subscribe(subjects.rejection("*"), cb=outcomes.on_rejection)
            return Fuzzer(secure_platform, operator, outcomes, runner)

        fuzzer = runner.run(connect())
        yield fuzzer
        runner.run(fuzzer.operator.close())


def consumed_subjects(fuzzer: Fuzzer) -> dict[str, list[str]]:
    """Each subject the services consume, with the durable consumers reading it."""

    async def read() -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for stream in (streams.INTAKE, streams.EVENTS):
            for info in await fuzzer.js.consumers_info(stream.name):
                found[info.config.filter_subject or ""].append(info.name)
        return found

    return fuzzer.runner.run(read())


def test_every_consumer_survives_hostile_messages(fuzzer: Fuzzer) -> None:
    models = {spec.subject("*"): spec.model for spec in MESSAGES}
    consumed = consumed_subjects(fuzzer)
    durables = {durable for names in consumed.values() for durable in names}
    # Discovery found every service's consumers, the two intake doors among them.
    assert {"measures-intake", "inspections-public-requests"} <= durables
    assert {d.split("-")[0] for d in durables} == {s.name for s in fuzzer.platform.stack.services}
    for template, names in sorted(consumed.items()):
        model = models[template]
        samples = valid_samples(model)

        @settings(
            max_examples=EXAMPLES_PER_SUBJECT,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(message=hostile(model, samples))
        def survives(message: Hostile) -> None:
            fuzzer.runner.run(fuzzer.deliver(template, names, message))  # noqa: B023

        survives()
        fuzzer.runner.run(fuzzer.processed(template, names, samples[0]))
        fuzzer.runner.run(fuzzer.ready())
