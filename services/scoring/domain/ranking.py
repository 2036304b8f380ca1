"""Rankings within a peer group, and the red and black lists (红黑榜).

Competition ranking ("1224"): units with equal totals share a rank and the next rank skips, as
published league tables in Chinese assessments do; tied units are listed by unit code. A unit is
on the red list when fewer than `red_top` units scored higher, and on the black list when fewer
than `black_bottom` units scored lower, so a tie at a boundary takes in every tied unit. Red wins
over black (a small group cannot put a unit on both), and `black_only_below` keeps a unit with a
high score off the black list even when it is last.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from services.scoring.domain.rubric import HonourRoll

Honour = Literal["red", "black"]


@dataclass(frozen=True)
class Standing:
    unit: str
    total: Decimal


@dataclass(frozen=True)
class Ranked:
    rank: int
    unit: str
    total: Decimal
    tied: bool
    honour: Honour | None


def rank(standings: Sequence[Standing], roll: HonourRoll) -> list[Ranked]:
    ordered = sorted(standings, key=lambda s: (-s.total, s.unit))
    totals = [s.total for s in ordered]
    ranked = []
    for standing in ordered:
        higher = sum(1 for t in totals if t > standing.total)
        lower = sum(1 for t in totals if t < standing.total)
        honour: Honour | None = None
        if higher < roll.red_top:
            honour = "red"
        elif lower < roll.black_bottom and (
            roll.black_only_below is None or standing.total < roll.black_only_below
        ):
            honour = "black"
        ranked.append(
            Ranked(
                rank=higher + 1,
                unit=standing.unit,
                total=standing.total,
                tied=totals.count(standing.total) > 1,
                honour=honour,
            )
        )
    return ranked
