"""Who may say and hear what on NATS, derived from the message registry and the streams.

A unit's system may publish only its own commands on its own intake subjects, and hear only its
own replies (its inbox prefix) and its own rejections; a public-request channel (the 12345
hotline, a mailbox) may publish its commands for any unit and hear only its replies; a service
may publish only the messages the registry names it the producer of, plus dead letters, and read
only the streams it consumes.
JetStream captures a core-NATS publish on an intake subject, so a unit needs no JetStream API
right to send; reading its rejections from the stream goes through one durable consumer named
after the unit, created on the filtered API subject, so the server itself checks the filter.
"""

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


def _consumed_by(spec: MessageSpec, service: str) -> bool:
    return any(consumer.split(" ")[0] == service for consumer in spec.consumers)


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


def _read_stream(name: str) -> tuple[str, ...]:
    """Durable and ephemeral pull consumers on one stream, and their acknowledgements."""
    return (
        f"{JS_API}.CONSUMER.CREATE.{name}",
        f"{JS_API}.CONSUMER.CREATE.{name}.>",
        f"{JS_API}.CONSUMER.DURABLE.CREATE.{name}.>",
        f"{JS_API}.CONSUMER.INFO.{name}.>",
        f"{JS_API}.CONSUMER.MSG.NEXT.{name}.>",
        f"$JS.ACK.{name}.>",
    )


def service(name: str) -> Permissions:
    """Every service provisions every stream and samples them all for its metrics."""
    produced = [spec for spec in MESSAGES if name in _producers(spec)]
    read = sorted({spec.stream.name for spec in MESSAGES if _consumed_by(spec, name)})
    return Permissions(
        publish=(
            *sorted({spec.subject("*") for spec in produced}),
            subjects.dead_letter(">"),
            *(
                f"{JS_API}.STREAM.{action}.{spec.name}"
                for spec in streams.ALL
                for action in ("INFO", "CREATE", "UPDATE")
            ),
            *(subject for stream in read for subject in _read_stream(stream)),
        ),
        subscribe=(f"{service_inbox(name)}.>",),
    )


# The operator (the `fivetype` command: dead letters, replays) may do anything.
OPERATOR = Permissions(publish=(">",), subscribe=(">",))
