"""The supervisors' roster and their suggestions."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import fact_id
from contracts.inspections import SuggestionAnswered, SuggestionFiled
from services.inspections.adapters import repository
from services.inspections.adapters.tables import Suggestion, Supervisor, SupervisorTerm
from services.inspections.domain.actors import Role, require_role
from services.inspections.domain.calendar import days_late
from services.inspections.domain.fingerprint import fingerprint, is_retry, step_fingerprint
from services.inspections.domain.refusals import Refusal, RefusalCode, id_conflict
from services.inspections.domain.supervision import (
    AddTerm,
    AnswerSuggestion,
    EnterSupervisor,
    ExitSupervisor,
    FileSuggestion,
    SuggestionFeedback,
    SuggestionState,
    Term,
    answer_refusal,
    current_term,
    exit_refusal,
    feedback_refusal,
    filing_refusal,
    term_refusal,
)
from services.inspections.handlers.context import Change, Context, JournalActor, emit, journal
from services.runtime.workdays import local_date


@dataclass(frozen=True)
class Entered:
    supervisor: Supervisor
    duplicate: bool


@dataclass(frozen=True)
class Filed:
    suggestion: Suggestion
    duplicate: bool


def as_terms(rows: list[SupervisorTerm]) -> list[Term]:
    return [Term(r.starts_on, r.ends_on, r.exited_on) for r in rows]


async def _terms(session: AsyncSession, supervisor: Supervisor) -> list[SupervisorTerm]:
    assert supervisor.id is not None
    return await repository.terms_of(session, [supervisor.id])


async def enter_supervisor(
    session: AsyncSession, request: EnterSupervisor, ctx: Context
) -> Entered | Refusal:
    if refusal := require_role(
        request.actor, Role.OFFICE, action=("登记监督员", "enter a supervisor")
    ):
        return refusal
    content = fingerprint(request)
    existing = await repository.find_supervisor(session, request.supervisor_id)
    if existing is not None:
        if existing.fingerprint == content:
            return Entered(existing, duplicate=True)
        return id_conflict("supervisor_id", request.supervisor_id, "监督员", "entered")
    if refusal := term_refusal(request.term_starts_on, request.term_ends_on, []):
        return refusal
    now = ctx.clock()
    row = Supervisor(
        supervisor_id=request.supervisor_id,
        name=request.name,
        category=request.category.value,
        affiliation=request.affiliation,
        fingerprint=content,
        entered_at=now,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    session.add(
        SupervisorTerm(
            supervisor_pk=row.id, starts_on=request.term_starts_on, ends_on=request.term_ends_on
        )
    )
    await journal(
        session,
        Change("supervisor", row.supervisor_id, None, "entered"),
        JournalActor.of(request.actor),
        now,
        request.model_dump(mode="json", exclude={"actor"}),
    )
    return Entered(row, duplicate=False)


async def add_term(
    session: AsyncSession, supervisor_id: str, request: AddTerm, ctx: Context
) -> Supervisor | Refusal:
    if refusal := require_role(
        request.actor, Role.OFFICE, action=("续聘监督员", "appoint a supervisor")
    ):
        return refusal
    supervisor = await repository.find_supervisor(session, supervisor_id)
    if supervisor is None or supervisor.id is None:
        return Refusal(
            RefusalCode.UNKNOWN_SUPERVISOR, supervisor_id, f"supervisor {supervisor_id!r}"
        )
    terms = as_terms(await _terms(session, supervisor))
    if refusal := term_refusal(request.starts_on, request.ends_on, terms):
        return refusal
    session.add(
        SupervisorTerm(
            supervisor_pk=supervisor.id, starts_on=request.starts_on, ends_on=request.ends_on
        )
    )
    await journal(
        session,
        Change("supervisor", supervisor_id, None, "term_added"),
        JournalActor.of(request.actor),
        ctx.clock(),
        request.model_dump(mode="json", exclude={"actor"}),
    )
    return supervisor


async def exit_supervisor(
    session: AsyncSession, supervisor_id: str, request: ExitSupervisor, ctx: Context
) -> Supervisor | Refusal:
    if refusal := require_role(
        request.actor, Role.OFFICE, action=("登记监督员退出", "record a supervisor's exit")
    ):
        return refusal
    supervisor = await repository.find_supervisor(session, supervisor_id)
    if supervisor is None:
        return Refusal(
            RefusalCode.UNKNOWN_SUPERVISOR, supervisor_id, f"supervisor {supervisor_id!r}"
        )
    rows = await _terms(session, supervisor)
    if refusal := exit_refusal(request.exited_on, as_terms(rows)):
        return refusal
    index = current_term(as_terms(rows), request.exited_on)
    assert index is not None
    rows[index].exited_on = request.exited_on
    rows[index].exit_reason = request.reason
    await journal(
        session,
        Change("supervisor", supervisor_id, None, "exited"),
        JournalActor.of(request.actor),
        ctx.clock(),
        request.model_dump(mode="json", exclude={"actor"}),
    )
    return supervisor


async def file_suggestion(
    session: AsyncSession, request: FileSuggestion, ctx: Context
) -> Filed | Refusal:
    now = ctx.clock()
    today = local_date(now)
    supervisor = await repository.find_supervisor(session, request.supervisor_id)
    terms = None if supervisor is None else as_terms(await _terms(session, supervisor))
    due_date = request.due_date or today + timedelta(days=ctx.suggestion_answer_days)
    if refusal := filing_refusal(request, terms, due_date, today, ctx.reference):
        return refusal
    assert supervisor is not None and supervisor.id is not None
    content = fingerprint(request)
    existing = await repository.find_suggestion(session, request.suggestion_id)
    if existing is not None:
        if existing.fingerprint == content:
            return Filed(existing, duplicate=True)
        return id_conflict("suggestion_id", request.suggestion_id, "监督员建议", "filed")
    row = Suggestion(
        suggestion_id=request.suggestion_id,
        supervisor_pk=supervisor.id,
        unit=request.unit,
        title=request.title,
        content=request.content,
        state=SuggestionState.ASSIGNED.value,
        due_date=due_date,
        filed_at=now,
        last_answer_evidence=[],
        fingerprint=content,
    )
    session.add(row)
    await session.flush()
    event = SuggestionFiled(
        suggestion_id=row.suggestion_id,
        unit=row.unit,
        unit_name=ctx.reference.unit_name(row.unit),
        supervisor_id=supervisor.supervisor_id,
        supervisor_name=supervisor.name,
        title=row.title,
        filed_at=now,
        due_date=due_date,
    )
    event_id = await emit(session, event, row.unit, fact_id(event.NAME, row.suggestion_id), now)
    await journal(
        session,
        Change("suggestion", row.suggestion_id, row.unit, "filed", None, row.state),
        JournalActor.of(request.actor),
        now,
        {"supervisor_id": supervisor.supervisor_id, "due_date": due_date.isoformat()},
        event_id,
    )
    return Filed(row, duplicate=False)


def unknown_suggestion(suggestion_id: str) -> Refusal:
    return Refusal(RefusalCode.UNKNOWN_SUGGESTION, suggestion_id, f"suggestion {suggestion_id!r}")


async def _suggestion_and_supervisor(
    session: AsyncSession, suggestion_id: str
) -> tuple[Suggestion, Supervisor] | Refusal:
    row = await repository.find_suggestion(session, suggestion_id)
    if row is None:
        return unknown_suggestion(suggestion_id)
    supervisor = await session.get(Supervisor, row.supervisor_pk)
    assert supervisor is not None, "a suggestion always has its supervisor"
    return row, supervisor


async def answer_suggestion(
    session: AsyncSession, suggestion_id: str, request: AnswerSuggestion, ctx: Context
) -> Suggestion | Refusal:
    found = await _suggestion_and_supervisor(session, suggestion_id)
    if isinstance(found, Refusal):
        return found
    row, supervisor = found
    before = SuggestionState(row.state)
    step = step_fingerprint("answer", request)
    if refusal := answer_refusal(request, before, row.unit):
        return row if is_retry(refusal, row.last_step, step) else refusal
    now = ctx.clock()
    row.last_step = step
    row.answer_count += 1
    row.last_answer = request.answer
    row.last_answer_evidence = [e.model_dump() for e in request.evidence]
    row.last_answered_at = now
    row.answered_on_time = local_date(now) <= row.due_date
    row.state = SuggestionState.ANSWERED.value
    await session.flush()
    event = SuggestionAnswered(
        suggestion_id=row.suggestion_id,
        unit=row.unit,
        unit_name=ctx.reference.unit_name(row.unit),
        supervisor_id=supervisor.supervisor_id,
        supervisor_name=supervisor.name,
        title=row.title,
        answer_number=row.answer_count,
        answered_at=now,
        due_date=row.due_date,
        on_time=row.answered_on_time,
        days_late=days_late(now, row.due_date),
    )
    event_id = await emit(
        session, event, row.unit, fact_id(event.NAME, row.suggestion_id, row.answer_count), now
    )
    await journal(
        session,
        Change("suggestion", row.suggestion_id, row.unit, "answered", before, row.state),
        JournalActor.of(request.actor),
        now,
        request.model_dump(mode="json", exclude={"actor"}),
        event_id,
    )
    return row


async def record_feedback(
    session: AsyncSession, suggestion_id: str, request: SuggestionFeedback, ctx: Context
) -> Suggestion | Refusal:
    found = await _suggestion_and_supervisor(session, suggestion_id)
    if isinstance(found, Refusal):
        return found
    row, supervisor = found
    now = ctx.clock()
    before = SuggestionState(row.state)
    step = step_fingerprint("feedback", request)
    if refusal := feedback_refusal(request, before, supervisor.supervisor_id, local_date(now)):
        return row if is_retry(refusal, row.last_step, step) else refusal
    row.last_step = step
    row.feedback_satisfied = request.satisfied
    row.feedback_comment = request.comment
    if request.satisfied:
        row.state = SuggestionState.CLOSED.value
    else:
        assert request.due_date is not None, "the schema requires it"
        row.state = SuggestionState.ASSIGNED.value
        row.due_date = request.due_date
    await session.flush()
    await journal(
        session,
        Change("suggestion", row.suggestion_id, row.unit, "feedback", before, row.state),
        JournalActor.of(request.actor),
        now,
        request.model_dump(mode="json", exclude={"actor"}),
    )
    return row
