"""Every message on the bus: the table the exported schemas and the AsyncAPI document are
generated from. Each service's messages live in its own module; add its SPECS here."""

from contracts import inspections, measures, notifications, scoring
from contracts.envelope import Message
from contracts.spec import MessageSpec

MESSAGES: tuple[MessageSpec, ...] = (
    *measures.SPECS,
    *inspections.SPECS,
    *scoring.SPECS,
    *notifications.SPECS,
)


def spec_of(model: type[Message]) -> MessageSpec:
    return next(spec for spec in MESSAGES if spec.model is model)
