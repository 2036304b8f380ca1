"""When the deadline watcher looks at a milestone, and what it then says: a reminder at each
configured offset before the due date (DeadlineApproaching) and, once the due date has passed
while the milestone is open, DeadlineMissed. Pure; dates are local to the programme.

Each milestone carries the date of its next alert, so a sweep reads only the milestones whose
alert is due (an index range scan) however many milestones are open. After a pause, a sweep sends
only the nearest reminder that was crossed (a stale "7 days left" helps nobody) or, past the due
date, only DeadlineMissed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Remind:
    offset_days: int
    days_left: int


@dataclass(frozen=True)
class Miss:
    pass


Alert = Remind | Miss


def _pending(offsets: Sequence[int], reminded: int | None) -> list[int]:
    return [o for o in offsets if reminded is None or o < reminded]


def next_alert_on(due: date, offsets: Sequence[int], reminded: int | None) -> date:
    """The first day on which the watcher has something to say about an open milestone."""
    reminders = [due - timedelta(days=o) for o in _pending(offsets, reminded)]
    return min([*reminders, due + timedelta(days=1)])


def alert(
    due: date, today: date, offsets: Sequence[int], reminded: int | None
) -> tuple[Alert | None, date | None, int | None]:
    """What to say today, the next alert date (None: nothing more) and the offset now reminded."""
    if today > due:
        return Miss(), None, reminded
    crossed = [o for o in _pending(offsets, reminded) if due - timedelta(days=o) <= today]
    if not crossed:  # the offsets were reconfigured since the alert date was set
        return None, next_alert_on(due, offsets, reminded), reminded
    offset = min(crossed)
    return Remind(offset, (due - today).days), next_alert_on(due, offsets, offset), offset
