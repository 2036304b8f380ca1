"""JetStream stream definitions. Replicas are chosen at provisioning time (1 embedded, 3 in a
cluster); everything else is part of the contract."""

from dataclasses import dataclass

from contracts import subjects

DAY = 24 * 3600


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_seconds: int  # 0 keeps messages forever
    duplicate_window_seconds: int
    max_msg_bytes: int = 1024 * 1024
    # Nobody may remove messages, not even with full JetStream rights short of a stream update.
    append_only: bool = False


INTAKE = StreamSpec(
    name="FIVETYPE_INTAKE",
    subjects=(f"{subjects.INTAKE}.>",),
    description="Commands from units' systems, e.g. progress reports.",
    max_age_seconds=30 * DAY,
    duplicate_window_seconds=600,
)
EVENTS = StreamSpec(
    name="FIVETYPE_EVENTS",
    subjects=(f"{subjects.EVENTS}.>",),
    description="Facts published by the services; kept for replay and rebuilds.",
    max_age_seconds=0,
    duplicate_window_seconds=600,
)
REJECTIONS = StreamSpec(
    name="FIVETYPE_REJECTIONS",
    subjects=(f"{subjects.REJECTIONS}.>",),
    description="Refused commands, one subject per unit, for the unit's system to read.",
    max_age_seconds=30 * DAY,
    duplicate_window_seconds=600,
)
DEAD_LETTERS = StreamSpec(
    name="FIVETYPE_DLQ",
    subjects=(f"{subjects.DEAD_LETTERS}.>",),
    description="Messages a consumer could not process, with the reason in headers.",
    max_age_seconds=90 * DAY,
    duplicate_window_seconds=120,
    max_msg_bytes=2 * 1024 * 1024,
)

AUDIT = StreamSpec(
    name="FIVETYPE_AUDIT",
    subjects=(f"{subjects.AUDIT}.>",),
    description="Checkpoints of each service's audit journal head, out of its database's reach.",
    max_age_seconds=0,
    duplicate_window_seconds=600,
    max_msg_bytes=4096,
    append_only=True,
)

ALL = (INTAKE, EVENTS, REJECTIONS, DEAD_LETTERS, AUDIT)
