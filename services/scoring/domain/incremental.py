"""Incremental scoring: what the last scoring of a unit derived, kept so that the next one
derives again only what its new facts change.

Every derivation of an observation (a report and its review, a task from its work item, a
finding's spells up to today, a month's 12345 indicators) is kept with its exact inputs: the
event ids of the facts it read (a fact never changes under its event id), what it read of
other facts (a review, an extension), the catalogue and the day. Asked again with the same
inputs, it gives back the very same observation objects. A month whose observations are all
the same objects gives back its part (monthly.py) without counting it. Since a card is a
function of its observations, the cards are those a full rescoring gives (the property tests
compare both on generated unit-years)."""

import operator
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Protocol, TypeVar

Derived = TypeVar("Derived")


class Recall(Protocol):
    """How a derivation is made: `derive()`, or what it gave last time with the same inputs."""

    def __call__(self, key: Hashable, inputs: Any, derive: Callable[[], Derived]) -> Derived: ...


class Remembered:
    """The derivations of one scoring of a unit: each one is taken from the last scoring when
    its inputs are equal, else derived; `kept` is what the next scoring can take from."""

    def __init__(
        self,
        last: dict[Hashable, tuple[Any, Any]] | None = None,
        same: Callable[[Any, Any], bool] = operator.eq,
    ) -> None:
        self._last = last or {}
        self._same = same
        self.kept: dict[Hashable, tuple[Any, Any]] = {}
        self.hits = 0

    def __call__(self, key: Hashable, inputs: Any, derive: Callable[[], Derived]) -> Derived:
        found = self._last.get(key)
        if found is not None and self._same(found[0], inputs):
            self.hits += 1
            result: Derived = found[1]
        else:
            result = derive()
        self.kept[key] = (inputs, result)
        return result


class _Fresh:
    """Derive without keeping anything (a rebuild, an as-of card)."""

    def __call__(self, key: Hashable, inputs: Any, derive: Callable[[], Derived]) -> Derived:
        return derive()


fresh: Recall = _Fresh()


def same_objects(last: tuple[Any, ...], now: tuple[Any, ...]) -> bool:
    """A month's part is kept while its observations are the very objects it counted."""
    return len(last) == len(now) and all(a is b for a, b in zip(last, now, strict=True))


class UnitMemory:
    """One unit's last derivations: its observations by derivation, and its month parts with
    the observations each counted."""

    def __init__(self) -> None:
        self.observations: dict[Hashable, tuple[Any, Any]] = {}
        self.months: dict[Hashable, tuple[tuple[Any, ...], Any]] = {}
        self.held = 0  # observations
        self.run = 0  # the last run that scored the unit


class Memory:
    """The memories of recently scored units, holding at most `capacity` observations (about
    2.5 kB each with their month parts). A unit not remembered is scored in full, and remembered
    if there is room, or if the least recently scored unit was not scored in this run: the
    recompute job visits the marked units in the same order every run, and evicting the least
    recently used would then evict each unit just before its next visit."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self.held = 0
        self.run = 0
        self._units: OrderedDict[str, UnitMemory] = OrderedDict()

    def next_run(self) -> None:
        self.run += 1

    def of(self, unit: str) -> UnitMemory | None:
        """The unit's memory (a new one if there is room), or None: score it in full."""
        found = self._units.get(unit)
        if found is None:
            if self.held >= self.capacity and not self._evict():
                return None
            found = self._units[unit] = UnitMemory()
        self._units.move_to_end(unit)
        found.run = self.run
        return found

    def holds(self, unit: str, observations: int) -> None:
        """Account for what `unit`'s memory holds now, evicting older units beyond capacity."""
        memory = self._units.get(unit)
        if memory is None:
            return
        self.held += observations - memory.held
        memory.held = observations
        while self.held > self.capacity and len(self._units) > 1 and self._evict():
            pass

    def _evict(self) -> bool:
        """Forget the least recently scored unit unless it was scored in this run."""
        unit, oldest = next(iter(self._units.items()))
        if oldest.run == self.run:
            return False
        del self._units[unit]
        self.held -= oldest.held
        return True
