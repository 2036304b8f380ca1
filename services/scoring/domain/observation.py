"""An observation: one thing a rubric can count, derived from a unit's facts, with the item it
concerns in words a unit's staff can check."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from contracts.inspections import FiveType
from services.scoring.domain.cards import ItemRef
from services.scoring.domain.reference import Reference

FIVE_TYPES: tuple[str, ...] = tuple(t.value for t in FiveType)


@dataclass(frozen=True, slots=True)
class Observation:
    input: str
    day: date
    measure_type: str | None
    attrs: Mapping[str, str]  # attribute values as strings ("true"/"false" for flags)
    numbers: Mapping[str, int]
    events: tuple[str, ...]
    item: ItemRef | None = None
    completed_on: date | None = None  # tasks: the day the unit completed it
    credit: Decimal | None = None  # targets: the degree to which the value met the target
    # A note for the card's item, kept apart so the observations of one item share its object
    # (an open finding gives one a month: a copy of the item each was most of their memory).
    note_zh: str | None = None

    def line_item(self, **update: Any) -> ItemRef | None:
        """The item as a card lists it, with `update` (its points)."""
        if self.item is None:
            return None
        if self.note_zh is not None:
            update = {"note_zh": self.note_zh, **update}
        return self.item.model_copy(update=update)


def flag(value: object) -> str:
    return "true" if value else "false"


class Typing:
    """A measure's type: the event's own if it names one of the five, else the catalogue's."""

    def __init__(self, reference: Reference):
        self.reference = reference
        self.catalogues = reference.catalogues  # what typing reads beyond a fact

    def __call__(self, data: Mapping[str, Any], day: date) -> str | None:
        own = data.get("measure_type")
        if own in FIVE_TYPES:
            return str(own)
        found = self.reference.type_of(day.year, data.get("measure_code"))
        return found if found in FIVE_TYPES else None

    def item(
        self, kind: str, ident: str, data: Mapping[str, Any], day: date, **extra: Any
    ) -> ItemRef:
        """The item behind an observation, named as the unit knows it."""
        code = data.get("measure_code")
        due = data.get("due_date")
        return ItemRef(
            kind=kind,
            id=ident,
            measure_code=code,
            measure_name=self.reference.measure_name(day.year, code),
            title=data.get("title"),
            due_date=date.fromisoformat(due) if isinstance(due, str) else due,
            **extra,
        )
