"""A refusal's detail over HTTP, as a client reads it: Chinese by default (units, measures and
periods by name, dates as an office writes them), English on Accept-Language: en, beside the
title in the same language. The services run in this process on a SQLite file of their own; no
NATS is needed to refuse."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.inspections.bootstrap import build as build_inspections
from services.inspections.settings import InspectionsSettings
from services.runtime.clock import FileClock
from services.scoring.bootstrap import build as build_scoring
from services.scoring.settings import ScoringSettings
from tests import auth
from tests.unit.test_problem_texts import english_words

EN = {"Accept-Language": "en"}


@asynccontextmanager
async def client(app: FastAPI, role: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://service", headers=auth.headers(role)
    ) as http:
        yield http


async def test_an_inspection_refusal_says_why_in_chinese_and_in_english(tmp_path: Path) -> None:
    clock = FileClock(tmp_path / "clock")
    clock.set(datetime(2026, 6, 15, 2, tzinfo=UTC))  # 10:00 on 15 June in China
    runtime, app = build_inspections(
        InspectionsSettings(data_dir=tmp_path, clock_file=clock.path, log_format="console")
    )
    inspection = {
        "inspection_id": "2026-DC-0001",
        "actor": {"role": "inspector", "id": "insp-007", "name": "王敏"},
        "kind": "special",
        "method": "unannounced",
        "title": "营商环境专项督查",
        "inspector": "市五型办督查组",
        "inspected_on": "2026-06-15",
        "target_units": ["360102", "360102"],
    }
    try:
        async with client(app, "inspector") as http:
            zh = await http.post("/v1/inspections", json=inspection)
            en = await http.post("/v1/inspections", json=inspection, headers=EN)
    finally:
        await runtime.db.dispose()
    assert zh.status_code == en.status_code == 422
    assert zh.json()["code"] == "duplicate_target_units"
    assert zh.json()["title"] == "被督查单位重复"
    assert zh.json()["detail"] == "重复列出的单位：东湖区"
    assert en.json()["title"] == "A target unit is listed more than once"
    assert en.json()["detail"] == "listed more than once: ['360102']"


async def test_a_scoring_refusal_says_why_in_chinese_and_in_english(tmp_path: Path) -> None:
    settings = ScoringSettings(data_dir=tmp_path, rubric_dir=tmp_path, log_format="console")
    runtime, app = build_scoring(settings, clock=lambda: datetime(2026, 6, 15, tzinfo=UTC))
    runtime.migrate()
    try:
        async with client(app, "viewer") as http:
            zh = await http.get("/v1/rubrics/2030")
            en = await http.get("/v1/rubrics/2030", headers=EN)
    finally:
        await runtime.db.dispose()
    assert zh.status_code == en.status_code == 404
    assert (zh.json()["title"], zh.json()["detail"]) == (
        "该年度没有考核评分细则",
        "2030年度没有考核评分细则",
    )
    assert not english_words(zh.json()["detail"])
    assert en.json()["detail"] == "no rubric for programme year 2030"
