"""Bus subscriptions of the measures service: progress intake from units' systems."""

from hashlib import sha256

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import ContractError, Envelope
from contracts.measures import ReportProgress
from services.measures.domain.progress import Refusal
from services.measures.handlers import intake
from services.measures.handlers.common import Context
from services.runtime import audit
from services.runtime.bus import Bus

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
            Refusal(error.reason, error.detail),
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
        audit_as=reported_by,
    )


def reported_by(batch: list[Envelope[ReportProgress]]) -> audit.Act:
    """The audit entry of reports received over NATS, as one for HTTP names the token's
    subject: the units whose subjects they arrived on (only a unit's own nkey may publish
    there, and `decode` checked that the envelope agrees), and each message with its digest."""
    units = sorted({envelope.subject for envelope in batch})
    return audit.Act(
        actor=",".join(f"unit/{unit}" for unit in units)[:200],
        role="unit_system",
        source="nats",
        action=f"NATS {subjects.intake(ReportProgress.NAME, '{unit}')}",
        target=",".join(subjects.intake(ReportProgress.NAME, unit) for unit in units)[:1000],
        details={
            "messages": [
                {"id": e.id, "unit": e.subject, "sha256": sha256(e.to_json()).hexdigest()}
                for e in batch
            ]
        },
    )


def _text(value: object) -> str | None:
    """A field of an untrusted document, kept only if it is a short string."""
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
