"""Bus subscriptions of the notifications service: every fact it reacts to, in one table."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import streams, subjects
from contracts.envelope import Envelope, Message
from contracts.inspections import (
    FindingRaised,
    PublicRequestClosed,
    RectificationClosed,
    RectificationReopened,
    RectificationReturned,
    RectificationSubmitted,
    SuggestionAnswered,
    SuggestionFiled,
)
from contracts.measures import (
    AchievementRecognized,
    AssignmentCreated,
    ChangeRequestDecided,
    ChangeRequested,
    DeadlineApproaching,
    DeadlineMissed,
    ProgressAccepted,
    ProgressReported,
    ProgressReturned,
    UnitRegistered,
)
from contracts.scoring import AppealDecided, AppealFiled, ResultsPublicised
from services.notifications.domain import occurrences, settlements
from services.notifications.handlers import ladder
from services.notifications.handlers.common import BatchHandler, Context, both
from services.notifications.handlers.fanout import informing, notify
from services.notifications.handlers.ladder import reopening, settling
from services.notifications.handlers.units import register_units
from services.runtime.bus import Bus

PROGRESS_CONSUMER = "notifications-progress"
DEADLINE_MISSED_CONSUMER = "notifications-deadline-missed"


def consumers(ctx: Context) -> list[tuple[type[Message], str, BatchHandler]]:
    async def units(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        await register_units(session, ctx, batch)

    async def missed(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        await ladder.open_cases(session, ctx, batch)

    async def approaching(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        await ladder.remind(session, ctx, batch)

    async def publicised(session: AsyncSession, batch: list[Envelope[Any]]) -> None:
        for envelope in batch:
            for occurrence in occurrences.results_publicised(envelope):
                await notify(session, ctx, occurrence)

    return [
        (UnitRegistered, "notifications-units", units),
        (
            ProgressReported,
            PROGRESS_CONSUMER,
            both(
                informing(ctx, occurrences.progress_reported),
                settling(ctx, settlements.of_progress),
            ),
        ),
        (
            ProgressAccepted,
            "notifications-progress-accepted",
            informing(ctx, occurrences.progress_accepted),
        ),
        (
            ProgressReturned,
            "notifications-progress-returned",
            both(
                informing(ctx, occurrences.progress_returned),
                reopening(ctx, settlements.of_return),
            ),
        ),
        (
            DeadlineApproaching,
            "notifications-deadline-approaching",
            approaching,
        ),
        (DeadlineMissed, DEADLINE_MISSED_CONSUMER, missed),
        (FindingRaised, "notifications-finding-raised", informing(ctx, occurrences.finding_raised)),
        (
            RectificationSubmitted,
            "notifications-rectification-submitted",
            informing(ctx, occurrences.rectification_submitted),
        ),
        (
            RectificationReturned,
            "notifications-rectification-returned",
            informing(ctx, occurrences.rectification_returned),
        ),
        (
            RectificationClosed,
            "notifications-rectification-closed",
            both(
                informing(ctx, occurrences.rectification_closed),
                settling(ctx, settlements.of_rectification),
            ),
        ),
        (
            RectificationReopened,
            "notifications-rectification-reopened",
            both(
                informing(ctx, occurrences.rectification_reopened),
                reopening(ctx, settlements.of_reopened),
            ),
        ),
        (
            PublicRequestClosed,
            "notifications-public-request-closed",
            settling(ctx, settlements.of_public_request),
        ),
        (
            SuggestionFiled,
            "notifications-suggestion-filed",
            informing(ctx, occurrences.suggestion_filed),
        ),
        (
            SuggestionAnswered,
            "notifications-suggestion-answered",
            both(
                informing(ctx, occurrences.suggestion_answered),
                settling(ctx, settlements.of_answer),
            ),
        ),
        (
            AssignmentCreated,
            "notifications-assignment-created",
            informing(ctx, occurrences.assignment_created),
        ),
        (
            ChangeRequested,
            "notifications-change-requested",
            informing(ctx, occurrences.change_requested),
        ),
        (
            ChangeRequestDecided,
            "notifications-change-request-decided",
            both(
                informing(ctx, occurrences.change_request_decided),
                settling(ctx, settlements.of_extension),
            ),
        ),
        (
            AchievementRecognized,
            "notifications-achievement-recognized",
            informing(ctx, occurrences.achievement_recognized),
        ),
        (ResultsPublicised, "notifications-results-publicised", publicised),
        (AppealFiled, "notifications-appeal-filed", informing(ctx, occurrences.appeal_filed)),
        (
            AppealDecided,
            "notifications-appeal-decided",
            informing(ctx, occurrences.appeal_decided),
        ),
    ]


def register(bus: Bus, ctx: Context) -> None:
    for model, durable, handler in consumers(ctx):
        bus.consume(model, subjects.event(model.NAME), streams.EVENTS, durable, handler)
