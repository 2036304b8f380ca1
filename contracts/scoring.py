"""Messages of the scoring service: scorecard changes, published rankings, rubrics in force.

Scores are numbers rounded to 0.01. Rankings and rubrics concern no single unit: they travel on
the office's subject. The rules behind every number are in docs/scoring.md.
"""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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
    model_config = ConfigDict(frozen=True, extra="forbid")


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
    unit_name: str | None = Field(description="As scoring's replica of the directory has it.")
    peer_group: str | None
    period: Period
    period_kind: PeriodKind
    total: Score | None = Field(
        description="None when the unit has nothing assessable in the period (暂无考核数据)."
    )
    previous_total: Score | None = Field(
        description="None for the card's first version, or when the unit had no score."
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
    honour: Literal["red", "black"] | None = Field(description="红榜 or 黑榜, if on either.")
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
    peer_group_name_zh: str | None
    peer_group_name_en: str | None
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


SPECS = (
    MessageSpec(ScoreUpdated, "event", "scoring", ("notifications",)),
    MessageSpec(RankingPublished, "event", "scoring", ("notifications", "scoring (replay)")),
    MessageSpec(RubricActivated, "event", "scoring", ("scoring (replay)",)),
    MessageSpec(VerdictRecorded, "event", "scoring", ("scoring",)),
)
