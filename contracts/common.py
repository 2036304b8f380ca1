"""Field types shared by the messages of every service."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

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

    model_config = ConfigDict(frozen=True, extra="forbid")
    uri: str = Field(min_length=1, max_length=2048)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    title: str | None = Field(default=None, max_length=200)


Evidence = Annotated[list[EvidenceRef], Field(default_factory=list, max_length=50)]


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    loc: str
    msg: str
