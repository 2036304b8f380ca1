from contracts import streams, subjects
from contracts.measures import ProgressReported
from services.notifications import handlers
from services.runtime.bus import Bus

PROGRESS_CONSUMER = "notifications-progress"


def register(bus: Bus) -> None:
    bus.consume(
        ProgressReported,
        subjects.event(ProgressReported.NAME),
        streams.EVENTS,
        PROGRESS_CONSUMER,
        handlers.notify_progress,
    )
