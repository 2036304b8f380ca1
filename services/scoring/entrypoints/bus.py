from contracts import streams, subjects
from contracts.measures import ProgressReported
from services.runtime.bus import Bus
from services.scoring import handlers

PROGRESS_CONSUMER = "scoring-progress"


def register(bus: Bus) -> None:
    bus.consume(
        ProgressReported,
        subjects.event(ProgressReported.NAME),
        streams.EVENTS,
        PROGRESS_CONSUMER,
        handlers.record_progress,
    )
