"""A 422's field errors read Chinese by default: every error type a request commonly meets has
a template that formats with the context pydantic really gives, and English stays on request."""

import enum
import re
from datetime import date
from typing import Literal

import pytest
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.common import Day, Number, invalid_value
from services.runtime.field_errors import field_error


class Colour(enum.Enum):
    RED = "red"


class Inner(BaseModel):
    n: int


class Everything(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required: str
    small: int = Field(default=1, ge=1, le=5)
    above: int = Field(default=2, gt=1, lt=5)
    code: str = Field(default="ab", min_length=2, max_length=3, pattern=r"^[a-z]+$")
    items: list[int] = Field(default=[1], min_length=1, max_length=2)
    day: date = date(2026, 1, 1)
    when: AwareDatetime | None = None
    kind: Literal["x", "y"] = "x"
    colour: Colour = Colour.RED
    flag: bool = True
    number: float = 0.0
    strict: Number = 0.0
    year: Day = date(2026, 1, 1)
    inner: Inner | None = None


BAD = [
    {},
    {"required": 1, "small": 9, "above": 1, "code": "A", "items": [], "day": "x", "kind": "z"},
    {"required": "", "small": 0, "above": 5, "code": "abcd", "items": [1, 2, 3], "flag": "maybe"},
    {"required": "", "when": "2026-01-01T00:00", "colour": "blue", "number": "abc", "code": "ABC"},
    {"required": "", "strict": True, "year": "1999-12-31", "inner": [], "small": "x"},
    {"required": "", "strict": 1e-320, "inner": {"n": 1.5}, "day": "2026-01-01T10:00", "extra": 1},
]
ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9_'-])[A-Za-z]{2,}(?![A-Za-z0-9_'-])")
# Written as the client writes them: JSON's literals, formats' names.
LITERALS = {"true", "false", "YYYY", "MM", "DD", "ISO", "UUID"}


def errors() -> list[dict[str, object]]:
    found = []
    for document in BAD:
        with pytest.raises(ValidationError) as failed:
            Everything.model_validate(document)
        found += failed.value.errors()
    return found  # type: ignore[return-value]


def test_every_common_error_reads_chinese() -> None:
    for error in errors():
        said = field_error(error, "zh")
        assert said["msg"] != error["msg"], f"{error['type']} has no Chinese: {error['msg']}"
        words = [w for w in ENGLISH_WORD.findall(said["msg"]) if w not in LITERALS]
        assert not words and "{" not in said["msg"], said


def test_english_is_pydantics_and_the_place_is_dotted() -> None:
    for error in errors():
        said = field_error(error, "en")
        assert said["msg"] == error["msg"]
        assert said["loc"] == ".".join(str(p) for p in error["loc"])  # type: ignore[attr-defined]


def test_a_type_without_chinese_words_keeps_pydantics() -> None:
    error = {"type": "some_new_type", "loc": ("body", "x"), "msg": "Something new", "ctx": {}}
    assert field_error(error, "zh") == {"loc": "body.x", "msg": "Something new"}


class Pair(BaseModel):
    low: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> "Pair":
        if self.low > self.high:
            raise invalid_value(f"下限 {self.low} 大于上限 {self.high}", "low is above high")
        return self


def test_a_validators_own_refusal_is_said_in_either_language() -> None:
    with pytest.raises(ValidationError) as failed:
        Pair(low=3, high=1)
    [error] = failed.value.errors()
    assert field_error(error, "zh")["msg"] == "下限 3 大于上限 1"
    assert field_error(error, "en")["msg"] == "low is above high"
    assert "low is above high" in str(failed.value)  # logs and files read English
