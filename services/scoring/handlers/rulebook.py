"""The rubrics the service knows: every version ever activated (kept for appeals), the one in
force per programme year, and the files they are loaded from.

A version is immutable: the same version with other content is refused, and a version comes into
force only if it is newer than the one in force. Every activation is stored, published as
RubricActivated (so a replay restores it) and marks all units for rescoring. A file that fails
validation is refused with every problem listed and changes nothing.
"""

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import subjects
from contracts.envelope import fact_id, wrap
from contracts.scoring import RubricActivated
from services.runtime.db import Database
from services.runtime.field_errors import FieldProblem
from services.runtime.messaging import add_to_outbox
from services.scoring.adapters import repository
from services.scoring.domain.rubric import (
    Rubric,
    RubricRefused,
    parse_rubric,
    rubric_from_document,
)
from services.scoring.domain.workflow import Explained

log = structlog.get_logger()
SOURCE = "fivetype/scoring"
DEFAULT_RUBRIC_DIR = Path(__file__).parents[1] / "rubrics"


class RubricConflict(Explained):
    """The version exists with other content."""


class RubricNotNewer(Explained):
    """A newer version of the year is already in force."""


@dataclass
class RuleBook:
    office: str
    versions: dict[tuple[int, str], Rubric] = field(default_factory=dict)
    # file name -> the problems that kept it out (empty once it loaded)
    file_problems: dict[str, list[FieldProblem]] = field(default_factory=dict)
    _file_digests: dict[str, str] = field(default_factory=dict, init=False)

    def in_force(self, year: int) -> Rubric | None:
        candidates = [r for (y, _), r in self.versions.items() if y == year]
        return max(candidates, key=lambda r: r.number, default=None)

    def version(self, year: int, version: str) -> Rubric | None:
        return self.versions.get((year, version))

    @property
    def years(self) -> list[int]:
        return sorted({year for year, _ in self.versions})

    async def refresh(self, session: AsyncSession) -> None:
        """Pick up versions activated by this or another replica since the last look."""
        for row in await repository.rubric_rows(session):
            if (row.year, row.version) in self.versions:
                continue
            try:
                self.versions[(row.year, row.version)] = rubric_from_document(
                    row.document, row.source
                )
            except RubricRefused as refused:  # stored under older code; keep the rest usable
                log.error("stored rubric no longer valid", errors=refused.errors)

    async def activate(
        self, session: AsyncSession, rubric: Rubric, source: str, now: datetime
    ) -> bool:
        """Bring `rubric` into force in the caller's transaction; False if already in force.
        Call `refresh` after the commit."""
        await self.refresh(session)
        existing = self.version(rubric.programme_year, rubric.version)
        if existing is not None:
            if existing.sha256 != rubric.sha256:
                raise RubricConflict(
                    f"版本 {rubric.version} 已以不同内容生效，修改后的评分细则请使用新版本号",
                    f"version {rubric.version} is already in force with other content; "
                    "give the changed rubric a new version",
                )
            return False
        current = self.in_force(rubric.programme_year)
        if current is not None and current.number >= rubric.number:
            raise RubricNotNewer(
                f"{rubric.programme_year}年度生效的是版本 {current.version}，"
                f"版本 {rubric.version} 并不更新",
                f"version {current.version} is in force for {rubric.programme_year}; "
                f"{rubric.version} is not newer",
            )
        await store_activation(session, rubric, source, now, self.office)
        return True

    async def load_files(
        self, db: Database, directory: Path, clock: Callable[[], datetime]
    ) -> dict[str, str]:
        """Load the rubric files that changed since the last look; file name -> outcome."""
        outcomes = {}
        for path, text in await asyncio.to_thread(_read_files, directory):
            digest = hashlib.sha256(text.encode()).hexdigest()
            if self._file_digests.get(path.name) == digest:
                continue
            outcomes[path.name] = await self._load_file(db, path, text, clock)
            self._file_digests[path.name] = digest
        return outcomes

    async def _load_file(
        self, db: Database, path: Path, text: str, clock: Callable[[], datetime]
    ) -> str:
        try:
            rubric = parse_rubric(text, path.name)
            if path.stem != str(rubric.programme_year):
                year = rubric.programme_year
                held = FieldProblem(
                    "programme_year",
                    f"文件 {path.name} 中为 {year} 年度",
                    f"file {path.name} holds programme year {year}",
                )
                raise RubricRefused(path.name, [held])
            async with db.session() as session, session.begin():
                activated = await self.activate(session, rubric, f"file:{path.name}", clock())
        except RubricRefused as refused:
            self.file_problems[path.name] = refused.problems
            log.error(
                "rubric file refused; the rubric in force stays",
                file=path.name,
                errors=refused.errors,
            )
            return "refused"
        except (RubricConflict, RubricNotNewer) as problem:
            said = FieldProblem("", problem.detail_zh, problem.detail_en)
            self.file_problems[path.name] = [said]
            log.warning("rubric file not activated", file=path.name, reason=str(problem))
            return "not_activated"
        self.file_problems[path.name] = []
        async with db.session() as session:
            await self.refresh(session)
        log.info("rubric file loaded", file=path.name, version=rubric.version, activated=activated)
        return "activated" if activated else "unchanged"


def _read_files(directory: Path) -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.yaml"))]


async def store_activation(
    session: AsyncSession, rubric: Rubric, source: str, now: datetime, office: str
) -> None:
    """Store a version as in force, publish it and mark every unit for rescoring. Idempotent:
    a replayed activation of a stored version changes nothing."""
    event = wrap(
        RubricActivated(
            year=rubric.programme_year,
            version=rubric.version,
            sha256=rubric.sha256,
            title_zh=rubric.title_zh,
            source=source,
            activated_at=now,
            document=rubric.document(),
        ),
        subject=office,
        source=SOURCE,
        id=fact_id("RubricActivated", rubric.programme_year, rubric.version, rubric.sha256),
        time=now,
    )
    await repository.add_rubric(
        session,
        rubric.document(),
        year=rubric.programme_year,
        version=rubric.version,
        number=rubric.number,
        sha256=rubric.sha256,
        source=source,
        activated_at=now,
    )
    await add_to_outbox(session, event, subjects.event(RubricActivated.NAME, office))
    await repository.mark_dirty(session, await repository.scored_units(session))
