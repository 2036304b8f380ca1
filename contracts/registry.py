"""Every message on the bus, with its kind, subject and stream: the table the exported schemas and
the AsyncAPI document are generated from."""

from dataclasses import dataclass
from typing import Literal

from contracts import messages, streams, subjects
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


MESSAGES: tuple[MessageSpec, ...] = (
    MessageSpec(messages.ReportProgress, "command", "unit systems", ("measures",)),
    MessageSpec(messages.IntakeRejected, "rejection", "measures", ("unit systems",)),
    MessageSpec(messages.ProgressReported, "event", "measures", ("scoring", "notifications")),
    MessageSpec(messages.InspectionFiled, "event", "inspections", ("scoring", "notifications")),
    MessageSpec(messages.DeadlineMissed, "event", "measures", ("scoring", "notifications")),
)


def spec_of(model: type[Message]) -> MessageSpec:
    return next(spec for spec in MESSAGES if spec.model is model)
