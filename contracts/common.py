"""Field types shared by the messages of every service, and the bounds every input keeps.

Dates and instants are limited to the years 2000-2100: the programme's own span with room on
both sides, and far from the ends of Python's calendar, where adding a day or converting to UTC
overflows. Numbers are strict (a JSON `true` is no number) and normal (no NaN, no infinity, no
subnormal value such as 1e-320, which only a probe would send).
"""

import sys
from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

FIRST_YEAR, LAST_YEAR = 2000, 2100

# Every contract model: immutable, no unknown field, and no NaN or infinity in any float (JSON
# has neither, and PostgreSQL refuses them in a JSON column).
STRICT = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
_Dated = TypeVar("_Dated", date, datetime)


def invalid_value(zh: str, en: str) -> PydanticCustomError:
    """A validator's refusal in both languages: a 422 says it in its reader's (the services'
    field_errors), anything else in English."""
    return PydanticCustomError("invalid", "{en}", {"en": en, "zh": zh})


def _within_years(value: _Dated) -> _Dated:
    # The year as written, before any conversion: 0001-01-01T00:00+14:00 must not reach one.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise PydanticCustomError(
            "year_out_of_range",
            "must be within the years {first}-{last}",
            {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return value


_YEARS = f"Within the years {FIRST_YEAR}-{LAST_YEAR}."
Day = Annotated[
    date,
    AfterValidator(_within_years),
    Field(
        description=_YEARS,
        json_schema_extra={
            "formatMinimum": f"{FIRST_YEAR}-01-01",
            "formatMaximum": f"{LAST_YEAR}-12-31",
        },
    ),
]
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_within_years),
    Field(description=f"With its UTC offset. {_YEARS}"),
]


def normal(value: float) -> float:
    if value != 0 and abs(value) < sys.float_info.min:
        raise PydanticCustomError(
            "subnormal_number", "must be zero or a normal number (no subnormal value)"
        )
    return value


Number = Annotated[float, Field(strict=True, allow_inf_nan=False), AfterValidator(normal)]
Flag = Annotated[bool, Field(strict=True)]

MeasureCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9-]{1,31}$",
        description="Catalogue code of a measure or sub-task, e.g. M07 or G4.",
        examples=["M07"],
    ),
]
Text = Annotated[str, Field(max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class EvidenceRef(BaseModel):
    """A reference to evidence kept elsewhere, pinned by the SHA-256 of its content."""

    model_config = STRICT
    uri: str = Field(min_length=1, max_length=2048)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    title: str | None = Field(default=None, max_length=200)


Evidence = Annotated[list[EvidenceRef], Field(default_factory=list, max_length=50)]


class FieldError(BaseModel):
    model_config = STRICT
    loc: str
    msg: str
