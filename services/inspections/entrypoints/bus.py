"""Bus subscriptions of the inspections service: public requests from the channels' systems,
every service's DeadlineMissed (kept as clues findings can cite), and the unit directory and
catalogue the measures service publishes."""

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import ContractError, Envelope
from contracts.inspections import ReportPublicRequest
from contracts.measures import CataloguePublished, DeadlineMissed, UnitRegistered
from services.inspections.domain.actors import Actor, Role
from services.inspections.domain.refusals import Refusal
from services.inspections.handlers import clues, reference
from services.inspections.handlers import public_requests as handlers
from services.inspections.handlers.context import Context
from services.runtime.bus import Bus, audited_as
from services.runtime.field_errors import said_in_chinese

REQUESTS_CONSUMER = "inspections-public-requests"
MISSED_DEADLINES_CONSUMER = "inspections-missed-deadlines"
UNITS_CONSUMER = "inspections-units"
CATALOGUES_CONSUMER = "inspections-catalogues"


def channel_actor(envelope: Envelope[ReportPublicRequest]) -> Actor:
    """Who publishes on the intake subject is a channel system; NATS accounts decide who may."""
    return Actor(role=Role.CHANNEL, id=envelope.source[:128], name=envelope.source[:200])


def register(bus: Bus, ctx: Context) -> None:
    async def on_requests(
        session: AsyncSession, batch: list[Envelope[ReportPublicRequest]]
    ) -> None:
        for envelope in batch:
            command = envelope.data
            outcome = await handlers.record_step(
                session,
                command.request_id,
                command.unit,
                command.step,
                channel_actor(envelope),
                ctx,
                via="nats",
            )
            if isinstance(outcome, Refusal):
                await handlers.reject(
                    session,
                    envelope.subject,
                    outcome,
                    command_id=envelope.id,
                    command_type=envelope.type,
                    reference=command.request_id,
                )

    async def on_invalid(session: AsyncSession, subject: str, error: ContractError) -> bool:
        document = error.document or {}
        raw_data = document.get("data")
        data = raw_data if isinstance(raw_data, dict) else {}
        return await handlers.reject(
            session,
            subjects.unit_of(subject),
            Refusal(error.reason, said_in_chinese(error.validation), error.detail),
            command_id=_text(document.get("id")),
            command_type=_text(document.get("type")),
            reference=_text(data.get("request_id")),
            errors=error.errors,
        )

    bus.consume(
        ReportPublicRequest,
        subjects.intake(ReportPublicRequest.NAME),
        streams.INTAKE,
        REQUESTS_CONSUMER,
        on_requests,
        on_invalid,
        # The channel names itself in the envelope; only channels may publish on these subjects.
        audit_as=audited_as("channel", lambda envelope: envelope.source),
    )
    bus.consume(
        DeadlineMissed,
        subjects.event(DeadlineMissed.NAME),
        streams.EVENTS,
        MISSED_DEADLINES_CONSUMER,
        clues.record_missed_deadlines,
    )
    bus.consume(
        UnitRegistered,
        subjects.event(UnitRegistered.NAME),
        streams.EVENTS,
        UNITS_CONSUMER,
        reference.record_units,
    )
    bus.consume(
        CataloguePublished,
        subjects.event(CataloguePublished.NAME),
        streams.EVENTS,
        CATALOGUES_CONSUMER,
        reference.record_catalogues,
    )


def _text(value: object) -> str | None:
    """A field of an untrusted document, kept only if it is a short string."""
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
