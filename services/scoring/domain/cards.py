"""What a scorecard says: its lines, the items behind each line, the type scores, the 等次 and
the office's verdicts. Points are decimals rounded half up to 0.01 per line. Fields added for the
earned model have defaults, so cards stored under the deduction model still read back."""

import hashlib
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.scoring.domain.periods import PeriodKind

CENT = Decimal("0.01")
ZERO = Decimal(0)
TYPE_NAMES: dict[str, tuple[str, str]] = {
    "loyal": ("忠诚型", "Loyal"),
    "innovative": ("创新型", "Innovative"),
    "responsible": ("担当型", "Responsible"),
    "service": ("服务型", "Service-oriented"),
    "disciplined": ("过硬型", "Disciplined"),
}
NO_DATA_ZH = "暂无考核数据"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ItemRef(_Model):
    """One item behind a line, in words a unit's staff can check: which task of which measure,
    due when, and what became of it."""

    kind: str  # milestone, obligation, target, finding, escalation, interview, accountability …
    id: str
    measure_code: str | None = None
    measure_name: str | None = None
    title: str | None = None
    due_date: date | None = None
    outcome: str | None = None
    days_late: int | None = None
    credit: Decimal | None = None
    points: Decimal | None = None
    note_zh: str | None = None


class LineItem(_Model):
    rule: str
    name_zh: str
    name_en: str
    formula: Literal["per_event", "rate", "tasks"]
    effect: Literal["deduction", "bonus", "earned"]
    type: str
    points: Decimal  # signed: below zero a deduction, above zero a bonus or earned points
    uncapped: Decimal
    count: int
    detail: dict[str, str]
    explanation_zh: str
    explanation_en: str
    events: list[str]
    full_marks: Decimal | None = None  # earned lines: what the line could have earned
    items: list[ItemRef] = []


class TypeScore(_Model):
    type: str
    name_zh: str
    name_en: str
    full_marks: Decimal
    deductions: Decimal
    score: Decimal
    assessed: bool = True  # earned model: False when the unit had no task of this type


class Verdict(_Model):
    """一票否决 (veto) or 降等 (downgrade by `steps` grades), as the office recorded it."""

    kind: Literal["veto", "downgrade"]
    steps: int
    reason: str
    document: str
    decided_by: str
    decided_on: date
    event_id: str


class Scorecard(_Model):
    unit: str
    period: str
    period_kind: PeriodKind
    rubric_version: str
    as_of: datetime | None
    base: Decimal
    total: Decimal | None  # None: nothing assessable in the period (暂无考核数据)
    types: list[TypeScore]
    bonus: Decimal
    bonus_uncapped: Decimal
    line_items: list[LineItem]
    observations: int
    model: Literal["deduction", "earned"] = "deduction"
    note_zh: str | None = None
    earned: Decimal | None = None  # 基本分: tasks and common indicators, before 加分 and 扣分
    deductions: Decimal = Decimal("0.00")  # 扣分 after the cap, as a negative number
    deductions_uncapped: Decimal = Decimal("0.00")
    on_time_rate: Decimal | None = None  # share of settled task items completed on time
    band_grade: str | None = None  # 等次 by the score bands alone
    grade: str | None = None  # 等次 after the office's verdicts (the peer quota is the ranking's)
    verdicts: list[Verdict] = []

    @property
    def scored(self) -> bool:
        return self.total is not None

    def json_and_digest(self) -> tuple[str, str]:
        """The card as JSON, and the digest of that text (stored together, computed once)."""
        text = self.model_dump_json()
        return text, hashlib.sha256(text.encode()).hexdigest()

    @property
    def digest(self) -> str:
        """Identifies the card's content; equal cards have equal digests."""
        return self.json_and_digest()[1]
