"""Messages of the scoring service: scorecard changes, published rankings, rubrics in force.

Scores are numbers rounded to 0.01. Rankings and rubrics concern no single unit: they travel on
the office's subject. The rules behind every number are in docs/scoring.md.
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from contracts.common import STRICT, EvidenceRef, Name
from contracts.envelope import Message, UnitCode
from contracts.spec import MessageSpec

Period = Annotated[
    str,
    Field(
        pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$",
        description="A month (2026-03), a quarter (2026-Q1) or a programme year (2026).",
        examples=["2026-03"],
    ),
]
PeriodKind = Literal["month", "quarter", "year"]
Grade = Literal["excellent", "good", "fair", "poor"]  # 等次: 优秀, 良好, 一般, 较差
Score = Annotated[float, Field(allow_inf_nan=False)]
RubricVersion = Annotated[str, Field(pattern=r"^\d{4}\.\d+$", examples=["2026.1"])]


class _Part(BaseModel):
    model_config = STRICT


class TypeScore(_Part):
    """A unit's score in one of the five types, out of the type's full marks."""

    type: str = Field(pattern=r"^[a-z]+$", examples=["service"])
    score: Score
    full_marks: Score


class ScoreUpdated(Message):
    """Event: a unit's scorecard for a period changed. Coalesced: at most one per card each time
    scoring recomputes, however many events changed it. Envelope id
    fact_id("ScoreUpdated", unit, period, revision, card_digest)."""

    NAME = "ScoreUpdated"
    unit: UnitCode
    unit_name: str | None = Field(
        default=None, description="As scoring's replica of the directory has it."
    )
    peer_group: str | None = None
    period: Period
    period_kind: PeriodKind
    total: Score | None = Field(
        default=None,
        description="None when the unit has nothing assessable in the period (暂无考核数据).",
    )
    previous_total: Score | None = Field(
        default=None,
        description="None for the card's first version, or when the unit had no score.",
    )
    types: list[TypeScore]
    bonus: Score
    grade: Grade | None = Field(default=None, description="等次 by the bands and verdicts.")
    rubric_version: RubricVersion
    revision: int = Field(ge=1, description="1 for the card's first version, then +1 a change.")
    card_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    period_closed: bool = Field(
        description="The office already published this period: the published ranking stands."
    )
    computed_at: AwareDatetime


class RankingEntry(_Part):
    rank: int = Field(
        ge=1, description="Competition ranking: tied units share a rank (1, 2, 2, 4)."
    )
    unit: UnitCode
    unit_name: str
    total: Score
    types: list[TypeScore]
    tied: bool
    honour: Literal["red", "black"] | None = Field(
        default=None, description="红榜 or 黑榜, if on either."
    )
    grade: Grade | None = Field(
        default=None, description="等次 after the quota on 优秀 (earned rubrics)."
    )


class RankingPublished(Message):
    """Event: the office closed a period and published the ranking of one peer group. Envelope id
    fact_id("RankingPublished", period, revision, peer_group); subject: the office."""

    NAME = "RankingPublished"
    period: Period
    period_kind: PeriodKind
    revision: int = Field(ge=1, description="2 and up when the office republished the period.")
    peer_group: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=40)
    peer_group_name_zh: str | None = None
    peer_group_name_en: str | None = None
    rubric_version: RubricVersion
    as_of: AwareDatetime = Field(description="Facts known by this instant were counted.")
    closed_at: AwareDatetime
    closed_by: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2000)
    entries: list[RankingEntry]
    red_list: list[UnitCode]
    black_list: list[UnitCode]
    unscored: list[UnitCode] = Field(
        default_factory=list, description="Units of the group with nothing assessable: unranked."
    )


class RubricActivated(Message):
    """Event: a rubric version came into force for its programme year; it carries the whole
    validated document, so a replay of the stream restores every version. Envelope id
    fact_id("RubricActivated", year, version, sha256); subject: the office."""

    NAME = "RubricActivated"
    year: int = Field(ge=2022, le=2100)
    version: RubricVersion
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    title_zh: str
    source: str = Field(description="The file or API upload it came from.")
    activated_at: AwareDatetime
    document: dict[str, Any]


class VerdictRecorded(Message):
    """Event: the office recorded 一票否决 (veto: the unit's 等次 is 较差) or 降等 (the 等次 falls
    by `steps` grades) for a unit and period, with the document that decided it. Envelope id
    fact_id("VerdictRecorded", verdict_id); subject: the unit."""

    NAME = "VerdictRecorded"
    verdict_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    unit: UnitCode
    period: Period
    kind: Literal["veto", "downgrade"]
    steps: int = Field(default=1, ge=1, le=3, description="Grades to fall (降等 only).")
    reason: str = Field(min_length=1, max_length=2000)
    document: str = Field(min_length=1, max_length=200, description="文号 of the decision.")
    decided_by: str = Field(min_length=1, max_length=200)
    decided_on: date
    recorded_at: AwareDatetime


def period_name_zh(period: str) -> str:
    """A period as Chinese text says it: 2026年3月, 2026年第一季度, 2026年度."""
    year, _, part = period.partition("-")
    if not part:
        return f"{year}年度"
    if part.startswith("Q"):
        return f"{year}年第{'一二三四'[int(part[1]) - 1]}季度"
    return f"{year}年{int(part)}月"


GRADE_NAMES: dict[str, tuple[str, str]] = {
    "excellent": ("优秀", "Excellent"),
    "good": ("良好", "Good"),
    "fair": ("一般", "Fair"),
    "poor": ("较差", "Poor"),
}
LineItemKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9_]+:[a-z]+$",
        max_length=80,
        description="A line item of the card: its rule and type, e.g. finding:disciplined.",
        examples=["finding:disciplined"],
    ),
]
Answer = Annotated[str, Field(min_length=1, max_length=4000)]


class UnitResult(_Part):
    """One unit's result for a period, as publicised or finalised."""

    unit: UnitCode
    unit_name: str
    peer_group: str
    rank: int | None = Field(
        default=None, ge=1, description="Within the peer group; None without a score."
    )
    tied: bool
    honour: Literal["red", "black"] | None = Field(
        default=None, description="红榜 or 黑榜, if on either."
    )
    total: Score | None = Field(
        default=None, description="None: nothing assessable (暂无考核数据)."
    )
    full_marks: Score
    types: list[TypeScore]
    bonus: Score
    deductions: Score = Field(description="The sum of the deductions, as a negative number.")
    adjustments: Score = Field(description="The sum of the corrections decided on appeal.")
    grade: Grade | None = Field(default=None, description="等次: 优秀, 良好, 一般, 较差.")
    band_grade: Grade | None = Field(
        default=None, description="等次 by the score bands alone, before verdicts and the quota."
    )
    on_time_rate: Score | None = Field(
        default=None, description="Share of settled tasks completed on time (a tie rule)."
    )
    verdict: str | None = Field(
        default=None, description="一票否决 or 降等, with the deciding document."
    )
    comprehensive_points: Score | None = Field(
        default=None, description="The total converted into the city's 综合考核 (折算分)."
    )


