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
# Every item listed on a card is given all its fields: one set of their names serves them all
# (a set of its own was half of each item's memory on a card). Frozen items never add to it.
_ALL_ITEM_FIELDS = set(ItemRef.model_fields)


@dataclass(frozen=True, slots=True)
class Item:
    """The item behind an observation. A card lists it as an `ItemRef` with its points or credit,
    built only then: a pydantic model per observation was a third of a unit-year's memory."""

    kind: str
    id: str
    measure_code: str | None = None
    measure_name: str | None = None
    title: str | None = None
    due_date: date | None = None
    outcome: str | None = None
    days_late: int | None = None
    credit: Decimal | None = None
    note_zh: str | None = None

    def ref(self, **update: Any) -> ItemRef:
        """As a card lists it, with `update` (its points, its credit). The fields are ItemRef's
        own, already of their types: nothing to validate again."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        return ItemRef.model_construct(_ALL_ITEM_FIELDS, **{**fields, **update})


@dataclass(frozen=True, slots=True)
class Observation:
    input: str
    day: date
    measure_type: str | None
    attrs: Mapping[str, str]  # attribute values as strings ("true"/"false" for flags)
    numbers: Mapping[str, int]
    events: tuple[str, ...]
    item: Item | None = None
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
        return self.item.ref(**update)


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

    def item(self, kind: str, ident: str, data: Mapping[str, Any], day: date, **extra: Any) -> Item:
        """The item behind an observation, named as the unit knows it."""
        code = data.get("measure_code")
        due = data.get("due_date")
        return Item(
            kind=kind,
            id=ident,
            measure_code=code,
            measure_name=self.reference.measure_name(day.year, code),
            title=data.get("title"),
            due_date=date.fromisoformat(due) if isinstance(due, str) else due,
            **extra,
        )
