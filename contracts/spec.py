"""How a message travels: its kind, subject, stream, producer and consumers."""

from dataclasses import dataclass
from typing import Literal

from contracts import streams, subjects
from contracts.envelope import Message
from contracts.streams import StreamSpec

Kind = Literal["command", "event", "rejection"]


@dataclass(frozen=True)
class MessageSpec:
    model: type[Message]
    kind: Kind
    producer: str
    consumers: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.model.NAME

    @property
    def stream(self) -> StreamSpec:
        return {
            "command": streams.INTAKE,
            "event": streams.EVENTS,
            "rejection": streams.REJECTIONS,
        }[self.kind]

    def subject(self, unit: str = "{unit}") -> str:
        if self.kind == "command":
            return subjects.intake(self.name, unit)
        if self.kind == "rejection":
            return subjects.rejection(unit)
        return subjects.event(self.name, unit)