class _Results(Message):
    period: Period
    period_kind: PeriodKind
    revision: int = Field(ge=1, description="The published revision these results are of.")
    rubric_version: RubricVersion
    as_of: AwareDatetime = Field(description="Facts known by this instant were counted.")
    comprehensive_share: Score = Field(
        description="Full marks of the 综合考核 share (X in 折算为 X 分)."
    )
    results: list[UnitResult]


class ResultsPublicised(_Results):
    """Event: a closed period's provisional results are publicised (公示): every unit may see them
    and appeal until `appeal_deadline`. Envelope id fact_id("ResultsPublicised", period,
    revision); subject: the office."""

    NAME = "ResultsPublicised"
    publicised_at: AwareDatetime
    publicised_by: Name
    publicity_working_days: int = Field(ge=1)
    publicity_ends_on: date = Field(description="The last working day of the 公示 (China time).")
    appeal_deadline: date = Field(description="The last day an appeal is accepted (China time).")


class LineAdjustment(_Part):
    """A correction decided on review: points added to (or, negative, taken from) a line item."""

    line_item: LineItemKey
    points: Score = Field(description="Signed; never zero.")
    reason: Answer


class AppealFiled(Message):
    """Event: a unit appealed (申诉) against its publicised result. One appeal per unit and period.
    Envelope id fact_id("AppealFiled", period, unit); subject: the unit."""

    NAME = "AppealFiled"
    appeal_id: str
    period: Period
    revision: int = Field(ge=1, description="The publicised revision appealed against.")
    unit: UnitCode
    unit_name: str
    reason: Answer
    line_items: list[LineItemKey] = Field(min_length=1, max_length=50)
    evidence: list[EvidenceRef] = Field(max_length=50)
    filed_by: Name
    filed_at: AwareDatetime


class AppealDecided(Message):
    """Event: the office reviewed (复核) an appeal and answered in writing: upheld (维持原结果) or
    corrected (予以更正, with the adjustments). Envelope id fact_id("AppealDecided", period, unit);
    subject: the unit."""

    NAME = "AppealDecided"
    appeal_id: str
    period: Period
    unit: UnitCode
    unit_name: str
    outcome: Literal["upheld", "corrected"]
    answer: Answer
    adjustments: list[LineAdjustment] = Field(max_length=50)
    total_before: Score | None = None
    total_after: Score | None = None
    decided_by: Name
    decided_at: AwareDatetime


class ResultsFinalised(_Results):
    """Event: the office finalised (定档) the period's results, corrections included; they no longer
    change. Envelope id fact_id("ResultsFinalised", period); subject: the office."""

    NAME = "ResultsFinalised"
    finalised_at: AwareDatetime
    finalised_by: Name
    appeals: int = Field(ge=0)
    corrected: int = Field(ge=0, description="Appeals that led to a correction.")


SPECS = (
    MessageSpec(ScoreUpdated, "event", "scoring", ("notifications",)),
    MessageSpec(RankingPublished, "event", "scoring", ("notifications", "scoring (replay)")),
    MessageSpec(RubricActivated, "event", "scoring", ("scoring (replay)",)),
    MessageSpec(VerdictRecorded, "event", "scoring", ("scoring",)),
    MessageSpec(ResultsPublicised, "event", "scoring", ("notifications", "scoring (replay)")),
    MessageSpec(AppealFiled, "event", "scoring", ("notifications", "scoring (replay)")),
    MessageSpec(AppealDecided, "event", "scoring", ("notifications", "scoring (replay)")),
    MessageSpec(ResultsFinalised, "event", "scoring", ("scoring (replay)",)),
)
