"""The one envelope every message on the bus travels in.

Attribute names follow CloudEvents 1.0 (id, source, type, time, subject, dataschema), so any
CloudEvents-aware tool can read our messages; `subject` is always the responsible unit's code.
`schemaversion` is a CloudEvents extension attribute naming the version of `data`'s schema.
"""

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, create_model

from contracts.common import STRICT, Instant
from contracts.reasons import Reason

UNIT_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"
UnitCode = Annotated[
    str,
    Field(
        pattern=UNIT_CODE_PATTERN,
        description="Code of a responsible unit; also the last token of its NATS subjects.",
        examples=["360102", "dept-fgw"],
    ),
]

# Namespace for ids derived from facts, so that two replicas deriving the same fact agree on its id.
FACT_NAMESPACE = uuid.UUID("6f2d4c1e-5b7a-4e8f-9a3d-2c1b0e9f8a71")


def new_id() -> str:
    return str(uuid.uuid4())


def fact_id(*parts: object) -> str:
    """A deterministic id for a fact: fact_id("DeadlineMissed", "milestone", 42, "2026-06-30")."""
    return str(uuid.uuid5(FACT_NAMESPACE, "|".join(str(p) for p in parts)))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Message(BaseModel):
    """Base of every message's `data`: a frozen, closed schema with a name and a version."""

    model_config = STRICT
    NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1


DataT = TypeVar("DataT", bound=Message)


class Envelope(BaseModel, Generic[DataT]):
    model_config = STRICT

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=128, description="Unique per message; the dedup key.")
    source: str = Field(
        min_length=1,
        max_length=256,
        description="Producer: `fivetype/<service>` or `unit/<unit code>` for a unit's system.",
    )
    type: str = Field(description="Message name, e.g. ProgressReported.")
    schemaversion: int = Field(strict=True, ge=1, description="Version of the schema of `data`.")
    time: Instant = Field(description="When the fact happened or the command was issued.")
    subject: UnitCode
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = Field(default=None, description="URN of the schema of `data`.")
    traceparent: str | None = Field(
        default=None, max_length=128, description="W3C trace context of the producer, if any."
    )
    data: DataT

    def to_json(self) -> bytes:
        # The serializer's own UTF-8 bytes: model_dump_json decodes them to a str to encode again.
        return self.__pydantic_serializer__.to_json(self, exclude_none=True)


def schema_urn(model: type[Message]) -> str:
    return f"urn:fivetype:schema:{model.NAME}:v{model.VERSION}"


_envelope_models: dict[type[Message], type[Envelope[Any]]] = {}


def envelope_model(model: type[Message]) -> type[Envelope[Any]]:
    """The envelope specialised to one message: `type` and `schemaversion` become constants."""
    if model not in _envelope_models:
        name: Any = Literal[model.NAME]
        version: Any = Literal[model.VERSION]
        _envelope_models[model] = create_model(
            f"{model.NAME}Envelope",
            __base__=Envelope[model],  # type: ignore[valid-type]
            type=(name, Field(description="Message name.")),
            schemaversion=(version, Field(description="Version of `data`.")),
        )
    return _envelope_models[model]


def wrap(
    data: DataT,
    *,
    subject: str,
    source: str,
    id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> Envelope[DataT]:
    """Put `data` in its envelope; pass `id` for facts whose id must be deterministic."""
    model = envelope_model(type(data))
    return model(
        id=id or new_id(),
        source=source,
        type=data.NAME,
        schemaversion=data.VERSION,
        time=time or utcnow(),
        subject=subject,
        dataschema=schema_urn(type(data)),
        traceparent=traceparent,
        data=data,
    )


class ContractError(Exception):
    """A message that does not honour the contract; `reason` is the machine-readable code."""

    def __init__(
        self,
        reason: Reason,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        document: dict[str, Any] | None = None,
        validation: list[Any] | None = None,
    ):
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.errors = errors or []
        self.document = document  # the parsed JSON, when it parsed, to answer the sender
        self.validation = validation or []  # pydantic's own errors, for a wording in Chinese


def decode(
    raw: bytes, model: type[DataT], *, arrived_on: str | None = None, max_bytes: int = 256 * 1024
) -> Envelope[DataT]:
    """Parse and validate one message, classifying every failure with a reason code.

    `arrived_on` is the subject it came on: its last token must be the envelope's unit, and so
    must the unit inside `data`, so nobody can speak for a unit on another unit's subject.
    """
    if len(raw) > max_bytes:
        raise ContractError(Reason.OVERSIZED, f"{len(raw)} bytes exceeds the limit of {max_bytes}")
    try:  # the common case, parsed once in pydantic's JSON parser (about twice as fast)
        envelope: Envelope[DataT] = envelope_model(model).model_validate_json(raw)
    except ValidationError:
        envelope = _classify(raw, model)
    units = {envelope.subject, getattr(envelope.data, "unit", envelope.subject)}
    if arrived_on is not None:
        units.add(arrived_on.rsplit(".", 1)[-1])
    if len(units) > 1:
        raise ContractError(
            Reason.UNIT_MISMATCH, " ≠ ".join(sorted(units)), document=json.loads(raw)
        )
    return envelope


def _classify(raw: bytes, model: type[DataT]) -> Envelope[DataT]:
    """The slow path for a message that failed validation: say precisely what is wrong."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(Reason.MALFORMED_JSON, str(exc)) from exc
    if not isinstance(document, dict):
        raise ContractError(Reason.MALFORMED_JSON, "the message is not a JSON object")
    if document.get("type") != model.NAME:
        raise ContractError(
            Reason.UNKNOWN_TYPE,
            f"expected type {model.NAME!r}, got {document.get('type')!r}",
            document=document,
        )
    if document.get("schemaversion") != model.VERSION:
        raise ContractError(
            Reason.UNSUPPORTED_VERSION,
            f"{model.NAME} schemaversion {document.get('schemaversion')!r} is not supported; "
            f"supported: {model.VERSION}",
            document=document,
        )
    try:
        envelope: Envelope[DataT] = envelope_model(model).model_validate(document)
    except ValidationError as exc:
        errors = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in exc.errors()
        ]
        raise ContractError(
            Reason.SCHEMA_VIOLATION,
            f"{exc.error_count()} error(s) against {model.NAME}",
            errors,
            document,
            exc.errors(include_url=False),
        ) from exc
    return envelope
