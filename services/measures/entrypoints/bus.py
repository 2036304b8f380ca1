"""Bus subscriptions of the measures service: progress intake from units' systems."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import ContractError, Envelope
from contracts.measures import ReportProgress
from services.measures.domain.progress import Refusal
from services.measures.handlers import intake
from services.measures.handlers.common import Context
from services.runtime.bus import Bus, audited_as
from services.runtime.field_errors import said_in_chinese

INTAKE_CONSUMER = "measures-intake"


def register(bus: Bus, ctx: Context) -> None:
    async def on_reports(session: AsyncSession, batch: list[Envelope[ReportProgress]]) -> None:
        outcomes = await intake.report_progress(session, [e.data for e in batch], ctx, via="nats")
        for envelope, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Refusal):
                await intake.reject(
                    session,
                    envelope.subject,
                    outcome,
                    command_id=envelope.id,
                    command_type=envelope.type,
                    reference=envelope.data.report_id,
                )

    async def on_invalid(session: AsyncSession, subject: str, error: ContractError) -> bool:
        document = error.document or {}
        raw_data = document.get("data")
        data = raw_data if isinstance(raw_data, dict) else {}
        return await intake.reject(
            session,
            subjects.unit_of(subject),
            Refusal(error.reason, error.detail, said_in_chinese(error.validation)),
            command_id=_text(document.get("id")),
            command_type=_text(document.get("type")),
            reference=_text(data.get("report_id")),
            errors=error.errors,
        )

    bus.consume(
        ReportProgress,
        subjects.intake(ReportProgress.NAME),
        streams.INTAKE,
        INTAKE_CONSUMER,
        on_reports,
        on_invalid,
        # Only a unit's own nkey may publish on its subject, and `decode` checked the envelope.
        audit_as=audited_as("unit_system", lambda envelope: f"unit/{envelope.subject}"),
    )


def _text(value: object) -> str | None:
    """A field of an untrusted document, kept only if it is a short string."""
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
