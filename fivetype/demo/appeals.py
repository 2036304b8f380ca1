"""The demo's 申诉 and 复核, whose bodies depend on what the year did: when the step is played the
unit reads its card as publicised and contests the line item that cost it most, and later the
office reads the same card and answers about the same item. Pure functions of the card view
(`GET /v1/units/{unit}/cards/{period}`) and of the body the plan wrote (texts with placeholders),
so the plan stays a function of its seed."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fivetype.demo import content
from services.runtime.workdays import chinese_date

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Contested:
    key: str  # rule:type, as an appeal and a correction name a line item
    line: str  # the line's Chinese name
    item: str  # the item's title
    due: str  # its 限办日期, 2026年2月28日
    cost: Decimal  # what the item took off the card


def contested(view: dict[str, Any]) -> Contested | None:
    """The item a unit contests on its card as publicised: a deduction (督办, 通报, a finding)
    before a task short of its full marks, the costliest first, the card's order on a tie;
    None when nothing cost the unit points."""
    card = (view.get("published") or {}).get("card") or view["card"]
    found: tuple[tuple[bool, Decimal], Contested] | None = None
    for line in card["line_items"]:
        for item in line.get("items") or []:
            cost = _cost(line, item)
            rank = (line["effect"] == "deduction", cost)
            if cost > 0 and (found is None or rank > found[0]):
                due = date.fromisoformat(item["due_date"]) if item.get("due_date") else None
                found = (
                    rank,
                    Contested(
                        key=f"{line['rule']}:{line['type']}",
                        line=line["name_zh"],
                        item=item.get("title") or item["id"],
                        due=chinese_date(due) if due else "—",
                        cost=cost,
                    ),
                )
    return None if found is None else found[1]


def _cost(line: dict[str, Any], item: dict[str, Any]) -> Decimal:
    """What one item took off its line: its own points (a deduction), or its share of a task
    line's full marks it did not earn (items of a line weigh alike in the demo), at most what
    the line lost."""
    points = Decimal(line["points"])
    full = Decimal(line["full_marks"]) if line.get("full_marks") is not None else None
    lost = -points if points < 0 else (full - points if full is not None else Decimal(0))
    if item.get("points") is not None:
        cost = Decimal(item["points"])
    elif item.get("credit") is not None and full is not None:
        cost = full * (1 - Decimal(item["credit"])) / len(line["items"])
    else:
        cost = Decimal(0)
    return min(cost, lost).quantize(CENT)


def appeal(view: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
    """The unit's appeal against the item it contests. With nothing to contest it names no line
    item, and the service refuses it (the player counts the refusal)."""
    found = contested(view)
    if found is None:
        return {**planned, "line_items": []}
    reason = planned["reason"].format(line=found.line, item=found.item, due=found.due)
    return {**planned, "reason": reason, "line_items": [found.key]}


def decision(view: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
    """The office's answer about the same item: upheld, or corrected by the points it cost."""
    found = contested(view)
    if found is None:
        return planned
    points = format(found.cost.normalize(), "f")
    answer = planned["answer"].format(
        unit=view.get("unit_name") or view["unit"],
        line=found.line,
        item=found.item,
        due=found.due,
        points=points,
    )
    if planned["outcome"] != "corrected":
        return {**planned, "answer": answer}
    reason = content.ADJUSTMENT_REASON.format(item=found.item)
    adjustment = {"line_item": found.key, "points": float(found.cost), "reason": reason}
    return {**planned, "answer": answer, "adjustments": [adjustment]}
