"""The office's settings for publishing results (公示, 申诉, 综合考核 share), versioned with the
rubric of the year. Read through `results_policy(rubric)` only, so where the rubric keeps them is
one line to change."""

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.scoring.domain.rubric import Rubric


class ResultsPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    publicity_working_days: int = Field(
        default=5,
        ge=1,
        le=30,
        description="公示: results stay provisional for this many working days after publication "
        "(the programme calendar's working days, counted from the day after).",
    )
    appeal_working_days: int | None = Field(
        default=None,
        ge=1,
        le=30,
        description="申诉: units may appeal for this many working days; None: the whole 公示.",
    )
    comprehensive_points: Decimal = Field(
        default=Decimal(20),
        gt=0,
        le=1000,
        description="综合考核: the final total is converted to this many points of the city's "
        "comprehensive assessment (折算为 X 分), in proportion to the full marks.",
    )

    @property
    def appeal_days(self) -> int:
        return self.appeal_working_days or self.publicity_working_days


DEFAULT_POLICY = ResultsPolicy()


def results_policy(rubric: Rubric) -> ResultsPolicy:
    """The rubric's results policy; the defaults until the rubric carries one (`rubric.results`)."""
    return getattr(rubric, "results", None) or DEFAULT_POLICY
