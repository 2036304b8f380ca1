"""Who may say and hear what on NATS, derived from the message registry and the streams.

A unit's system may publish only its own commands on its own intake subjects, and hear only its
own replies (its inbox prefix) and its own rejections; a public-request channel (the 12345
hotline, a mailbox) may publish its commands for any unit and hear only its replies; a service
may publish only the messages the registry names it the producer of, plus dead letters and its
audit checkpoints, and pull, acknowledge and inspect only the durable consumers it declares (its
`entrypoints/bus.py`): never another service's, so it can neither steal nor acknowledge their
messages. It may create a missing stream from the contract but never change one: provisioning
(`provision_streams`, stream updates) is the operator's, as are ad-hoc consumers (replays).
JetStream captures a core-NATS publish on an intake subject, so a unit needs no JetStream API
right to send; reading its rejections from the stream goes through one durable consumer named
after the unit, created on the filtered API subject, so the server itself checks the filter.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from contracts import streams, subjects
from contracts.registry import MESSAGES
from contracts.spec import MessageSpec

SERVICES = ("measures", "inspections", "scoring", "notifications")
UNIT_SYSTEMS = "unit systems"  # the registry's producers of the commands clients send
CHANNELS = "public-request channels"
JS_API = "$JS.API"


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def unit_inbox(unit: str) -> str:
    """The inbox prefix a unit's client must use (nats-py `inbox_prefix`)."""
    return f"_INBOX.unit.{unit}"


def channel_inbox(channel: str) -> str:
    return f"_INBOX.channel.{channel}"


def service_inbox(service: str) -> str:
    return f"_INBOX.svc.{service}"


def _producers(spec: MessageSpec) -> set[str]:
    return {name.strip() for name in spec.producer.split(",")}


def unit(code: str) -> Permissions:
    rejections = streams.REJECTIONS.name
    return Permissions(
        publish=(
            *(spec.subject(code) for spec in MESSAGES if UNIT_SYSTEMS in _producers(spec)),
            f"{JS_API}.CONSUMER.CREATE.{rejections}.{code}.{subjects.rejection(code)}",
            f"{JS_API}.CONSUMER.INFO.{rejections}.{code}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{rejections}.{code}",
            f"$JS.ACK.{rejections}.{code}.>",
        ),
        subscribe=(f"{unit_inbox(code)}.>", subjects.rejection(code)),
    )


def channel(name: str) -> Permissions:
    """A channel answers for requests about every unit; what it sends is checked per request."""
    return Permissions(
        publish=tuple(spec.subject("*") for spec in MESSAGES if CHANNELS in _producers(spec)),
        subscribe=(f"{channel_inbox(name)}.>",),
    )


@dataclass(frozen=True)
class Durable:
    """A durable pull consumer a service declares: the stream, its name, its filter subject."""

    stream: str
    name: str
    subject: str

    @property
    def catch_up(self) -> str:
        """The consumer a store behind this one replays the gap through (runtime.catchup)."""
        return catch_up_consumer(self.name)


def catch_up_consumer(durable: str) -> str:
    return f"{durable}-catch-up"


def _own_consumer(durable: Durable) -> tuple[str, ...]:
    """Create (both API forms nats-py uses), inspect, pull and acknowledge one named consumer;
    and its catch-up consumer, which may only be created on the same filter subject (the
    server checks the filter in the API subject) and is deleted after the replay."""
    stream, name, catch_up = durable.stream, durable.name, durable.catch_up
    return (
        f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{name}",
        f"{JS_API}.CONSUMER.CREATE.{stream}.{name}",
        f"{JS_API}.CONSUMER.CREATE.{stream}.{name}.{durable.subject}",
        f"{JS_API}.CONSUMER.INFO.{stream}.{name}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{name}",
        f"$JS.ACK.{stream}.{name}.>",
        f"{JS_API}.CONSUMER.CREATE.{stream}.{catch_up}.{durable.subject}",
        f"{JS_API}.CONSUMER.INFO.{stream}.{catch_up}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{catch_up}",
        f"{JS_API}.CONSUMER.DELETE.{stream}.{catch_up}",
        f"$JS.ACK.{stream}.{catch_up}.>",
    )


def service(name: str, durables: Iterable[Durable]) -> Permissions:
    """Every service may create a missing stream and read every stream's state (its metrics);
    its consumer rights are exactly those of `durables`."""
    produced = [spec for spec in MESSAGES if name in _producers(spec)]
    return Permissions(
        publish=(
            *sorted({spec.subject("*") for spec in produced}),
            subjects.dead_letter(">"),
            subjects.audit_checkpoint(name),
            f"{JS_API}.STREAM.MSG.GET.{streams.AUDIT.name}",
            *(
                f"{JS_API}.STREAM.{action}.{spec.name}"
                for spec in streams.ALL
                for action in ("INFO", "CREATE")
            ),
            *(subject for durable in durables for subject in _own_consumer(durable)),
        ),
        subscribe=(f"{service_inbox(name)}.>",),
    )


# The operator (the `fivetype` command: dead letters, replays) may do anything.
OPERATOR = Permissions(publish=(">",), subscribe=(">",))
