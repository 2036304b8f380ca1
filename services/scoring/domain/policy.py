"""The office's settings for publishing results (公示, 申诉, 综合考核 share), versioned with the
rubric of the year (its `results` section)."""

from services.scoring.domain.rubric import Rubric
from services.scoring.domain.rubric_parts import ResultsPolicy

DEFAULT_POLICY = ResultsPolicy()


def results_policy(rubric: Rubric) -> ResultsPolicy:
    return rubric.results
